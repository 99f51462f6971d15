package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Working hours and metrics: runners.schedule becomes autoscaler policies
// after the default one in the manager's config.toml; manager.metrics_cidrs
// turns on the metrics endpoint on the private address and admits exactly
// those addresses on 9252, in the manager's group and the public ACL;
// removing it closes both again.
func TestScheduleAndMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	options := `runners:
  schedule:
    - periods: ["* 8-19 * * mon-fri"]
      timezone: Asia/Tokyo
      idle_count: 2
      idle_time: 20m
manager:
  metrics_cidrs: [198.51.100.0/24]
`
	h.writeConfig(baseConfig + options)
	h.mustRun(0, "up", "--auto-approve", "--no-wait")

	ud := managerUserData(t, h, aws.ToString(manager(t, h, "net").InstanceId))
	for _, want := range []string{
		"listen_address = '@PRIVATE_IP@:9252'",
		"periods = ['* 8-19 * * mon-fri']",
		"timezone = 'Asia/Tokyo'",
		"idle_count = 2",
		"idle_time = '20m0s'",
	} {
		if !strings.Contains(ud, want) {
			t.Errorf("the manager's config.toml lacks %q", want)
		}
	}
	if strings.Index(ud, "idle_count = 0") > strings.Index(ud, "idle_count = 2") {
		t.Errorf("the default policy must come first (the autoscaler uses the last that matches)")
	}
	n := describeNetwork(t, h.ec2, "net")
	if !admits(n.sgManager.IpPermissions, "198.51.100.0/24", 9252) {
		t.Errorf("the manager's group does not admit the metrics sources on 9252: %+v", n.sgManager.IpPermissions)
	}
	if !aclAllows(n.aclPublic, 130, "198.51.100.0/24", 9252) {
		t.Errorf("the public ACL does not admit the metrics sources on 9252: %+v", n.aclPublic.Entries)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")

	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	n = describeNetwork(t, h.ec2, "net")
	if admits(n.sgManager.IpPermissions, "198.51.100.0/24", 9252) || aclAllows(n.aclPublic, 130, "198.51.100.0/24", 9252) {
		t.Errorf("without metrics_cidrs port 9252 must be closed again")
	}
	h.mustRun(0, "down", "--auto-approve")
}

// admits reports whether a group's inbound rules admit cidr on a TCP port.
func admits(perms []ec2types.IpPermission, cidr string, port int32) bool {
	for _, p := range perms {
		if aws.ToString(p.IpProtocol) != "tcp" || aws.ToInt32(p.FromPort) > port || aws.ToInt32(p.ToPort) < port {
			continue
		}
		for _, r := range p.IpRanges {
			if aws.ToString(r.CidrIp) == cidr {
				return true
			}
		}
	}
	return false
}

// aclAllows reports whether an ACL has the inbound rule number allowing
// cidr on a TCP port.
func aclAllows(acl ec2types.NetworkAcl, rule int32, cidr string, port int32) bool {
	for _, e := range acl.Entries {
		if !aws.ToBool(e.Egress) && aws.ToInt32(e.RuleNumber) == rule && e.RuleAction == ec2types.RuleActionAllow &&
			aws.ToString(e.CidrBlock) == cidr && e.PortRange != nil && aws.ToInt32(e.PortRange.From) <= port && aws.ToInt32(e.PortRange.To) >= port {
			return true
		}
	}
	return false
}

// Spot with a fallback: the group launches through a mixed-instances
// policy (the types in order, on-demand base 0, the configured on-demand
// share, price-capacity-optimized Spot), capacity rebalancing stays off and
// the launch template asks for no market itself; a new share is an update;
// without spot and extra types the group launches from the template alone.
func TestSpotMixedInstances(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	spot := "runners:\n  spot: true\n  instance_types: [t3a.medium, m5.large]\n  on_demand_percentage: %d\n"
	h.writeConfig(baseConfig + fmt.Sprintf(spot, 20))
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	g := runnerGroup(t, h)
	p := g.MixedInstancesPolicy
	if p == nil || p.InstancesDistribution == nil || p.LaunchTemplate == nil {
		t.Fatalf("no mixed-instances policy: %+v", g)
	}
	var types []string
	for _, o := range p.LaunchTemplate.Overrides {
		types = append(types, aws.ToString(o.InstanceType))
	}
	d := p.InstancesDistribution
	if strings.Join(types, ",") != "t3.medium,t3a.medium,m5.large" || aws.ToInt32(d.OnDemandBaseCapacity) != 0 ||
		aws.ToInt32(d.OnDemandPercentageAboveBaseCapacity) != 20 || aws.ToString(d.SpotAllocationStrategy) != "price-capacity-optimized" {
		t.Errorf("mixed-instances policy: types %v, distribution %+v", types, d)
	}
	if aws.ToBool(g.CapacityRebalance) || !aws.ToBool(g.NewInstancesProtectedFromScaleIn) {
		t.Errorf("capacity rebalance must stay off and scale-in protection on: %+v", g)
	}
	if ltd := defaultTemplateData(t, h); ltd.InstanceMarketOptions != nil {
		t.Errorf("the launch template must not ask for Spot itself: %+v", ltd.InstanceMarketOptions)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")

	h.writeConfig(baseConfig + fmt.Sprintf(spot, 50))
	plan := h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(plan.stdout, "on demand 20% -> 50% (base 0)") {
		t.Errorf("the plan does not show the new on-demand share:\n%s", plan.stdout)
	}
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	if d := runnerGroup(t, h).MixedInstancesPolicy.InstancesDistribution; aws.ToInt32(d.OnDemandPercentageAboveBaseCapacity) != 50 {
		t.Errorf("on-demand share not updated: %+v", d)
	}

	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve", "--no-wait")
	if g := runnerGroup(t, h); g.MixedInstancesPolicy != nil || g.LaunchTemplate == nil {
		t.Errorf("without spot the group launches from the template alone: %+v", g)
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.mustRun(0, "down", "--auto-approve")
}

func runnerGroup(t *testing.T, h *harness) asgtypes.AutoScalingGroup {
	t.Helper()
	out, err := autoscaling.NewFromConfig(awsConfig(h.moto.URL)).DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"net-runners"}})
	if err != nil || len(out.AutoScalingGroups) != 1 {
		t.Fatalf("asg: %v", err)
	}
	return out.AutoScalingGroups[0]
}
