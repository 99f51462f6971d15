package awsapi

import (
	"context"

	"github.com/provision-dev/provision/pkg/plan"
)

// funcStep is a step whose every phase calls do with the phase's name.
type funcStep struct {
	id plan.ID
	do func(ctx context.Context, phase string) error
}

func (s funcStep) ID() plan.ID          { return s.id }
func (s funcStep) DependsOn() []plan.ID { return nil }
func (s funcStep) Plan(ctx context.Context) (plan.Change, error) {
	return plan.Change{Step: s.id}, s.do(ctx, "plan")
}
func (s funcStep) Apply(ctx context.Context, _ plan.Change) error { return s.do(ctx, "apply") }
func (s funcStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	return plan.Change{Step: s.id}, s.do(ctx, "plan-delete")
}
func (s funcStep) Delete(ctx context.Context, _ plan.Change) error { return s.do(ctx, "delete") }
