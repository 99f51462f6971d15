package ops

import (
	"strings"
	"testing"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/config"
)

// The standing cost of the default stack: one NAT gateway, two public
// addresses, a t3.micro manager, the stack's key; per_zone NAT gateways
// and interface endpoints count per zone.
func TestStandingCost(t *testing.T) {
	cfg := config.Defaults()
	if got := Total(StandingCost(&cfg, nil)); got < 50 || got > 51 {
		t.Errorf("default stack: $%.2f a month, want about $50.34 (README)", got)
	}
	cfg.Network.Zones, cfg.Network.NAT, cfg.Network.Endpoints = 3, config.NATPerZone, []string{"ssm", "ecr"}
	items := StandingCost(&cfg, nil)
	var nat, ips, eps CostItem
	for _, i := range items {
		switch {
		case i.What == "NAT gateway":
			nat = i
		case strings.HasPrefix(i.What, "public IPv4"):
			ips = i
		case strings.HasPrefix(i.What, "interface endpoint"):
			eps = i
		}
	}
	if nat.Count != 3 || ips.Count != 4 || eps.Count != 3 || eps.Monthly < 65 || eps.Monthly > 66 {
		t.Errorf("three zones: nat %+v, addresses %+v, endpoints %+v", nat, ips, eps)
	}
}

// A plan's cost line: what it adds and removes, by kind.
func TestPlanCost(t *testing.T) {
	cfg := config.Defaults()
	changes := []plan.Change{
		{Step: "nat", Kind: "nat-gateway", Action: plan.Create},
		{Step: "eip/nat", Kind: "elastic-ip", Action: plan.Create},
		{Step: "vpce/ssm", Kind: "vpc-endpoint", Action: plan.Delete, Attrs: []plan.Attr{{Key: "type", Value: "interface"}}},
		{Step: "subnet/public", Kind: "subnet", Action: plan.Create},
		{Step: "sg/manager", Kind: "security-group", Action: plan.Update},
	}
	total, lines := PlanCost(changes, &cfg)
	got := strings.Join(lines, "; ")
	for _, want := range []string{"+$32.85/month: NAT gateway", "+$3.65/month: public IPv4 address", "-$14.60/month: interface endpoint"} {
		if !strings.Contains(got, want) {
			t.Errorf("cost lines %q lack %q", got, want)
		}
	}
	if total < 21.8 || total > 21.95 {
		t.Errorf("total %.2f", total)
	}
}
