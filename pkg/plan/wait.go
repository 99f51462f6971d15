package plan

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrCancelled says the person cancelled the run (a second Ctrl-C): the
// calls in flight were abandoned, which is not a failure of the resource.
var ErrCancelled = errors.New("cancelled by the user: the calls in flight were abandoned; run the same command again to continue")

// stepRun is what the executor hands a running step through its context:
// where to report what it waits for, and the run's interrupt.
type stepRun struct {
	step      ID
	walk      string
	report    func(status string)
	made      func(id string)
	interrupt <-chan struct{}
}

type stepRunKey struct{}

func withStepRun(ctx context.Context, r stepRun) context.Context {
	return context.WithValue(ctx, stepRunKey{}, r)
}

func stepRunOf(ctx context.Context) stepRun {
	r, _ := ctx.Value(stepRunKey{}).(stepRun)
	return r
}

// StepOf names the step and the walk ("plan", "apply", "plan-delete",
// "delete") a context belongs to; "" outside an executor.
func StepOf(ctx context.Context) (step ID, walk string) {
	r := stepRunOf(ctx)
	return r.step, r.walk
}

// Report tells the person watching what a step is waiting for right now,
// e.g. "nat-0abc, pending". Outside an executor it does nothing.
func Report(ctx context.Context, status string) {
	if r := stepRunOf(ctx); r.report != nil {
		r.report(status)
	}
}

// Made tells the executor the id of the resource a step just created, so
// that its progress line and its change in the result carry it.
func Made(ctx context.Context, id string) {
	if r := stepRunOf(ctx); r.made != nil {
		r.made(id)
	}
}

// Poll calls check until it says done, pausing between calls (PollDelay),
// so readiness is noticed within a second or so of AWS reaching it. Each
// status check returns is reported. The first Ctrl-C ends the wait at
// once (waiting is not a change; the next run picks it up), as does the
// end of ctx.
func Poll(ctx context.Context, what string, check func(ctx context.Context) (status string, done bool, err error)) error {
	status := ""
	start := time.Now()
	for {
		s, done, err := check(ctx)
		if err != nil || done {
			return err
		}
		status = s
		Report(ctx, status)
		t := time.NewTimer(PollDelay(time.Since(start)))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("gave up waiting for %s (last seen: %s): %w", what, status, cause(ctx))
		case <-stepRunOf(ctx).interrupt:
			t.Stop()
			return fmt.Errorf("stopped waiting for %s (last seen: %s): %w", what, status, ErrInterrupted)
		case <-t.C:
		}
	}
}

// PollDelay is the pause before the next look, after a wait of elapsed so
// far: 0.5 s for the first second (most resources are ready within
// seconds of the answer to their create), 1 s until two minutes (a NAT
// gateway's minute or two is then noticed within a second: about 60
// describes, against EC2's per-API bucket of 100 describes refilled at 20
// a second), then a sixtieth of the time waited, at most 5 s, so a long
// wait is noticed late by at most a sixtieth of its length.
func PollDelay(elapsed time.Duration) time.Duration {
	switch {
	case elapsed < time.Second:
		return 500 * time.Millisecond
	case elapsed < 2*time.Minute:
		return time.Second
	}
	return min(elapsed/60, 5*time.Second)
}

// cause is why ctx ended, in words: a user's cancellation or a deadline.
func cause(ctx context.Context) error {
	if c := context.Cause(ctx); c != nil {
		return c
	}
	return ctx.Err()
}
