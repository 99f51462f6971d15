package command

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/provision-dev/provision/pkg/plan"
)

// plan --json prints the changes as one document, and with -destroy the teardown.
func TestPlanJSON(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	code, err := Plan(ctx, ct.options(false, ""), PlanOptions{JSON: true})
	ct.want("plan --json", code, 0, err)
	var p plan.JSONPlan
	if err := json.Unmarshal(ct.out.Bytes(), &p); err != nil {
		t.Fatalf("plan --json is not JSON: %v\n%s", err, ct.out.String())
	}
	if p.Stack != "unit" || p.Region != "eu-west-1" || p.Destroy || len(p.Changes) != 2 || p.Changes[0].Action != "create" || p.Summary.Add != 2 {
		t.Errorf("plan --json: %+v", p)
	}
	ct.built()
	code, err = Plan(ctx, ct.options(false, ""), PlanOptions{JSON: true, Destroy: true})
	ct.want("plan -destroy --json", code, 0, err)
	p = plan.JSONPlan{}
	if err := json.Unmarshal(ct.out.Bytes(), &p); err != nil || !p.Destroy || p.Summary.Destroy != 2 {
		t.Errorf("plan -destroy --json: %+v %v", p, err)
	}
}
