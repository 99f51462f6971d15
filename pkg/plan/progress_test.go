package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// pollStep creates a resource that is "pending" for a while: its Apply
// polls the way the AWS steps wait for a NAT gateway or an instance.
type pollStep struct {
	id      ID
	pending int // looks before it is ready; -1: never
	looks   int
}

func (s *pollStep) ID() ID          { return s.id }
func (s *pollStep) DependsOn() []ID { return nil }
func (s *pollStep) Plan(context.Context) (Change, error) {
	return Change{Step: s.id, Kind: "nat-gateway", Action: Create}, nil
}
func (s *pollStep) Apply(ctx context.Context, c Change) error {
	return Poll(ctx, "nat-0abc to be available", func(context.Context) (string, bool, error) {
		s.looks++
		if s.pending >= 0 && s.looks > s.pending {
			return "available", true, nil
		}
		return "nat-0abc, pending", false, nil
	})
}
func (s *pollStep) PlanDelete(context.Context) (Change, error) { return Change{Step: s.id}, nil }
func (s *pollStep) Delete(context.Context, Change) error       { return nil }

// syncBuffer is a bytes.Buffer the reminder goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// A wait is visible: the start line, "still creating" lines naming what is
// awaited while it lasts, and the end line with the time it took.
func TestProgressShowsWaits(t *testing.T) {
	var out syncBuffer
	p := NewProgress(&out, false, 300*time.Millisecond)
	p.Start()
	g, _ := NewGraph(&pollStep{id: "nat", pending: 3}) // 0.5 + 0.5 + 1 s of waiting
	res := (&Executor{Parallelism: 1, Apply: true, Observe: p.Observe}).Run(context.Background(), g)
	p.Stop()
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if lines[0] != "nat: creating" {
		t.Errorf("first line %q, want %q", lines[0], "nat: creating")
	}
	if !strings.Contains(text, "nat: still creating (nat-0abc, pending) [") || !strings.Contains(text, "s elapsed]") {
		t.Errorf("no line names the wait:\n%s", text)
	}
	// 0.5 + 0.5 + 1 s of pauses; a slow machine may add some.
	if last := lines[len(lines)-1]; !regexp.MustCompile(`^nat: created \[[2-4](\.\d)?s\]$`).MatchString(last) {
		t.Errorf("last line %q, want the creation with its time", last)
	}
}

// Waits notice readiness within a second for two minutes, then within a
// sixtieth of the time waited, never later than 5 s.
func TestPollDelay(t *testing.T) {
	for _, c := range []struct{ elapsed, want time.Duration }{
		{0, 500 * time.Millisecond},
		{900 * time.Millisecond, 500 * time.Millisecond},
		{time.Second, time.Second},
		{119 * time.Second, time.Second},
		{3 * time.Minute, 3 * time.Second},
		{time.Hour, 5 * time.Second},
	} {
		if got := PollDelay(c.elapsed); got != c.want {
			t.Errorf("PollDelay(%s) = %s, want %s", c.elapsed, got, c.want)
		}
	}
}

func TestProgressJSON(t *testing.T) {
	var out syncBuffer
	p := NewProgress(&out, true, time.Hour)
	g, _ := NewGraph(&pollStep{id: "nat", pending: 0})
	(&Executor{Parallelism: 1, Apply: true, Observe: p.Observe}).Run(context.Background(), g)
	var events []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		events = append(events, m["event"].(string)+"/"+m["action"].(string))
	}
	if got := strings.Join(events, " "); got != "applying/create done/create" {
		t.Errorf("events %s", got)
	}
}

// The first interrupt ends a wait at once and says what was awaited; a
// cancelled context (the second Ctrl-C) says the user cancelled it.
func TestInterruptStopsAWaitAtOnce(t *testing.T) {
	interrupt := make(chan struct{})
	g, _ := NewGraph(&pollStep{id: "nat", pending: -1})
	time.AfterFunc(200*time.Millisecond, func() { close(interrupt) })
	start := time.Now()
	res := (&Executor{Parallelism: 1, Apply: true, Interrupt: interrupt}).Run(context.Background(), g)
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("the wait went on for %s after the interrupt", took)
	}
	err := res.Err()
	if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "stopped waiting for nat-0abc to be available (last seen: nat-0abc, pending)") {
		t.Errorf("err = %v", err)
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(200*time.Millisecond, func() { cancel(ErrCancelled) })
	res = (&Executor{Parallelism: 1, Apply: true}).Run(ctx, g)
	if err := res.Err(); !errors.Is(err, ErrCancelled) || strings.Contains(err.Error(), "failed") {
		t.Errorf("err = %v, want a cancellation by the user", err)
	}
}

// A failed step's error quotes AWS's message: it is shown without the
// escape sequences in it.
func TestProgressCleansErrors(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		var out syncBuffer
		p := NewProgress(&out, asJSON, time.Hour)
		c := Change{Step: "vpc", Action: Create}
		p.Observe(Event{Change: c, Phase: PhaseApplying})
		p.Observe(Event{Change: c, Phase: PhaseFailed, Err: errors.New("api error \x1b[31mDenied\x1b[0m\rok \u009b2J \u202Eexe"), Elapsed: time.Second})
		for _, ctl := range []string{"\x1b", "\r", "\u009b", "\u202E"} {
			if strings.Contains(out.String(), ctl) {
				t.Errorf("json=%v: progress contains %q:\n%q", asJSON, ctl, out.String())
			}
		}
		if !strings.Contains(out.String(), "[31mDenied[0m") {
			t.Errorf("json=%v: the error is not shown:\n%s", asJSON, out.String())
		}
	}
}
