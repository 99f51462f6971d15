package plan

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func fast(int) time.Duration { return time.Millisecond }

// Independent steps run at once, never more than Parallelism, and a step
// starts only after everything it depends on.
func TestExecutorConcurrencyAndOrder(t *testing.T) {
	var running, peak atomic.Int32
	var mu sync.Mutex
	var finished []ID
	steps := []Step{}
	mk := func(id ID, deps ...ID) *fakeStep {
		s := &fakeStep{id: id, deps: deps, action: Create}
		s.onApply = func() {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(20 * time.Millisecond)
			running.Add(-1)
			mu.Lock()
			finished = append(finished, id)
			mu.Unlock()
		}
		steps = append(steps, s)
		return s
	}
	mk("root")
	for _, id := range []ID{"a", "b", "c", "d", "e"} {
		mk(id, "root")
	}
	mk("last", "a", "b", "c", "d", "e")
	g, err := NewGraph(steps...)
	if err != nil {
		t.Fatal(err)
	}
	res := (&Executor{Parallelism: 3, Apply: true, RetryDelay: fast}).Run(context.Background(), g)
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p != 3 {
		t.Errorf("peak concurrency = %d, want 3 (5 independent steps, parallelism 3)", p)
	}
	if finished[0] != "root" || finished[len(finished)-1] != "last" {
		t.Errorf("finish order %v breaks dependencies", finished)
	}
	if len(res.Changes) != 7 || Summarize(res.Changes).Add != 7 {
		t.Errorf("changes = %+v", res.Changes)
	}
}

// Plan mode never applies; NoOp steps are never applied.
func TestExecutorPlanOnly(t *testing.T) {
	a := &fakeStep{id: "a", action: Create}
	b := &fakeStep{id: "b", deps: []ID{"a"}, action: NoOp}
	g, _ := NewGraph(a, b)
	res := (&Executor{Parallelism: 2}).Run(context.Background(), g)
	if res.Err() != nil || a.applied+b.applied != 0 {
		t.Fatalf("plan applied something: %v %d %d", res.Err(), a.applied, b.applied)
	}
	(&Executor{Parallelism: 2, Apply: true}).Run(context.Background(), g)
	if a.applied != 1 || b.applied != 0 {
		t.Errorf("applied a=%d b=%d, want 1 and 0", a.applied, b.applied)
	}
}

func TestExecutorRetriesTryAgain(t *testing.T) {
	a := &fakeStep{id: "a", action: Create, tryAgain: 3}
	g, _ := NewGraph(a)
	res := (&Executor{Parallelism: 1, Apply: true, RetryDelay: fast}).Run(context.Background(), g)
	if res.Err() != nil || a.planned != 4 || a.applied != 1 {
		t.Fatalf("err=%v planned=%d applied=%d", res.Err(), a.planned, a.applied)
	}
	// A step that never gets ready fails at its deadline, naming the cause.
	b := &fakeStep{id: "b", action: Create, tryAgain: 1 << 30}
	g, _ = NewGraph(b)
	res = (&Executor{Parallelism: 1, Apply: true, RetryDelay: fast, StepTimeout: 50 * time.Millisecond}).Run(context.Background(), g)
	if err := res.Err(); err == nil || !strings.Contains(err.Error(), "b not ready") || !strings.Contains(err.Error(), "still not done") {
		t.Fatalf("deadline error = %v", err)
	}
}

// A failure stops what depends on it, but independent steps still run.
func TestExecutorFailureSkipsDependents(t *testing.T) {
	boom := errors.New("boom")
	a := &fakeStep{id: "a", fail: boom}
	b := &fakeStep{id: "b", deps: []ID{"a"}, action: Create}
	c := &fakeStep{id: "c", action: Create}
	g, _ := NewGraph(a, b, c)
	res := (&Executor{Parallelism: 2, Apply: true}).Run(context.Background(), g)
	err := res.Err()
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "b: not run because a failed") {
		t.Fatalf("err = %v", err)
	}
	if b.planned != 0 || c.applied != 1 {
		t.Errorf("b planned %d times (want 0), c applied %d (want 1)", b.planned, c.applied)
	}
}

// After an interrupt no new step starts; the running one finishes.
func TestExecutorInterrupt(t *testing.T) {
	interrupt := make(chan struct{})
	a := &fakeStep{id: "a", action: Create}
	a.onApply = func() { close(interrupt) }
	b := &fakeStep{id: "b", deps: []ID{"a"}, action: Create}
	g, _ := NewGraph(a, b)
	res := (&Executor{Parallelism: 2, Apply: true, Interrupt: interrupt}).Run(context.Background(), g)
	if a.applied != 1 || b.planned != 0 {
		t.Fatalf("a applied %d, b planned %d", a.applied, b.planned)
	}
	if !res.Interrupted || !errors.Is(res.Err(), ErrInterrupted) {
		t.Fatalf("interrupt not reported: %v", res.Err())
	}
}

// An interrupt also stops a step that waits to try again, at once, not
// after its deadline.
func TestExecutorInterruptStopsAWaitingStep(t *testing.T) {
	interrupt := make(chan struct{})
	a := &fakeStep{id: "a", action: Create, tryAgain: 1 << 30}
	g, _ := NewGraph(a)
	slow := func(int) time.Duration { return time.Hour }
	go func() { time.Sleep(50 * time.Millisecond); close(interrupt) }()
	start := time.Now()
	res := (&Executor{Parallelism: 1, Apply: true, RetryDelay: slow, Interrupt: interrupt}).Run(context.Background(), g)
	if time.Since(start) > 10*time.Second || !errors.Is(res.Err(), ErrInterrupted) {
		t.Fatalf("after %s: %v", time.Since(start), res.Err())
	}
}

// Destroy walks backwards: dependents are deleted first.
func TestExecutorDestroyOrder(t *testing.T) {
	var mu sync.Mutex
	var order []ID
	rec := func(id ID) func() {
		return func() { mu.Lock(); order = append(order, id); mu.Unlock() }
	}
	vpc := &fakeStep{id: "vpc"}
	subnet := &fakeStep{id: "subnet", deps: []ID{"vpc"}}
	nat := &fakeStep{id: "nat", deps: []ID{"subnet"}}
	vpc.onDelete, subnet.onDelete, nat.onDelete = rec("vpc"), rec("subnet"), rec("nat")
	g, _ := NewGraph(vpc, subnet, nat)
	res := (&Executor{Parallelism: 8, Apply: true, Destroy: true}).Run(context.Background(), g)
	if res.Err() != nil || len(order) != 3 || order[0] != "nat" || order[2] != "vpc" {
		t.Fatalf("destroy order %v, err %v", order, res.Err())
	}
}

func TestDefaultRetryDelay(t *testing.T) {
	for _, c := range []struct {
		attempt int
		want    time.Duration
	}{{1, 250 * time.Millisecond}, {2, 500 * time.Millisecond}, {3, time.Second}, {60, time.Second}, {61, 2 * time.Second}, {62, 4 * time.Second}, {100, 10 * time.Second}} {
		if got := DefaultRetryDelay(c.attempt); got != c.want {
			t.Errorf("DefaultRetryDelay(%d) = %s, want %s", c.attempt, got, c.want)
		}
	}
}
