package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/awstest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/provision/traffic"
)

const baseConfig = `stack: net
region: eu-west-1
tags: {team: ci}
network:
  cidr: 192.168.0.0/24
  public_subnet_cidr: 192.168.0.0/27
  private_subnet_cidr: 192.168.0.128/25
gitlab:
  url: GITLAB_URL
  security_group_id: GITLAB_SG
  ssh_source_cidrs: [203.0.113.10/32]
`

// fullSteps is the number of steps of a default (docker-autoscaler) stack.
const fullSteps = 30

// noopCalls is the most AWS calls a plan or up that changes nothing may make
// (31 since ssm/runner-config: SSM reads a parameter's tags one at a time;
// 33 since logs/manager: its group, then its tags).
const noopCalls = 33

func actions(calls []awstest.Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.Action
	}
	return out
}

// The lifecycle test: up from nothing builds exactly the network docs/design.md lists,
// checked by Describe calls alone; a second plan and up change nothing;
// down leaves nothing tagged and removes the state file.
func TestNetworkLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	ctx := context.Background()

	up := h.mustRun(0, "up", "--auto-approve")
	if !strings.Contains(up.stdout, fmt.Sprintf("Plan: %d to add, 0 to change, 0 to destroy.", fullSteps)) {
		t.Fatalf("up did not print the expected plan:\n%s", up)
	}
	if !strings.Contains(up.stdout, fmt.Sprintf("Apply complete! Resources: %d added", fullSteps)) {
		t.Fatalf("up did not report completion:\n%s", up)
	}
	t.Logf("fresh up: %d calls, %d mutating", len(h.proxy.Calls()), len(h.proxy.Mutating()))

	n := describeNetwork(t, h.ec2, "net")
	n.check(t)

	// Immediately afterwards nothing is left to do.
	calls := h.countMutating(func() {
		r := h.mustRun(0, "plan", "--detailed-exitcode")
		if !strings.Contains(r.stdout, "No changes. The environment matches the configuration.") {
			t.Fatalf("plan after up is not empty:\n%s", r)
		}
	})
	if len(calls) != 0 {
		t.Fatalf("plan after up made mutating calls: %v", calls)
	}
	// A no-op costs one describe per kind, facts that never change are
	// read from the state, and nothing is read twice.
	if n := len(h.proxy.Calls()); n > noopCalls {
		t.Errorf("plan after up made %d AWS calls, want at most %d: %v", n, noopCalls, actions(h.proxy.Calls()))
	}
	calls = h.countMutating(func() {
		r := h.mustRun(0, "up", "--auto-approve")
		if !strings.Contains(r.stdout, "No changes.") {
			t.Fatalf("second up is not a no-op:\n%s", r)
		}
	})
	if len(calls) != 0 {
		t.Fatalf("second up made mutating calls: %v", calls)
	}
	if n := len(h.proxy.Calls()); n > noopCalls {
		t.Errorf("second up made %d AWS calls, want at most %d: %v", n, noopCalls, actions(h.proxy.Calls()))
	}
	t.Logf("no-op up: %d calls, 0 mutating", len(h.proxy.Calls()))
	if os.Getenv("PROVISION_SHOW_CALLS") != "" {
		for _, c := range h.proxy.Calls() {
			t.Logf("  %s", c.Action)
		}
	}

	st := h.mustRun(0, "status", "--json")
	var rep struct {
		Resources []struct{ Step, Status string }
	}
	if err := json.Unmarshal([]byte(st.stdout), &rep); err != nil {
		t.Fatalf("status --json: %v\n%s", err, st)
	}
	if len(rep.Resources) != fullSteps {
		t.Fatalf("status lists %d resources, want %d:\n%s", len(rep.Resources), fullSteps, st.stdout)
	}
	for _, r := range rep.Resources {
		if r.Status != "exists" {
			t.Errorf("status of %s = %s, want exists", r.Step, r.Status)
		}
	}

	h.proxy.Reset()
	down := h.mustRun(0, "down", "--auto-approve")
	t.Logf("down: %d calls, %d mutating", len(h.proxy.Calls()), len(h.proxy.Mutating()))
	if !strings.Contains(down.stdout, fmt.Sprintf("%d to destroy", fullSteps)) {
		t.Fatalf("down plan:\n%s", down)
	}
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down left tagged resources: %v\n%s", left, down.stdout)
	}
	out, err := h.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
	if err != nil || len(out.Addresses) != 0 {
		t.Fatalf("Elastic IPs left after down: %v %v", out, err)
	}
	if _, err := os.Stat(h.statePath("net")); !os.IsNotExist(err) {
		t.Fatalf("state file still exists after down: %v", err)
	}
	// Down again: nothing to do, still fine.
	again := h.mustRun(0, "down", "--auto-approve")
	if !strings.Contains(again.stdout, "No changes.") {
		t.Fatalf("second down:\n%s", again)
	}
}

// network is what Describe calls say about the stack's network.
type network struct {
	vpc                 ec2types.Vpc
	public, private     ec2types.Subnet
	igw                 ec2types.InternetGateway
	eigw                ec2types.EgressOnlyInternetGateway
	nat                 ec2types.NatGateway
	natAddress          ec2types.Address
	rtPublic, rtPrivate ec2types.RouteTable
	aclPublic           ec2types.NetworkAcl
	aclPrivate          ec2types.NetworkAcl
	sgManager, sgRunner ec2types.SecurityGroup
}

func byStep(stackName, step string) []ec2types.Filter {
	return []ec2types.Filter{
		{Name: aws.String("tag:provision:stack"), Values: []string{stackName}},
		{Name: aws.String("tag:provision:step"), Values: []string{step}},
	}
}

func one[T any](t *testing.T, what string, items []T, err error) T {
	t.Helper()
	if err != nil {
		t.Fatalf("describe %s: %v", what, err)
	}
	if len(items) != 1 {
		t.Fatalf("want exactly one %s, found %d", what, len(items))
	}
	return items[0]
}

func describeNetwork(t *testing.T, c *ec2.Client, stackName string) *network {
	t.Helper()
	ctx := context.Background()
	n := &network{}
	vpcs, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: byStep(stackName, "vpc")})
	n.vpc = one(t, "vpc", vpcs.Vpcs, err)
	subnet := func(step string) ec2types.Subnet {
		out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: byStep(stackName, step)})
		return one(t, step, out.Subnets, err)
	}
	n.public, n.private = subnet("subnet/public"), subnet("subnet/private")
	igws, err := c.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: byStep(stackName, "igw")})
	n.igw = one(t, "igw", igws.InternetGateways, err)
	// A stack without IPv6 has no egress-only gateway (check() then
	// fails on the IPv6 stack that expects one).
	eigws, err := c.DescribeEgressOnlyInternetGateways(ctx, &ec2.DescribeEgressOnlyInternetGatewaysInput{})
	if err != nil || len(eigws.EgressOnlyInternetGateways) > 0 {
		n.eigw = one(t, "eigw", eigws.EgressOnlyInternetGateways, err)
	}
	nats, err := c.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{Filter: []ec2types.Filter{{Name: aws.String("state"), Values: []string{"available", "pending"}}}})
	n.nat = one(t, "nat", nats.NatGateways, err)
	addrs, err := c.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: byStep(stackName, "eip/nat")})
	n.natAddress = one(t, "eip/nat", addrs.Addresses, err)
	rt := func(step string) ec2types.RouteTable {
		out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: byStep(stackName, step)})
		return one(t, step, out.RouteTables, err)
	}
	n.rtPublic, n.rtPrivate = rt("rtb/public"), rt("rtb/private")
	acl := func(step string) ec2types.NetworkAcl {
		out, err := c.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: byStep(stackName, step)})
		return one(t, step, out.NetworkAcls, err)
	}
	n.aclPublic, n.aclPrivate = acl("nacl/public"), acl("nacl/private")
	sg := func(step string) ec2types.SecurityGroup {
		out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: byStep(stackName, step)})
		return one(t, step, out.SecurityGroups, err)
	}
	n.sgManager, n.sgRunner = sg("sg/manager"), sg("sg/runner")
	return n
}

func (n *network) check(t *testing.T) {
	t.Helper()
	vpcID := aws.ToString(n.vpc.VpcId)
	if got := aws.ToString(n.vpc.CidrBlock); got != "192.168.0.0/24" {
		t.Errorf("vpc cidr = %s", got)
	}
	vpc6 := netip.MustParsePrefix(ipv6Of(n.vpc.Ipv6CidrBlockAssociationSet))
	if vpc6.Bits() != 56 {
		t.Errorf("vpc IPv6 block %s is not a /56", vpc6)
	}
	checkTags(t, "vpc", n.vpc.Tags, "vpc", "net-vpc")

	for _, s := range []struct {
		sn      ec2types.Subnet
		cidr    string
		public  bool
		step    string
		nameTag string
	}{{n.public, "192.168.0.0/27", true, "subnet/public", "net-public"}, {n.private, "192.168.0.128/25", false, "subnet/private", "net-private"}} {
		if aws.ToString(s.sn.VpcId) != vpcID || aws.ToString(s.sn.CidrBlock) != s.cidr {
			t.Errorf("%s: vpc %s cidr %s", s.step, aws.ToString(s.sn.VpcId), aws.ToString(s.sn.CidrBlock))
		}
		if aws.ToBool(s.sn.MapPublicIpOnLaunch) != s.public {
			t.Errorf("%s: MapPublicIpOnLaunch = %v, want %v", s.step, aws.ToBool(s.sn.MapPublicIpOnLaunch), s.public)
		}
		if !aws.ToBool(s.sn.AssignIpv6AddressOnCreation) {
			t.Errorf("%s: AssignIpv6AddressOnCreation is off", s.step)
		}
		b := netip.MustParsePrefix(subnetIPv6(s.sn))
		if b.Bits() != 64 || !vpc6.Contains(b.Addr()) {
			t.Errorf("%s: IPv6 block %s is not a /64 of %s", s.step, b, vpc6)
		}
		checkTags(t, s.step, s.sn.Tags, s.step, s.nameTag)
	}
	if subnetIPv6(n.public) == subnetIPv6(n.private) {
		t.Errorf("both subnets have IPv6 block %s", subnetIPv6(n.public))
	}
	if aws.ToString(n.public.AvailabilityZone) != aws.ToString(n.private.AvailabilityZone) {
		t.Errorf("subnets in different zones")
	}

	if len(n.igw.Attachments) != 1 || aws.ToString(n.igw.Attachments[0].VpcId) != vpcID {
		t.Errorf("igw attachments = %+v", n.igw.Attachments)
	}
	if len(n.eigw.Attachments) != 1 || aws.ToString(n.eigw.Attachments[0].VpcId) != vpcID {
		t.Errorf("eigw attachments = %+v", n.eigw.Attachments)
	}
	if aws.ToString(n.nat.SubnetId) != aws.ToString(n.public.SubnetId) {
		t.Errorf("nat in subnet %s, want the public subnet", aws.ToString(n.nat.SubnetId))
	}
	if len(n.nat.NatGatewayAddresses) != 1 || aws.ToString(n.nat.NatGatewayAddresses[0].AllocationId) != aws.ToString(n.natAddress.AllocationId) {
		t.Errorf("nat addresses %+v, want eip/nat %s", n.nat.NatGatewayAddresses, aws.ToString(n.natAddress.AllocationId))
	}
	checkTags(t, "nat", n.nat.Tags, "nat", "net-nat")
	checkTags(t, "eip/nat", n.natAddress.Tags, "eip/nat", "net-nat")

	igw, natID, eigw := aws.ToString(n.igw.InternetGatewayId), aws.ToString(n.nat.NatGatewayId), aws.ToString(n.eigw.EgressOnlyInternetGatewayId)
	wantRoutes(t, "rtb/public", n.rtPublic, map[string]string{"0.0.0.0/0": igw, "::/0": igw}, aws.ToString(n.public.SubnetId))
	wantRoutes(t, "rtb/private", n.rtPrivate, map[string]string{"0.0.0.0/0": natID, "::/0": eigw, "s3": "gateway endpoint"}, aws.ToString(n.private.SubnetId))

	pub6 := canonical(subnetIPv6(n.public))
	wantEntries(t, "nacl/public", n.aclPublic, aws.ToString(n.public.SubnetId), []string{
		"in 100 allow -1 192.168.0.0/24",
		"in 101 allow -1 " + vpc6.String(),
		"in 110 allow 6 203.0.113.10/32 22-22",
		"in 200 allow 6 0.0.0.0/0 1024-65535",
		"in 201 allow 6 ::/0 1024-65535",
		"in 210 allow 1 0.0.0.0/0",
		"in 211 allow 58 ::/0",
		"out 100 allow -1 0.0.0.0/0",
		"out 101 allow -1 ::/0",
	})
	wantEntries(t, "nacl/private", n.aclPrivate, aws.ToString(n.private.SubnetId), []string{
		"in 100 allow 6 192.168.0.0/27 22-22",
		"in 102 allow 6 " + pub6 + " 22-22",
		"in 110 deny 6 0.0.0.0/0 22-22",
		"in 111 deny 6 0.0.0.0/0 2376-2376",
		"in 112 deny 6 ::/0 22-22",
		"in 113 deny 6 ::/0 2376-2376",
		"in 200 allow 6 0.0.0.0/0 1024-65535",
		"in 201 allow 6 ::/0 1024-65535",
		"in 210 allow 1 0.0.0.0/0",
		"in 211 allow 58 ::/0",
		"out 10 allow 6 192.168.0.0/27 1024-65535",
		"out 11 allow 6 " + pub6 + " 1024-65535",
		"out 20 deny -1 192.168.0.0/24",
		"out 21 deny -1 " + vpc6.String(),
		"out 100 allow -1 0.0.0.0/0",
		"out 101 allow -1 ::/0",
	})
	// The private ACL as AWS evaluates it: jobs reach the internet and
	// answer the manager, and open nothing into the VPC.
	inVPC6 := vpc6.Addr().Next().String()
	for _, c := range []struct {
		what  string
		p     traffic.Packet
		admit bool
	}{
		{"the manager's SSH to a machine", traffic.Packet{Protocol: "6", Peer: "192.168.0.10", Port: 22}, true},
		{"Docker TLS from the manager (docker-autoscaler does not use it)", traffic.Packet{Protocol: "6", Peer: "192.168.0.10", Port: 2376}, false},
		{"SSH from the internet", traffic.Packet{Protocol: "6", Peer: "198.51.100.1", Port: 22}, false},
		{"a machine answering the manager's SSH", traffic.Packet{Egress: true, Protocol: "6", Peer: "192.168.0.10", Port: 51000}, true},
		{"a job connecting to the manager's SSH", traffic.Packet{Egress: true, Protocol: "6", Peer: "192.168.0.10", Port: 22}, false},
		{"a job connecting into the VPC", traffic.Packet{Egress: true, Protocol: "6", Peer: "192.168.0.50", Port: 443}, false},
		{"a job connecting into the VPC over IPv6", traffic.Packet{Egress: true, Protocol: "6", Peer: inVPC6, Port: 443}, false},
		{"a job reaching GitLab over the internet", traffic.Packet{Egress: true, Protocol: "6", Peer: "203.0.113.5", Port: 443}, true},
		{"a job reaching the internet over IPv6", traffic.Packet{Egress: true, Protocol: "6", Peer: "2001:db8:ffff::5", Port: 443}, true},
	} {
		if got := traffic.Admits(n.aclPrivate.Entries, c.p); got != c.admit {
			t.Errorf("nacl/private: %s: admitted=%v, want %v", c.what, got, c.admit)
		}
	}
	// The ICMP type and code of rules 210 and 211 are checked by the unit
	// test of the rules (the emulator does not return them).

	mgr := aws.ToString(n.sgManager.GroupId)
	wantRules(t, "sg/manager", n.sgManager, []string{
		"in tcp 22-22 203.0.113.10/32",
		"out -1 0.0.0.0/0",
		"out -1 ::/0",
	})
	wantRules(t, "sg/runner", n.sgRunner, []string{
		"in tcp 22-22 " + mgr,
		"out -1 0.0.0.0/0",
		"out -1 ::/0",
	})
}

func ipv6Of(set []ec2types.VpcIpv6CidrBlockAssociation) string {
	for _, a := range set {
		if b := aws.ToString(a.Ipv6CidrBlock); b != "" {
			return b
		}
	}
	return ""
}

func subnetIPv6(sn ec2types.Subnet) string {
	for _, a := range sn.Ipv6CidrBlockAssociationSet {
		if b := aws.ToString(a.Ipv6CidrBlock); b != "" {
			return b
		}
	}
	return ""
}

func checkTags(t *testing.T, what string, tags []ec2types.Tag, step, name string) {
	t.Helper()
	m := map[string]string{}
	for _, tg := range tags {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	want := map[string]string{"provision:stack": "net", "provision:step": step, "Name": name, "team": "ci"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s: tag %s = %q, want %q (tags %v)", what, k, m[k], v, m)
		}
	}
}

func wantRoutes(t *testing.T, what string, rt ec2types.RouteTable, want map[string]string, subnetID string) {
	t.Helper()
	got := map[string]string{}
	for _, r := range rt.Routes {
		dest := aws.ToString(r.DestinationCidrBlock)
		if dest == "" {
			dest = aws.ToString(r.DestinationIpv6CidrBlock)
		}
		target := aws.ToString(r.NatGatewayId) + aws.ToString(r.EgressOnlyInternetGatewayId) + aws.ToString(r.GatewayId)
		if target == "local" {
			continue
		}
		if strings.HasPrefix(target, "vpce-") {
			dest, target = "s3", "gateway endpoint" // its prefix list's route
		}
		got[dest] = target
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s routes = %v, want %v", what, got, want)
	}
	associated := false
	for _, a := range rt.Associations {
		associated = associated || aws.ToString(a.SubnetId) == subnetID
	}
	if !associated {
		t.Errorf("%s is not associated with %s", what, subnetID)
	}
}

func wantEntries(t *testing.T, what string, acl ec2types.NetworkAcl, subnetID string, want []string) {
	t.Helper()
	var got []string
	for _, e := range acl.Entries {
		if aws.ToInt32(e.RuleNumber) >= 32767 {
			continue
		}
		dir := "in"
		if aws.ToBool(e.Egress) {
			dir = "out"
		}
		s := fmt.Sprintf("%s %d %s %s %s", dir, aws.ToInt32(e.RuleNumber), e.RuleAction, aws.ToString(e.Protocol), canonical(aws.ToString(e.CidrBlock)+aws.ToString(e.Ipv6CidrBlock)))
		if e.PortRange != nil {
			s += fmt.Sprintf(" %d-%d", aws.ToInt32(e.PortRange.From), aws.ToInt32(e.PortRange.To))
		}
		got = append(got, s)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s entries:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	associated := false
	for _, a := range acl.Associations {
		associated = associated || aws.ToString(a.SubnetId) == subnetID
	}
	if !associated {
		t.Errorf("%s is not associated with %s", what, subnetID)
	}
}

func wantRules(t *testing.T, what string, g ec2types.SecurityGroup, want []string) {
	t.Helper()
	var got []string
	add := func(dir string, perms []ec2types.IpPermission) {
		for _, p := range perms {
			ports := ""
			if aws.ToString(p.IpProtocol) != "-1" {
				ports = fmt.Sprintf(" %d-%d", aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort))
			}
			prefix := dir + " " + aws.ToString(p.IpProtocol) + ports + " "
			for _, r := range p.IpRanges {
				got = append(got, prefix+aws.ToString(r.CidrIp))
			}
			for _, r := range p.Ipv6Ranges {
				got = append(got, prefix+canonical(aws.ToString(r.CidrIpv6)))
			}
			for _, r := range p.UserIdGroupPairs {
				got = append(got, prefix+aws.ToString(r.GroupId))
			}
		}
	}
	add("in", g.IpPermissions)
	add("out", g.IpPermissionsEgress)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s rules:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range got {
		if strings.HasPrefix(r, "in ") && (strings.HasSuffix(r, " 0.0.0.0/0") || strings.HasSuffix(r, " ::/0")) {
			t.Errorf("%s is open inbound to the whole internet: %s", what, r)
		}
	}
}

// canonical writes a CIDR the way netip does: the emulator keeps leading
// zeros in IPv6 groups.
func canonical(s string) string {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.String()
	}
	return s
}
