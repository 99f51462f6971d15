package e2e

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// zonesConfig is a stack over three zones of a /16, each zone's ranges
// derived from it.
const zonesConfig = `stack: zones
region: eu-west-1
network:
  cidr: 10.20.0.0/16
  public_subnet_cidr: 10.20.0.0/24
  private_subnet_cidr: 10.20.128.0/20
  zones: 3
  nat: per_zone
  endpoints: [ssm]
gitlab:
  url: GITLAB_URL
  security_group_id: GITLAB_SG
`

// A three-zone stack with a NAT gateway per zone: six subnets over three
// zones, each private table through its own zone's NAT, every subnet on
// its role's ACL, the group and the endpoint across the three private
// subnets, GitLab admitting every NAT's address; a no-op after. Then
// network.nat: single: the two extra NAT gateways and their addresses go,
// the tables point at the first zone's, nothing else changes.
func TestThreeZonesBothNATModes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(zonesConfig)
	ctx := context.Background()
	h.mustRun(0, "up", "--auto-approve")

	subnets := func(role string) map[string]ec2types.Subnet {
		out := map[string]ec2types.Subnet{}
		for _, step := range []string{"subnet/" + role, "subnet/" + role + "/2", "subnet/" + role + "/3"} {
			r, err := h.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: byStep("zones", step)})
			out[step] = one(t, step, r.Subnets, err)
		}
		return out
	}
	public, private := subnets("public"), subnets("private")
	zones := map[string]bool{}
	for _, sn := range private {
		zones[aws.ToString(sn.AvailabilityZone)] = true
	}
	if len(zones) != 3 {
		t.Errorf("private subnets in zones %v, want 3 zones", zones)
	}
	for z, suffix := range []string{"", "/2", "/3"} {
		if a, b := aws.ToString(public["subnet/public"+suffix].AvailabilityZone), aws.ToString(private["subnet/private"+suffix].AvailabilityZone); a != b {
			t.Errorf("zone %d: public subnet in %s, private in %s", z+1, a, b)
		}
	}
	natOf := func() map[string]string {
		m := map[string]string{}
		for _, suffix := range []string{"", "/2", "/3"} {
			r, err := h.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: byStep("zones", "rtb/private"+suffix)})
			rt := one(t, "rtb/private"+suffix, r.RouteTables, err)
			if len(rt.Associations) != 1 || aws.ToString(rt.Associations[0].SubnetId) != aws.ToString(private["subnet/private"+suffix].SubnetId) {
				t.Errorf("rtb/private%s associations %v", suffix, rt.Associations)
			}
			for _, route := range rt.Routes {
				if aws.ToString(route.DestinationCidrBlock) == "0.0.0.0/0" {
					m["rtb/private"+suffix] = aws.ToString(route.NatGatewayId)
				}
			}
		}
		return m
	}
	nats := map[string]string{}
	for _, suffix := range []string{"", "/2", "/3"} {
		// The emulator does not filter NAT gateways by tag: the step's tag is checked here.
		r, err := h.ec2.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{Filter: []ec2types.Filter{{Name: aws.String("state"), Values: []string{"available", "pending"}}}})
		var mine []ec2types.NatGateway
		if err == nil {
			for _, n := range r.NatGateways {
				tags := map[string]string{}
				for _, tag := range n.Tags {
					tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
				}
				if tags["provision:stack"] == "zones" && tags["provision:step"] == "nat"+suffix {
					mine = append(mine, n)
				}
			}
		}
		n := one(t, "nat"+suffix, mine, err)
		nats["rtb/private"+suffix] = aws.ToString(n.NatGatewayId)
		if got, want := aws.ToString(n.SubnetId), aws.ToString(public["subnet/public"+suffix].SubnetId); got != want {
			t.Errorf("nat%s in %s, want its zone's public subnet %s", suffix, got, want)
		}
	}
	if got := natOf(); !maps.Equal(got, nats) {
		t.Errorf("private tables go out through %v, want each through its own zone's NAT %v", got, nats)
	}
	for role, want := range map[string]map[string]ec2types.Subnet{"public": public, "private": private} {
		r, err := h.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: byStep("zones", "nacl/"+role)})
		acl := one(t, "nacl/"+role, r.NetworkAcls, err)
		var got, ids []string
		for _, a := range acl.Associations {
			got = append(got, aws.ToString(a.SubnetId))
		}
		for _, sn := range want {
			ids = append(ids, aws.ToString(sn.SubnetId))
		}
		slices.Sort(got)
		slices.Sort(ids)
		if !slices.Equal(got, ids) {
			t.Errorf("nacl/%s on %v, want %v", role, got, ids)
		}
	}
	groups, err := autoscaling.NewFromConfig(awsConfig(h.moto.URL)).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil || len(groups.AutoScalingGroups) != 1 {
		t.Fatalf("groups %v %v", groups, err)
	}
	if got := strings.Split(aws.ToString(groups.AutoScalingGroups[0].VPCZoneIdentifier), ","); len(got) != 3 {
		t.Errorf("group in subnets %v, want the three private ones", got)
	}
	eps, err := h.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: byStep("zones", "vpce/ssm")})
	if ep := one(t, "vpce/ssm", eps.VpcEndpoints, err); len(ep.SubnetIds) != 3 {
		t.Errorf("the ssm endpoint is in subnets %v, want one per zone", ep.SubnetIds)
	}
	gl, err := h.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{h.gitlabSG}})
	if err != nil {
		t.Fatal(err)
	}
	admitted := 0
	for _, p := range one(t, "gitlab group", gl.SecurityGroups, err).IpPermissions {
		for _, r := range p.IpRanges {
			if strings.HasPrefix(aws.ToString(r.Description), "provision zones:") {
				admitted++
			}
		}
	}
	if admitted != 4 {
		t.Errorf("GitLab admits %d IPv4 sources, want 4 (three NATs and the manager)", admitted)
	}
	if r := h.mustRun(0, "plan", "--detailed-exitcode"); !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("plan after a three-zone up:\n%s", r)
	}

	// Back to one NAT gateway.
	h.writeConfig(strings.Replace(zonesConfig, "nat: per_zone", "nat: single", 1))
	r := h.mustRun(0, "up", "--auto-approve")
	for _, want := range []string{"- nat/2", "- nat/3", "- eip/nat/2", "- eip/nat/3"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("nat: single does not remove %s:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "-/+") {
		t.Errorf("nat: single replaced something:\n%s", r.stdout)
	}
	for table, nat := range natOf() {
		if nat != nats["rtb/private"] {
			t.Errorf("%s goes out through %s, want the first zone's %s", table, nat, nats["rtb/private"])
		}
	}
	if r := h.mustRun(0, "plan", "--detailed-exitcode"); !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("plan after nat: single:\n%s", r)
	}

	// Two zones: the third's subnets and table go, after the group and
	// the endpoints have left them.
	h.writeConfig(strings.Replace(strings.Replace(zonesConfig, "nat: per_zone", "nat: single", 1), "zones: 3", "zones: 2", 1))
	r = h.mustRun(0, "up", "--auto-approve")
	for _, want := range []string{"- subnet/public/3", "- subnet/private/3", "- rtb/private/3", "~ asg/runner", "~ vpce/ssm", "~ vpce/s3"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("two zones of three: the up lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := h.mustRun(0, "plan", "--detailed-exitcode"); !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("plan after dropping a zone:\n%s", r)
	}
	eps, err = h.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: byStep("zones", "vpce/ssm")})
	if ep := one(t, "vpce/ssm", eps.VpcEndpoints, err); len(ep.SubnetIds) != 2 {
		t.Errorf("the ssm endpoint is in subnets %v, want the two zones'", ep.SubnetIds)
	}
	h.mustRun(0, "down", "--auto-approve")
	if left := h.tagged("zones"); len(left) > 0 {
		t.Fatalf("down left: %v", left)
	}
}

// A one-zone stack grown to two: the plan adds the second zone's two
// subnets and its table and changes the rest in place; every id stays.
func TestOneZoneGrowsToTwo(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(strings.Replace(baseConfig, "  cidr: 192.168.0.0/24\n", "  cidr: 192.168.0.0/24\n  zones: 1\n", 1))
	h.mustRun(0, "up", "--auto-approve")
	before := h.taggedEC2("net")
	h.writeConfig(baseConfig)
	p := h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(p.stdout, "3 to add") || !strings.Contains(p.stdout, "0 to destroy") {
		t.Errorf("growing a zone plans:\n%s", p.stdout)
	}
	for _, want := range []string{"+ subnet/public/2", "+ subnet/private/2", "+ rtb/private/2", "~ asg/runner", "~ nacl/private"} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("the plan lacks %q:\n%s", want, p.stdout)
		}
	}
	h.mustRun(0, "up", "--auto-approve")
	after := h.taggedEC2("net")
	for _, r := range before {
		if !slices.Contains(after, r) {
			t.Errorf("%s is gone after growing a zone", r)
		}
	}
	if len(after) != len(before)+3 {
		t.Errorf("%d resources before, %d after: want 3 more", len(before), len(after))
	}
	if r := h.mustRun(0, "plan", "--detailed-exitcode"); !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("plan after growing:\n%s", r)
	}
	h.mustRun(0, "down", "--auto-approve")
}

// A Spot group of one type in one zone is warned about at plan, with the
// retry rule; attribute-based types build, reach the group and no-op.
func TestSpotPoolsAndInstanceRequirements(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	few := strings.Replace(baseConfig, "  cidr: 192.168.0.0/24\n", "  cidr: 192.168.0.0/24\n  zones: 1\n", 1) + "runners:\n  spot: true\n  on_demand_percentage: 0\n"
	h.writeConfig(few)
	r := h.mustRun(2, "plan", "--detailed-exitcode")
	for _, want := range []string{"1 Spot pool (1 type in 1 zone), fewer than 6", "no on-demand share", "runner_system_failure"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("plan of a one-pool Spot group does not warn %q:\n%s", want, r.stderr)
		}
	}
	h.writeConfig(baseConfig + "runners:\n  spot: true\n  on_demand_percentage: 20\n  instance_requirements:\n    vcpu: {min: 2, max: 8}\n    memory_mib: {min: 4096}\n")
	up := h.mustRun(0, "up", "--auto-approve")
	if strings.Contains(up.stderr, "Spot pool") {
		t.Errorf("attribute-based types warned about pools:\n%s", up.stderr)
	}
	groups, err := autoscaling.NewFromConfig(awsConfig(h.moto.URL)).DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil || len(groups.AutoScalingGroups) != 1 {
		t.Fatalf("groups %v %v", groups, err)
	}
	p := groups.AutoScalingGroups[0].MixedInstancesPolicy
	if p == nil || len(p.LaunchTemplate.Overrides) != 1 || p.LaunchTemplate.Overrides[0].InstanceRequirements == nil ||
		aws.ToInt32(p.LaunchTemplate.Overrides[0].InstanceRequirements.VCpuCount.Max) != 8 {
		t.Errorf("group policy %+v", p)
	}
	if r := h.mustRun(0, "plan", "--detailed-exitcode"); !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("plan after up with instance requirements:\n%s", r)
	}
	h.mustRun(0, "down", "--auto-approve")
}
