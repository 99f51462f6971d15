package command

import (
	"context"
	"encoding/json"
	"testing"
)

// cost lists the standing items and their total, and each runner type's
// price an hour, on demand and on Spot, labelled as an estimate.
func TestCost(t *testing.T) {
	ct := newCommandTest(t)
	code, err := Cost(context.Background(), ct.options(false, ""), CostOptions{})
	ct.want("cost", code, 0, err, "estimate from us-east-1 on-demand prices of", "ITEM", "NAT gateway", "public IPv4 address (Elastic IP)",
		"KMS key (the stack's own)", "total", "TYPE       ON DEMAND USD/HOUR  SPOT NOW USD/HOUR", "t3.medium  0.0416              0.0125")
	code, err = Cost(context.Background(), ct.options(false, ""), CostOptions{JSON: true})
	ct.want("cost --json", code, 0, err)
	var rep CostReport
	if err := json.Unmarshal(ct.out.Bytes(), &rep); err != nil || rep.Monthly < 40 || len(rep.Machines) != 1 || rep.Machines[0].Spot == nil {
		t.Errorf("cost --json: %+v %v", rep, err)
	}
}
