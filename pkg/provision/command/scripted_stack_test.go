package command

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/ops"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// scriptedStack is the fake stack with answers a test sets: each func,
// when set, replaces the fake's own answer (n counts the calls from 0).
type scriptedStack struct {
	fakeStack
	mu           sync.Mutex
	bootCalls    int
	runnerCalls  int
	fresh        []bool // what each BootReport call asked
	bootReport   func(n int) (*stack.BootReport, error)
	runnerOnline func(n int) (string, error)
	doctor       func() ([]ops.Flow, error)
	diagnosis    ops.BootDiagnosis
	retired      func(ledger *state.Ledger) (*plan.Graph, error)
	steps        func(ledger *state.Ledger) (*plan.Graph, error)
	facts        *ops.Facts
}

// use makes o build this stack.
func (s *scriptedStack) use(o Options) Options {
	o.NewStack = func(*config.Config, aws.Config, Options) Stack { return s }
	return o
}

func (s *scriptedStack) BootReport(ctx context.Context, l *state.Ledger, fresh bool) (*stack.BootReport, error) {
	s.mu.Lock()
	n := s.bootCalls
	s.bootCalls++
	s.fresh = append(s.fresh, fresh)
	s.mu.Unlock()
	if s.bootReport == nil {
		return s.fakeStack.BootReport(ctx, l, fresh)
	}
	return s.bootReport(n)
}

func (s *scriptedStack) RunnerOnline(ctx context.Context, l *state.Ledger) (string, error) {
	s.mu.Lock()
	n := s.runnerCalls
	s.runnerCalls++
	s.mu.Unlock()
	if s.runnerOnline == nil {
		return s.fakeStack.RunnerOnline(ctx, l)
	}
	return s.runnerOnline(n)
}

func (s *scriptedStack) Doctor(ctx context.Context, l *state.Ledger) ([]ops.Flow, error) {
	if s.doctor == nil {
		return s.fakeStack.Doctor(ctx, l)
	}
	return s.doctor()
}

func (s *scriptedStack) DiagnoseBoot(context.Context, *state.Ledger, *stack.BootReport) ops.BootDiagnosis {
	return s.diagnosis
}

func (s *scriptedStack) Retired(l *state.Ledger, o stack.EnvOptions) (*plan.Graph, error) {
	if s.retired == nil {
		return s.fakeStack.Retired(l, o)
	}
	return s.retired(l)
}

func (s *scriptedStack) Steps(l *state.Ledger, o stack.EnvOptions) (*plan.Graph, error) {
	if s.steps == nil {
		return s.fakeStack.Steps(l, o)
	}
	return s.steps(l)
}

// failingStep is a fake step whose Apply fails.
type failingStep struct {
	*fakeStep
	err error
}

func (s failingStep) Apply(context.Context, plan.Change) error { return s.err }

func (s *scriptedStack) Inspect(ctx context.Context, l *state.Ledger) ops.Facts {
	if s.facts == nil {
		return s.fakeStack.Inspect(ctx, l)
	}
	return *s.facts
}

// kindStep is a fake step whose plan line has another kind.
type kindStep struct {
	*fakeStep
	kind string
}

func (s kindStep) Plan(ctx context.Context) (plan.Change, error) {
	c, err := s.fakeStep.Plan(ctx)
	c.Kind = s.kind
	return c, err
}
