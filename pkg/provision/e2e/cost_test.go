package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// plan shows the monthly change it makes, labelled as an estimate; cost
// lists the stack's items and each runner type's price on demand and on
// Spot now (the emulator's Spot price history); down shows the saving.
func TestCostOfAStack(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	p := h.mustRun(2, "plan", "--detailed-exitcode")
	for _, want := range []string{"Cost: +$", "/month (estimate from us-east-1 on-demand prices of", "+$32.85/month: NAT gateway", "+$7.30/month: public IPv4 address", "+$1.00/month: KMS key"} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("the plan lacks %q:\n%s", want, p.stdout)
		}
	}
	// cost reads eu-west-1's on-demand prices from the Price List API
	// (the proxy answers in its format, from us-east-1 only).
	c := h.mustRun(0, "cost", "--json")
	var rep struct {
		Prices   string  `json:"prices"`
		Monthly  float64 `json:"usd_per_month"`
		Machines []struct {
			Type     string
			OnDemand *float64 `json:"on_demand_usd_per_hour"`
			Spot     *float64 `json:"spot_usd_per_hour"`
		}
	}
	if err := json.Unmarshal([]byte(c.stdout), &rep); err != nil || rep.Monthly < 50 || len(rep.Machines) != 1 || rep.Machines[0].OnDemand == nil {
		t.Fatalf("cost --json: %+v %v\n%s", rep, err, c)
	}
	if *rep.Machines[0].OnDemand != 0.0456 || !strings.Contains(rep.Prices, "on-demand instance prices from the AWS Price List API for eu-west-1, read ") {
		t.Errorf("t3.medium on demand %v (want eu-west-1's 0.0456 from the Price List API), prices %q", *rep.Machines[0].OnDemand, rep.Prices)
	}
	if s := rep.Machines[0].Spot; s != nil {
		t.Logf("t3.medium: on demand %v, Spot %v", *rep.Machines[0].OnDemand, *s)
	}
	if text := h.mustRun(0, "cost"); !strings.Contains(text.stdout, "NAT gateway") || !strings.Contains(text.stdout, "t3.medium") {
		t.Errorf("cost:\n%s", text.stdout)
	}
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	d := h.mustRun(0, "down", "--auto-approve")
	if !strings.Contains(d.stdout, "-$32.85/month: NAT gateway") {
		t.Errorf("down does not show what it saves:\n%s", d.stdout)
	}
}
