package stack_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/provision/stack/stacktest"
)

// Three zones with a NAT gateway each: a public and a private subnet in
// every zone, each private table through its own zone's NAT, both ACLs
// on every subnet of their role, the group and the endpoint across every
// private subnet (the emulator's e2e proves the no-op after).
func TestThreeZonesWithANATEach(t *testing.T) {
	e, c := stacktest.NewEnv(t, func(cfg *config.Config) {
		cfg.Network.CIDR, cfg.Network.PublicSubnetCIDR, cfg.Network.PrivateSubnetCIDR = "10.0.0.0/16", "10.0.0.0/24", "10.0.128.0/20"
		cfg.Network.Zones, cfg.Network.NAT, cfg.Network.Endpoints = 3, config.NATPerZone, []string{"ssm"}
	})
	stacktest.AnswerCreations(c)
	r := stacktest.Walk(t, e, true, false)
	for _, se := range r.Errors {
		t.Fatalf("%s: %v", se.Step, se.Err)
	}
	subnetZones := map[string]string{}
	var nats, aclAssociations []string
	var group, endpointSubnets string
	natOfTable := map[string]string{}
	for _, call := range c.Calls() {
		switch in := call.Input.(type) {
		case *ec2.CreateSubnetInput:
			subnetZones[aws.ToString(in.CidrBlock)] = aws.ToString(in.AvailabilityZone)
		case *ec2.CreateNatGatewayInput:
			nats = append(nats, aws.ToString(in.SubnetId))
		case *ec2.ReplaceNetworkAclAssociationInput:
			aclAssociations = append(aclAssociations, aws.ToString(in.NetworkAclId))
		case *autoscaling.CreateAutoScalingGroupInput:
			group = aws.ToString(in.VPCZoneIdentifier)
		case *ec2.CreateVpcEndpointInput:
			if in.VpcEndpointType == "Interface" {
				endpointSubnets = strings.Join(in.SubnetIds, ",")
			}
		case *ec2.CreateRouteInput:
			if in.NatGatewayId != nil {
				natOfTable[aws.ToString(in.RouteTableId)] = aws.ToString(in.NatGatewayId)
			}
		}
	}
	want := map[string]string{"10.0.0.0/24": "eu-west-1a", "10.0.128.0/20": "eu-west-1a", "10.0.1.0/24": "eu-west-1b", "10.0.16.0/20": "eu-west-1b", "10.0.2.0/24": "eu-west-1c", "10.0.32.0/20": "eu-west-1c"}
	if len(subnetZones) != 6 {
		t.Errorf("subnets %v, want %v", subnetZones, want)
	}
	for cidr, zone := range want {
		if subnetZones[cidr] != zone {
			t.Errorf("subnet %s in %q, want %s", cidr, subnetZones[cidr], zone)
		}
	}
	if len(nats) != 3 {
		t.Errorf("NAT gateways in %v, want one in each public subnet", nats)
	}
	if len(aclAssociations) != 6 {
		t.Errorf("%d ACL associations, want 6", len(aclAssociations))
	}
	private := []string{e.IDOf(stack.PrivateSubnetStep(0)), e.IDOf(stack.PrivateSubnetStep(1)), e.IDOf(stack.PrivateSubnetStep(2))}
	if group != strings.Join(private, ",") || endpointSubnets != group {
		t.Errorf("group in %q, endpoint in %q: want both in %v", group, endpointSubnets, private)
	}
	for z := range 3 {
		if got, want := natOfTable[e.IDOf(stack.PrivateRoutesStep(z))], e.IDOf(stack.NATStep(z)); got != want || want == "" {
			t.Errorf("zone %d's private table goes out through %q, want its own NAT %q", z+1, got, want)
		}
	}
}

// A one-zone stack grown to two plans the second zone's subnets and table
// and nothing else new (one NAT), replaces nothing, and keeps every id.
func TestGrowingAZoneReplacesNothing(t *testing.T) {
	e, c := stacktest.NewEnv(t, func(cfg *config.Config) { cfg.Network.Zones = 1 })
	stacktest.AnswerCreations(c)
	if r := stacktest.Walk(t, e, true, false); r.Err() != nil {
		t.Fatal(r.Err())
	}
	before := map[string]string{}
	for id, r := range e.Ledger.Snapshot().Resources {
		before[id] = r.ID
	}
	e.Cfg.Network.Zones, e.Zones = 2, []string{"eu-west-1a", "eu-west-1b"}
	r := stacktest.Walk(t, e, false, false)
	var created []string
	for _, ch := range r.Changes {
		switch ch.Action {
		case plan.Create:
			created = append(created, string(ch.Step))
		case plan.Replace, plan.Delete:
			t.Errorf("growing a zone: %s %s", ch.Action, ch.Step)
		}
	}
	slices.Sort(created)
	if want := []string{"rtb/private/2", "subnet/private/2", "subnet/public/2"}; !slices.Equal(created, want) {
		t.Errorf("created %v, want %v", created, want)
	}
	for id, was := range before {
		if now := e.Ledger.Get(id); now == nil || now.ID != was {
			t.Errorf("%s: %s became %v", id, was, now)
		}
	}
}

// runners.instance_requirements: the group's one override asks for the
// attributes instead of naming types, Spot at the configured share.
func TestInstanceRequirementsReachTheGroup(t *testing.T) {
	e, c := stacktest.NewEnv(t, func(cfg *config.Config) {
		cfg.Runners.Spot, cfg.Runners.OnDemandPercentage = true, 25
		cfg.Runners.InstanceRequirements = &config.InstanceRequirements{VCPU: config.Range{Min: 2, Max: 8}, MemoryMiB: config.Range{Min: 4096}}
	})
	stacktest.AnswerCreations(c)
	if r := stacktest.Walk(t, e, true, false); r.Err() != nil {
		t.Fatal(r.Err())
	}
	for _, call := range c.Calls() {
		in, ok := call.Input.(*autoscaling.CreateAutoScalingGroupInput)
		if !ok {
			continue
		}
		p := in.MixedInstancesPolicy
		if p == nil || len(p.LaunchTemplate.Overrides) != 1 {
			t.Fatalf("group policy %+v", p)
		}
		r := p.LaunchTemplate.Overrides[0].InstanceRequirements
		if r == nil || aws.ToInt32(r.VCpuCount.Min) != 2 || aws.ToInt32(r.VCpuCount.Max) != 8 || aws.ToInt32(r.MemoryMiB.Min) != 4096 || r.MemoryMiB.Max != nil || p.LaunchTemplate.Overrides[0].InstanceType != nil {
			t.Errorf("override %+v", p.LaunchTemplate.Overrides[0])
		}
		if aws.ToInt32(p.InstancesDistribution.OnDemandPercentageAboveBaseCapacity) != 25 {
			t.Errorf("on demand %d%%", aws.ToInt32(p.InstancesDistribution.OnDemandPercentageAboveBaseCapacity))
		}
		return
	}
	t.Fatal("no group was created")
}

// The plan of a tuning change names each key of config.toml that changes.
func TestRunnerConfigChangesNameTheKeys(t *testing.T) {
	e, _ := stacktest.NewEnv(t, nil)
	before, err := e.RunnerConfig()
	if err != nil {
		t.Fatal(err)
	}
	e.Cfg.Runners.MaxInstances, e.Cfg.Runners.Concurrent = 20, 30
	e.Cfg.Runners.Schedule = []config.SchedulePeriod{{Periods: []string{"* 8-19 * * mon-fri"}, IdleCount: 4, IdleTime: "30m"}}
	after, err := e.RunnerConfig()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(stack.ConfigChanges(before, after), "\n")
	for _, want := range []string{"concurrent 10 -> 30", "runners[0].autoscaler.max_instances 10 -> 20", "runners[0].autoscaler.policy[1].idle_count = 4", "runners[0].autoscaler.policy[1].periods = [* 8-19 * * mon-fri]"} {
		if !strings.Contains(got, want) {
			t.Errorf("changes lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "token") {
		t.Errorf("the token's placeholders show as changes:\n%s", got)
	}
}

// A value read back from AWS that holds a line break or an escape is
// quoted in the plan's change lines: it cannot forge a line of its own.
func TestConfigChangesQuoteControlCharacters(t *testing.T) {
	from := "url = 'https://gitlab.example.com'\n"
	to := "url = \"\"\"https://gitlab.example.com\nPlan: 0 to add, 0 to change, 0 to destroy.\"\"\"\n"
	got := strings.Join(stack.ConfigChanges(from, to), "\n")
	if strings.Contains(got, "\nPlan:") || !strings.Contains(got, `\nPlan: 0 to add`) {
		t.Errorf("a line break from AWS reaches the plan unquoted:\n%s", got)
	}
}
