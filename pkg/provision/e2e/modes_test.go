package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/provision/traffic"
)

// plan, up --dry-run, plan --destroy, down --dry-run and status only read,
// before and after the environment exists.
func TestReadOnlyCommandsMakeNoMutatingCalls(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	readOnly := func(stage string, statusCode int) {
		calls := h.countMutating(func() {
			h.mustRun(0, "plan")
			h.mustRun(0, "plan", "--json")
			h.mustRun(0, "up", "--dry-run")
			h.mustRun(0, "plan", "--destroy")
			h.mustRun(0, "down", "--dry-run")
			h.mustRun(statusCode, "status")
		})
		if len(calls) != 0 {
			t.Fatalf("%s: read-only commands made mutating calls: %v", stage, calls)
		}
		if len(h.proxy.Calls()) == 0 {
			t.Fatalf("%s: the proxy saw no calls at all: is AWS_ENDPOINT_URL honoured?", stage)
		}
	}
	readOnly("before up", 2) // everything is missing
	if _, err := os.Stat(h.statePath("net")); !os.IsNotExist(err) {
		t.Fatalf("a read-only command wrote the state file")
	}
	r := h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(r.stdout, fmt.Sprintf("Plan: %d to add", fullSteps)) {
		t.Fatalf("plan:\n%s", r)
	}
	h.mustRun(0, "up", "--auto-approve")
	readOnly("after up", 0)
	d := h.mustRun(0, "plan", "--destroy")
	if !strings.Contains(d.stdout, fmt.Sprintf("Plan: 0 to add, 0 to change, %d to destroy.", fullSteps)) {
		t.Fatalf("plan --destroy:\n%s", d)
	}
	h.mustRun(0, "down", "--auto-approve")
}

// Without a terminal, up and down refuse to act unless --auto-approve.
func TestNoTerminalNeedsAutoApprove(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	calls := h.countMutating(func() {
		r := h.mustRun(1, "up")
		if !strings.Contains(r.stderr, "--auto-approve") {
			t.Fatalf("up without approval should name --auto-approve:\n%s", r)
		}
	})
	if len(calls) != 0 {
		t.Fatalf("unapproved up made mutating calls: %v", calls)
	}
	h.mustRun(0, "up", "--auto-approve")
	calls = h.countMutating(func() { h.mustRun(1, "down") })
	if len(calls) != 0 {
		t.Fatalf("unapproved down made mutating calls: %v", calls)
	}
	h.mustRun(0, "down", "--auto-approve")
}

// The JSON plan has stable field names and the same content as the text.
func TestPlanJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	r := h.mustRun(0, "plan", "--json")
	var doc struct {
		FormatVersion int    `json:"format_version"`
		Stack         string `json:"stack"`
		Region        string `json:"region"`
		Destroy       bool   `json:"destroy"`
		Changes       []struct {
			Step, Kind, Action, Name string
			Attributes               map[string]string
		} `json:"changes"`
		Summary struct{ Add, Change, Destroy int } `json:"summary"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("plan --json is not JSON: %v\n%s", err, r.stdout)
	}
	if doc.FormatVersion != 1 || doc.Stack != "net" || doc.Region != region || doc.Destroy || doc.Summary.Add != fullSteps || len(doc.Changes) != fullSteps+1 /* drain/manager, nothing to hand over */ {
		t.Fatalf("unexpected plan document: %+v", doc)
	}
	if c := doc.Changes[0]; c.Step != "vpc" || c.Action != "create" || c.Attributes["cidr"] != "192.168.0.0/24" {
		t.Fatalf("first change = %+v", c)
	}
}

// makeExistingVPC makes the user's VPC (10.20.0.0/16, with an IPv6 block)
// and its internet gateway, as someone else would.
func makeExistingVPC(t *testing.T, h *harness) (vpcID, igwID string) {
	t.Helper()
	ctx := context.Background()
	vpc, err := h.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	vpcID = aws.ToString(vpc.Vpc.VpcId)
	igw, err := h.ec2.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		t.Fatal(err)
	}
	igwID = aws.ToString(igw.InternetGateway.InternetGatewayId)
	if _, err := h.ec2.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: &igwID, VpcId: &vpcID}); err != nil {
		t.Fatal(err)
	}
	return vpcID, igwID
}

// existingVPCConfig is the base configuration in that VPC.
func existingVPCConfig(vpcID string) string {
	return strings.Replace(baseConfig, "  cidr: 192.168.0.0/24\n  public_subnet_cidr: 192.168.0.0/27\n  private_subnet_cidr: 192.168.0.128/25\n",
		"  vpc_id: "+vpcID+"\n  public_subnet_cidr: 10.20.0.0/27\n  private_subnet_cidr: 10.20.1.0/24\n", 1)
}

// With network.vpc_id the tool builds inside the user's VPC, uses its
// internet gateway, and down leaves both in place.
func TestExistingVPC(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	vpcID, igwID := makeExistingVPC(t, h)
	// Someone else's subnet in the same VPC must survive too.
	other, err := h.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: &vpcID, CidrBlock: aws.String("10.20.9.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	h.writeConfig(existingVPCConfig(vpcID))

	up := h.mustRun(0, "up", "--auto-approve")
	// No vpc or igw, and one zone (an existing VPC without subnet lists):
	// no second zone's two subnets and route table.
	if !strings.Contains(up.stdout, fmt.Sprintf("Plan: %d to add", fullSteps-2-3)) {
		t.Fatalf("existing-VPC plan should not add a vpc or igw:\n%s", up)
	}
	subnets, err := h.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: append(byStep("net", "subnet/public"), ec2types.Filter{Name: aws.String("vpc-id"), Values: []string{vpcID}})})
	if err != nil || len(subnets.Subnets) != 1 {
		t.Fatalf("public subnet not in the existing VPC: %v %v", subnets, err)
	}
	igws, err := h.ec2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{})
	if err != nil || len(igws.InternetGateways) != 1 {
		t.Fatalf("want only the existing internet gateway, got %d (%v)", len(igws.InternetGateways), err)
	}
	rts, err := h.ec2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: byStep("net", "rtb/public")})
	if err != nil || len(rts.RouteTables) != 1 {
		t.Fatal(err)
	}
	wantRoutes(t, "rtb/public", rts.RouteTables[0], map[string]string{"0.0.0.0/0": igwID, "::/0": igwID}, aws.ToString(subnets.Subnets[0].SubnetId))
	h.mustRun(0, "plan", "--detailed-exitcode")

	h.mustRun(0, "down", "--auto-approve")
	if _, err := h.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}}); err != nil {
		t.Fatalf("the existing VPC was deleted: %v", err)
	}
	out, err := h.ec2.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{InternetGatewayIds: []string{igwID}})
	if err != nil || len(out.InternetGateways[0].Attachments) != 1 {
		t.Fatalf("the existing internet gateway was deleted or detached: %v %v", out, err)
	}
	if _, err := h.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{aws.ToString(other.Subnet.SubnetId)}}); err != nil {
		t.Fatalf("someone else's subnet was deleted: %v", err)
	}
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down left tagged resources: %v", left)
	}
	// The existing VPC's subnets are back on its default network ACL.
	acls, err := h.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{vpcID}}}})
	if err != nil || len(acls.NetworkAcls) != 1 || !aws.ToBool(acls.NetworkAcls[0].IsDefault) {
		t.Fatalf("want only the default ACL left in the VPC: %+v %v", acls, err)
	}
}

// In an existing VPC, jobs reach none of its blocks: the private ACL denies
// the secondary IPv4 block and the IPv6 block as well as the primary. A
// block associated after up, or one disassociated, is drift that plan
// shows and up repairs. The emulator gives a VPC one Amazon-provided IPv6
// block at most (AWS five, "Amazon VPC quotas"), answers DescribeVpcs with
// an error once a VPC has an IPv6 block of a given range, and has no limit
// on an ACL's rules: the unit tests cover several IPv6 blocks and the
// quota.
func TestExistingVPCBlocksAreDenied(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	vpcID, _ := makeExistingVPC(t, h)
	secondary, err := h.ec2.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: &vpcID, CidrBlock: aws.String("100.64.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	described, err := h.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{vpcID}})
	if err != nil {
		t.Fatal(err)
	}
	vpc6 := canonical(ipv6Of(described.Vpcs[0].Ipv6CidrBlockAssociationSet))
	h.writeConfig(existingVPCConfig(vpcID))
	privateACL := func() ec2types.NetworkAcl {
		out, err := h.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: byStep("net", "nacl/private")})
		return one(t, "nacl/private", out.NetworkAcls, err)
	}
	denies := func(acl ec2types.NetworkAcl) []string {
		var out []string
		for _, e := range acl.Entries {
			if aws.ToBool(e.Egress) && e.RuleAction == ec2types.RuleActionDeny && aws.ToInt32(e.RuleNumber) < 32767 {
				out = append(out, fmt.Sprintf("%d %s", aws.ToInt32(e.RuleNumber), canonical(aws.ToString(e.CidrBlock)+aws.ToString(e.Ipv6CidrBlock))))
			}
		}
		slices.Sort(out)
		return out
	}
	wantDenies := func(stage string, want ...string) ec2types.NetworkAcl {
		t.Helper()
		acl := privateACL()
		slices.Sort(want)
		if got := denies(acl); !slices.Equal(got, want) {
			t.Fatalf("%s: outbound denies %v, want %v", stage, got, want)
		}
		return acl
	}

	h.mustRun(0, "up", "--auto-approve")
	acl := wantDenies("after up", "20 10.20.0.0/16", "21 100.64.0.0/16", "22 "+vpc6)
	inVPC6 := netip.MustParsePrefix(vpc6).Addr().Next().String()
	for _, c := range []struct {
		what  string
		p     traffic.Packet
		admit bool
	}{
		{"a job connecting into the secondary block", traffic.Packet{Egress: true, Protocol: "6", Peer: "100.64.3.4", Port: 443}, false},
		{"a job connecting into the primary block", traffic.Packet{Egress: true, Protocol: "6", Peer: "10.20.7.7", Port: 443}, false},
		{"a job connecting into the VPC over IPv6", traffic.Packet{Egress: true, Protocol: "6", Peer: inVPC6, Port: 443}, false},
		{"a machine answering the manager", traffic.Packet{Egress: true, Protocol: "6", Peer: "10.20.0.10", Port: 51000}, true},
		{"a job reaching GitLab over the internet", traffic.Packet{Egress: true, Protocol: "6", Peer: "203.0.113.5", Port: 443}, true},
	} {
		if got := traffic.Admits(acl.Entries, c.p); got != c.admit {
			t.Errorf("nacl/private: %s: admitted=%v, want %v", c.what, got, c.admit)
		}
	}
	h.mustRun(0, "plan", "--detailed-exitcode")

	// Someone associates another block: plan shows the deny it lacks, up adds it.
	must(t, second(h.ec2.AssociateVpcCidrBlock(ctx, &ec2.AssociateVpcCidrBlockInput{VpcId: &vpcID, CidrBlock: aws.String("100.65.0.0/16")})))
	r := h.mustRun(2, "plan", "--detailed-exitcode")
	for _, want := range []string{"~ nacl/private", "add outbound 23 deny all traffic to 100.65.0.0/16", "Plan: 0 to add, 1 to change, 0 to destroy."} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan does not show %q:\n%s", want, r.stdout)
		}
	}
	if st := h.mustRun(2, "status"); !strings.Contains(st.stdout, "drifted") {
		t.Errorf("status does not report the new block as drift:\n%s", st.stdout)
	}
	h.mustRun(0, "up", "--auto-approve")
	wantDenies("after the block was added", "20 10.20.0.0/16", "21 100.64.0.0/16", "22 "+vpc6, "23 100.65.0.0/16")
	h.mustRun(0, "plan", "--detailed-exitcode")

	// A block disassociated: its deny goes, the others keep their numbers.
	must(t, second(h.ec2.DisassociateVpcCidrBlock(ctx, &ec2.DisassociateVpcCidrBlockInput{AssociationId: secondary.CidrBlockAssociation.AssociationId})))
	r = h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(r.stdout, "remove outbound 21 deny all traffic to 100.64.0.0/16") {
		t.Errorf("plan does not show the removed block's deny going:\n%s", r.stdout)
	}
	h.mustRun(0, "up", "--auto-approve")
	wantDenies("after the block was removed", "20 10.20.0.0/16", "22 "+vpc6, "23 100.65.0.0/16")
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.mustRun(0, "down", "--auto-approve")
}

// Changes made by hand show up in plan and up puts them right.
func TestDriftIsRepaired(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	n := describeNetwork(t, h.ec2, "net")

	// A NACL entry removed, a route deleted, a rule added and one removed.
	if _, err := h.ec2.DeleteNetworkAclEntry(ctx, &ec2.DeleteNetworkAclEntryInput{NetworkAclId: n.aclPrivate.NetworkAclId, Egress: aws.Bool(false), RuleNumber: aws.Int32(200)}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ec2.DeleteRoute(ctx, &ec2.DeleteRouteInput{RouteTableId: n.rtPrivate.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0")}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: n.sgManager.GroupId, IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(3389), ToPort: aws.Int32(3389), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: n.sgManager.GroupId, IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("203.0.113.10/32"), Description: aws.String("provision net: SSH for debugging")}}}}}); err != nil {
		t.Fatal(err)
	}

	r := h.mustRun(2, "plan", "--detailed-exitcode")
	for _, want := range []string{
		"~ nacl/private", "add inbound 200 allow tcp 1024-65535 from 0.0.0.0/0",
		"~ rtb/private", "add route 0.0.0.0/0 -> " + aws.ToString(n.nat.NatGatewayId),
		"~ sg/manager", "remove inbound tcp 3389 from 0.0.0.0/0", "add inbound tcp 22 from 203.0.113.10/32",
		"Plan: 0 to add, 3 to change, 0 to destroy.",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan does not show %q:\n%s", want, r.stdout)
		}
	}
	st := h.mustRun(2, "status")
	if !strings.Contains(st.stdout, "drifted") {
		t.Errorf("status does not report drift:\n%s", st.stdout)
	}
	h.mustRun(0, "up", "--auto-approve")
	h.mustRun(0, "plan", "--detailed-exitcode")
	describeNetwork(t, h.ec2, "net").check(t)

	// The NAT gateway deleted by hand: up makes a new one and repoints the route.
	if _, err := h.ec2.DeleteNatGateway(ctx, &ec2.DeleteNatGatewayInput{NatGatewayId: n.nat.NatGatewayId}); err != nil {
		t.Fatal(err)
	}
	// AWS frees the NAT's address once it is deleted; the emulator does not.
	releaseNATAddress(t, h, n.natAddress.AllocationId)
	r = h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(r.stdout, "+ nat") {
		t.Fatalf("plan does not recreate the NAT:\n%s", r.stdout)
	}
	h.mustRun(0, "up", "--auto-approve")
	h.mustRun(0, "plan", "--detailed-exitcode")
	describeNetwork(t, h.ec2, "net").check(t)
	h.mustRun(0, "down", "--auto-approve")
}

// Without the state file, down finds everything by its tags, and up adopts
// what exists instead of building it twice.
func TestLostState(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	if err := os.Remove(h.statePath("net")); err != nil {
		t.Fatal(err)
	}
	calls := h.countMutating(func() {
		r := h.mustRun(0, "up", "--auto-approve")
		if !strings.Contains(r.stdout, "No changes.") {
			t.Fatalf("up without state should adopt, not create:\n%s", r)
		}
	})
	if len(calls) != 0 {
		t.Fatalf("adopting made mutating calls: %v", calls)
	}
	if _, err := os.Stat(h.statePath("net")); err != nil {
		t.Fatalf("adopting did not write the state file: %v", err)
	}
	h.mustRun(0, "status")
	if err := os.Remove(h.statePath("net")); err != nil {
		t.Fatal(err)
	}
	r := h.mustRun(0, "down", "--auto-approve", "--delete-runner")
	if !strings.Contains(r.stdout, fmt.Sprintf("%d to destroy", fullSteps)) {
		t.Fatalf("down without state:\n%s", r)
	}
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down without state left: %v", left)
	}
	if len(h.gitlab.Runners()) != 0 {
		t.Fatalf("down did not delete the runner in GitLab")
	}
	// --discover with a state file present works from the tags too (a
	// new runner: down deleted the first).
	h.gitlab.AddRunner(runnerToken)
	h.mustRun(0, "up", "--auto-approve")
	saved, err := os.ReadFile(h.statePath("net"))
	must(t, err)
	h.mustRun(0, "down", "--auto-approve", "--discover")
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down --discover left: %v", left)
	}
	if _, err := os.Stat(h.statePath("net")); !os.IsNotExist(err) {
		t.Fatalf("state file survives down --discover")
	}
	// A state file that records resources, and tags that find none (the
	// wrong account, say): --discover keeps the file.
	must(t, os.WriteFile(h.statePath("net"), saved, 0o600))
	r = h.mustRun(0, "down", "--auto-approve", "--discover")
	if !strings.Contains(r.stdout, "is kept") {
		t.Errorf("down --discover that found nothing:\n%s", r)
	}
	if _, err := os.Stat(h.statePath("net")); err != nil {
		t.Fatalf("down --discover that found nothing removed the state file: %v", err)
	}
}

func releaseNATAddress(t *testing.T, h *harness, allocationID *string) {
	t.Helper()
	ctx := context.Background()
	out, err := h.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{aws.ToString(allocationID)}})
	if err != nil {
		t.Fatal(err)
	}
	if a := out.Addresses[0]; a.AssociationId != nil {
		if _, err := h.ec2.DisassociateAddress(ctx, &ec2.DisassociateAddressInput{AssociationId: a.AssociationId}); err != nil {
			t.Logf("disassociate NAT address: %v", err)
		}
	}
}

// With ipv6: false there is no IPv6 anywhere: no egress-only gateway, no
// ::/0 routes, no IPv6 ACL entries or rules.
func TestIPv4Only(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.writeConfig(strings.Replace(baseConfig, "network:\n", "network:\n  ipv6: false\n", 1))
	up := h.mustRun(0, "up", "--auto-approve")
	if strings.Contains(up.stdout, "eigw") || strings.Contains(up.stdout, "::/0") {
		t.Fatalf("IPv6 in an IPv4-only plan:\n%s", up.stdout)
	}
	eigws, err := h.ec2.DescribeEgressOnlyInternetGateways(ctx, &ec2.DescribeEgressOnlyInternetGatewaysInput{})
	if err != nil || len(eigws.EgressOnlyInternetGateways) != 0 {
		t.Fatalf("egress-only gateway in an IPv4-only stack: %v", err)
	}
	subnets, err := h.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:provision:stack"), Values: []string{"net"}}}})
	if err != nil || len(subnets.Subnets) != 4 { // two zones
		t.Fatalf("subnets: %v", err)
	}
	for _, sn := range subnets.Subnets {
		if len(sn.Ipv6CidrBlockAssociationSet) != 0 || aws.ToBool(sn.AssignIpv6AddressOnCreation) {
			t.Errorf("subnet %s has IPv6", aws.ToString(sn.SubnetId))
		}
	}
	acls, err := h.ec2.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:provision:stack"), Values: []string{"net"}}}})
	if err != nil || len(acls.NetworkAcls) != 2 {
		t.Fatalf("acls: %v", err)
	}
	for _, a := range acls.NetworkAcls {
		for _, e := range a.Entries {
			if e.Ipv6CidrBlock != nil && aws.ToInt32(e.RuleNumber) < 32767 {
				t.Errorf("IPv6 ACL entry %d in %s", aws.ToInt32(e.RuleNumber), aws.ToString(a.NetworkAclId))
			}
		}
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.mustRun(0, "down", "--auto-approve")
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down left: %v", left)
	}
}

// --log-format json prints the progress as one JSON object per line on
// stdout, after the plan and before the summary; what is logged on stderr
// is JSON too.
func TestJSONProgress(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	r := h.mustRun(0, "--log-format", "json", "up", "--auto-approve")
	done := 0
	for _, l := range strings.Split(r.stdout, "\n") {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev["step"] == nil || ev["event"] == nil || ev["time"] == nil {
			t.Fatalf("not a JSON progress line: %q (%v)", l, err)
		}
		if ev["event"] == "done" && ev["action"] == "create" {
			done++
		}
	}
	if done != fullSteps {
		t.Errorf("%d steps reported done, want %d:\n%s", done, fullSteps, r.stdout)
	}
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var entry map[string]any
		if l != "" && (json.Unmarshal([]byte(l), &entry) != nil || entry["msg"] == nil || entry["level"] == nil) {
			t.Fatalf("not a JSON log line: %q", l)
		}
	}
	if !strings.Contains(r.stdout, "Apply complete!") || !strings.Contains(r.stdout, "Plan: ") {
		t.Fatalf("plan and summary are not on stdout:\n%s", r.stdout)
	}
	h.mustRun(0, "down", "--auto-approve")
}

// down removes what an earlier configuration built, even after ipv6 and
// the executor were changed in the file.
func TestDownAfterConfigurationChange(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	h.writeConfig(strings.Replace(baseConfig, "network:\n", "network:\n  ipv6: false\n", 1) + "runners:\n  executor: docker+machine\n")
	r := h.mustRun(0, "down", "--auto-approve")
	for _, step := range []string{"eigw", "lt/runner", "asg/runner"} {
		if !strings.Contains(r.stdout, "- "+step) {
			t.Errorf("down does not remove %s built under the old configuration:\n%s", step, r.stdout)
		}
	}
	if left := h.tagged("net"); len(left) > 0 {
		t.Fatalf("down left: %v", left)
	}
	if _, err := os.Stat(h.statePath("net")); !os.IsNotExist(err) {
		t.Fatalf("state file survives")
	}
}
