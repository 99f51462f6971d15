package plan

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults of a walk, used by the commands and their flags alike.
const (
	DefaultParallelism = 8
	DefaultStepTimeout = 15 * time.Minute
)

// Executor walks a graph: every step whose dependencies are done runs at
// once, up to Parallelism at a time. The same walk serves plan (Apply false)
// and apply, so a dry run and a real run share one code path.
type Executor struct {
	Parallelism int
	Apply       bool // false: only Plan / PlanDelete
	Destroy     bool // walk the graph backwards with PlanDelete / Delete

	// StepTimeout bounds one step including its retries.
	StepTimeout time.Duration
	// RetryDelay gives the pause before attempt n+1 after a TryAgain error.
	RetryDelay func(attempt int) time.Duration
	// Interrupt, when closed, stops new steps from starting; running ones
	// finish their current attempt, and a step waiting to try again stops.
	Interrupt <-chan struct{}
	// Observe, if set, hears every event; calls are serialized.
	Observe func(Event)
}

// Event reports progress of one step.
type Event struct {
	Change  Change
	Phase   Phase
	Err     error
	Attempt int
	Elapsed time.Duration
	// Status is what a waiting step waits for (PhaseWaiting, PhaseRetrying).
	Status string
}

// Phase is where a step is in its run.
type Phase string

const (
	PhaseStarted Phase = "started"
	// PhaseApplying: the step found what to change and starts changing it
	// (its Change carries the action).
	PhaseApplying Phase = "applying"
	// PhaseWaiting: a changing step waits for AWS (Report, Poll).
	PhaseWaiting  Phase = "waiting"
	PhaseRetrying Phase = "retrying"
	PhaseDone     Phase = "done"
	PhaseFailed   Phase = "failed"
)

// Result is the outcome of a walk: a change per step that ran, in walk order.
type Result struct {
	Changes []Change
	Errors  []StepError
	// Interrupted is true when Interrupt stopped steps from starting.
	Interrupted bool
}

// StepError is the failure of one step.
type StepError struct {
	Step ID
	Err  error
}

func (e StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }
func (e StepError) Unwrap() error { return e.Err }

// Err joins the step errors, or returns nil.
func (r *Result) Err() error {
	errs := make([]error, 0, len(r.Errors)+1)
	for _, e := range r.Errors {
		errs = append(errs, e)
	}
	if r.Interrupted {
		errs = append(errs, ErrInterrupted)
	}
	return errors.Join(errs...)
}

// ErrInterrupted says the walk stopped early on request.
var ErrInterrupted = errors.New("interrupted: no new steps were started; run the same command again to continue")

// DefaultRetryDelay is 250 ms, 500 ms, then 1 s for a minute of attempts
// (most "not yet" answers, an instance profile EC2 does not know yet or a
// dependency still going away, clear within seconds, and are then noticed
// within a second), then backs off to 10 s.
func DefaultRetryDelay(attempt int) time.Duration {
	switch {
	case attempt <= 2:
		return 250 * time.Millisecond << (attempt - 1)
	case attempt <= 60:
		return time.Second
	}
	return min(time.Second<<min(attempt-60, 4), 10*time.Second)
}

type outcome struct {
	id     ID
	change Change
	err    error
}

// Run walks the graph. It returns when every step has run, failed, or been
// skipped because something it needs failed.
func (e *Executor) Run(ctx context.Context, g *Graph) *Result {
	parallelism := max(e.Parallelism, 1)
	order := g.Order(e.Destroy)
	needs := g.edges(e.Destroy)

	var observeMu sync.Mutex
	observe := func(ev Event) {
		if e.Observe != nil {
			observeMu.Lock()
			defer observeMu.Unlock()
			e.Observe(ev)
		}
	}

	done := map[ID]bool{}
	failed := map[ID]error{}
	started := map[ID]bool{}
	changes := map[ID]Change{}
	results := make(chan outcome)
	running := 0
	res := &Result{}

	for {
		interrupted := isClosed(e.Interrupt) || ctx.Err() != nil
		for _, s := range order {
			id := s.ID()
			if started[id] || running >= parallelism {
				continue
			}
			ready, blocked := true, ID("")
			for _, d := range needs[id] {
				if failed[d] != nil {
					blocked = d
					break
				}
				if !done[d] {
					ready = false
				}
			}
			if blocked != "" {
				started[id] = true
				failed[id] = fmt.Errorf("not run because %s failed", blocked)
				continue
			}
			if !ready {
				continue
			}
			if interrupted {
				res.Interrupted = true
				continue
			}
			started[id] = true
			running++
			go func(s Step) {
				c, err := e.runStep(ctx, s, observe)
				results <- outcome{id: s.ID(), change: c, err: err}
			}(s)
		}
		if running == 0 {
			break
		}
		o := <-results
		running--
		changes[o.id] = o.change
		if o.err != nil {
			failed[o.id] = o.err
		} else {
			done[o.id] = true
		}
	}

	for _, s := range order {
		if c, ok := changes[s.ID()]; ok {
			res.Changes = append(res.Changes, c)
		}
		if err := failed[s.ID()]; err != nil {
			res.Errors = append(res.Errors, StepError{Step: s.ID(), Err: err})
		}
	}
	return res
}

func (e *Executor) runStep(ctx context.Context, s Step, observe func(Event)) (Change, error) {
	timeout := e.StepTimeout
	if timeout <= 0 {
		timeout = DefaultStepTimeout
	}
	delay := e.RetryDelay
	if delay == nil {
		delay = DefaultRetryDelay
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	// current is the change being made, for the waiting events of Report
	// (only the step's own goroutine reports, so no lock).
	current := Change{Step: s.ID()}
	attempt := 1
	madeID := ""
	ctx = withStepRun(ctx, stepRun{
		step:      s.ID(),
		walk:      e.walkName(),
		interrupt: e.Interrupt,
		report: func(status string) {
			observe(Event{Change: current, Phase: PhaseWaiting, Status: status, Attempt: attempt, Elapsed: time.Since(start)})
		},
		made: func(id string) {
			madeID = id
			current.ID = id
		},
	})
	applying := func(c Change) {
		current = c
		observe(Event{Change: c, Phase: PhaseApplying, Attempt: attempt, Elapsed: time.Since(start)})
	}
	observe(Event{Change: current, Phase: PhaseStarted, Attempt: 1})
	fail := func(c Change, err error) (Change, error) {
		if errors.Is(context.Cause(ctx), ErrCancelled) && !errors.Is(err, ErrCancelled) {
			err = fmt.Errorf("%w (while it was %s)", ErrCancelled, verbing(c.Action))
		}
		observe(Event{Change: c, Phase: PhaseFailed, Err: err, Attempt: attempt, Elapsed: time.Since(start)})
		return c, err
	}
	for ; ; attempt++ {
		c, err := e.once(ctx, s, applying)
		if c.Step == "" {
			c.Step = s.ID()
		}
		if c.ID == "" && madeID != "" {
			c.ID = madeID
		}
		if err == nil {
			observe(Event{Change: c, Phase: PhaseDone, Attempt: attempt, Elapsed: time.Since(start)})
			return c, nil
		}
		if !IsTryAgain(err) || ctx.Err() != nil {
			if ctx.Err() != nil && IsTryAgain(err) {
				err = fmt.Errorf("still not done after %s (%d attempts): %w", time.Since(start).Round(time.Second), attempt, err)
			}
			return fail(c, err)
		}
		observe(Event{Change: c, Phase: PhaseRetrying, Err: err, Status: err.Error(), Attempt: attempt, Elapsed: time.Since(start)})
		t := time.NewTimer(delay(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return fail(c, fmt.Errorf("still not done after %s (%d attempts): %w", time.Since(start).Round(time.Second), attempt, err))
		case <-e.Interrupt:
			// A nil Interrupt never fires. Waiting on a NAT gateway or a
			// busy subnet can take minutes: the first Ctrl-C stops here.
			t.Stop()
			return fail(c, fmt.Errorf("%w (stopped waiting to try again: %v)", ErrInterrupted, err))
		case <-t.C:
		}
	}
}

// once plans the step and, when applying, carries out its change; applying
// hears of the change before it is made.
func (e *Executor) once(ctx context.Context, s Step, applying func(Change)) (Change, error) {
	plan, act := s.Plan, s.Apply
	if e.Destroy {
		plan, act = s.PlanDelete, s.Delete
	}
	c, err := plan(ctx)
	if err != nil || !e.Apply || c.Action == NoOp {
		return c, err
	}
	applying(c)
	return c, act(ctx, c)
}

// walkName says what the walk does to each step.
func (e *Executor) walkName() string {
	switch {
	case e.Destroy && e.Apply:
		return "delete"
	case e.Destroy:
		return "plan-delete"
	case e.Apply:
		return "apply"
	}
	return "plan"
}

func isClosed(ch <-chan struct{}) bool {
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
