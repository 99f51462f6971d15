package stack

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/traffic"
	"github.com/provision-dev/provision/pkg/state"
)

// aclTestEnv is an environment with the default configuration whose VPC
// and public subnet have known IPv6 blocks.
func aclTestEnv(t *testing.T) *Env {
	t.Helper()
	cfg := config.Defaults()
	cfg.Stack = "ci"
	cfg.GitLab.SSHSourceCIDRs = []string{"203.0.113.10/32"}
	ledger := state.NewLedger(state.New("ci", "eu-west-1"), nil)
	env := &Env{Cfg: &cfg, Ledger: ledger}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(env.records().Created(StepVPC, "vpc", "vpc-1", map[string]string{"cidr": "192.168.0.0/24", "ipv6_cidr": "2001:db8:1200::/56"}))
	must(env.records().Created(StepPublicSubnet, "subnet", "subnet-pub", map[string]string{"ipv6_cidr": "2001:db8:1200::/64"}))
	must(env.records().Created(StepPrivateSubnet, "subnet", "subnet-priv", map[string]string{"ipv6_cidr": "2001:db8:1201::/64"}))
	return env
}

// writtenEntries are the entries the step would write, in the form AWS
// returns them.
func writtenEntries(k networkACLKind) []ec2types.NetworkAclEntry {
	var out []ec2types.NetworkAclEntry
	for _, w := range k.wanted() {
		in := w.createInput("acl-1")
		out = append(out, ec2types.NetworkAclEntry{Egress: in.Egress, RuleNumber: in.RuleNumber, Protocol: in.Protocol, RuleAction: in.RuleAction,
			CidrBlock: in.CidrBlock, Ipv6CidrBlock: in.Ipv6CidrBlock, PortRange: in.PortRange, IcmpTypeCode: in.IcmpTypeCode})
	}
	return out
}

// Path-MTU discovery needs ICMP "fragmentation needed" and ICMPv6 "packet
// too big" in through both ACLs, from anywhere on the path; nothing else
// of ICMP needs to come in.
func TestBothACLsAdmitPathMTUDiscovery(t *testing.T) {
	env := aclTestEnv(t)
	for _, k := range []networkACLKind{newNetworkACLs(env, true), newNetworkACLs(env, false)} {
		entries := writtenEntries(k)
		cases := []struct {
			what  string
			p     traffic.Packet
			admit bool
		}{
			{"ICMP fragmentation needed from a router", traffic.Packet{Protocol: icmp, Peer: "198.51.100.1", ICMPType: 3, ICMPCode: 4}, true},
			{"ICMPv6 packet too big from a router", traffic.Packet{Protocol: icmpv6, Peer: "2001:db8:ffff::1", ICMPType: 2}, true},
			{"ICMP echo request from the internet", traffic.Packet{Protocol: icmp, Peer: "198.51.100.1", ICMPType: 8}, false},
			{"ICMP host unreachable from the internet", traffic.Packet{Protocol: icmp, Peer: "198.51.100.1", ICMPType: 3, ICMPCode: 1}, false},
			{"TCP return traffic to an ephemeral port", traffic.Packet{Protocol: tcp, Peer: "198.51.100.1", Port: 40000}, true},
			{"a new connection to 443 from the internet", traffic.Packet{Protocol: tcp, Peer: "198.51.100.1", Port: 443}, false},
		}
		for _, c := range cases {
			if got := traffic.Admits(entries, c.p); got != c.admit {
				t.Errorf("%s: %s: admitted=%v, want %v", k.id, c.what, got, c.admit)
			}
		}
	}
}

// An ICMP rule read back without its type and code (the emulator drops
// them) is not a difference; one with other values is.
func TestICMPRuleWithoutTypeAndCodeMatches(t *testing.T) {
	want := aclEntry{Rule: 210, Protocol: icmp, Allow: true, CIDR: anyIPv4, From: 3, To: 4}
	unread := fromEC2Entry(ec2types.NetworkAclEntry{RuleNumber: aws.Int32(210), Protocol: aws.String(icmp), RuleAction: ec2types.RuleActionAllow, CidrBlock: aws.String(anyIPv4), Egress: aws.Bool(false)})
	if !unread.matches(want) {
		t.Errorf("an ICMP rule without type and code should match %v", want)
	}
	other := fromEC2Entry(ec2types.NetworkAclEntry{RuleNumber: aws.Int32(210), Protocol: aws.String(icmp), RuleAction: ec2types.RuleActionAllow, CidrBlock: aws.String(anyIPv4), Egress: aws.Bool(false),
		IcmpTypeCode: &ec2types.IcmpTypeCode{Type: aws.Int32(8), Code: aws.Int32(-1)}})
	if other.matches(want) {
		t.Errorf("an ICMP echo rule must not match %v", want)
	}
}

// diffEntries finds what to add, restore and remove, by direction and
// rule number, and leaves AWS's deny-all rules alone.
func TestDiffEntries(t *testing.T) {
	want := []aclEntry{
		{Rule: 100, Protocol: tcp, Allow: true, CIDR: "10.0.0.0/24", From: 22, To: 22},
		{Rule: 200, Protocol: tcp, Allow: true, CIDR: anyIPv4, From: 1024, To: 65535},
		{Egress: true, Rule: 100, Protocol: allProtos, Allow: true, CIDR: anyIPv4},
	}
	entry := func(e aclEntry) ec2types.NetworkAclEntry {
		in := e.createInput("acl-1")
		return ec2types.NetworkAclEntry{Egress: in.Egress, RuleNumber: in.RuleNumber, Protocol: in.Protocol, RuleAction: in.RuleAction, CidrBlock: in.CidrBlock, PortRange: in.PortRange}
	}
	denyAll := ec2types.NetworkAclEntry{Egress: aws.Bool(false), RuleNumber: aws.Int32(32767), Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionDeny, CidrBlock: aws.String(anyIPv4)}
	opened := want[0]
	opened.CIDR = anyIPv4
	extra := aclEntry{Rule: 150, Protocol: tcp, Allow: true, CIDR: anyIPv4, From: 3389, To: 3389}
	cases := []struct {
		name                    string
		have                    []ec2types.NetworkAclEntry
		create, replace, remove int
	}{
		{"in sync", []ec2types.NetworkAclEntry{entry(want[0]), entry(want[1]), entry(want[2]), denyAll}, 0, 0, 0},
		{"empty", []ec2types.NetworkAclEntry{denyAll}, 3, 0, 0},
		{"a rule widened by hand", []ec2types.NetworkAclEntry{entry(opened), entry(want[1]), entry(want[2])}, 0, 1, 0},
		{"a rule added by hand", []ec2types.NetworkAclEntry{entry(want[0]), entry(want[1]), entry(want[2]), entry(extra)}, 0, 0, 1},
	}
	for _, c := range cases {
		f := diffEntries(c.have, want)
		if len(f.create) != c.create || len(f.replace) != c.replace || len(f.remove) != c.remove {
			t.Errorf("%s: create %d replace %d remove %d, want %d %d %d", c.name, len(f.create), len(f.replace), len(f.remove), c.create, c.replace, c.remove)
		}
	}
}

// vpcWithBlocks is a VPC as DescribeVpcs returns it: a primary IPv4 block
// and further associations, each "cidr state" (an IPv6 block has a colon).
func vpcWithBlocks(primary string, more ...string) *ec2types.Vpc {
	v := &ec2types.Vpc{VpcId: aws.String("vpc-1"), CidrBlock: aws.String(primary),
		CidrBlockAssociationSet: []ec2types.VpcCidrBlockAssociation{{CidrBlock: aws.String(primary), CidrBlockState: &ec2types.VpcCidrBlockState{State: ec2types.VpcCidrBlockStateCodeAssociated}}}}
	for _, m := range more {
		cidr, state, _ := strings.Cut(m, " ")
		s := &ec2types.VpcCidrBlockState{State: ec2types.VpcCidrBlockStateCode(state)}
		if strings.Contains(cidr, ":") {
			v.Ipv6CidrBlockAssociationSet = append(v.Ipv6CidrBlockAssociationSet, ec2types.VpcIpv6CidrBlockAssociation{Ipv6CidrBlock: aws.String(cidr), Ipv6CidrBlockState: s})
		} else {
			v.CidrBlockAssociationSet = append(v.CidrBlockAssociationSet, ec2types.VpcCidrBlockAssociation{CidrBlock: aws.String(cidr), CidrBlockState: s})
		}
	}
	return v
}

// existingVPCEnv is an environment in an existing VPC whose blocks the VPC
// step recorded as it records them from DescribeVpcs.
func existingVPCEnv(t *testing.T, ipv6 bool, v *ec2types.Vpc) *Env {
	t.Helper()
	cfg := config.Defaults()
	cfg.Stack = "ci"
	cfg.Network.VpcID, cfg.Network.IPv6 = "vpc-1", ipv6
	cfg.Network.PublicSubnetCIDR, cfg.Network.PrivateSubnetCIDR = "10.20.0.0/27", "10.20.1.0/24"
	env := &Env{Cfg: &cfg, Ledger: state.NewLedger(state.New("ci", "eu-west-1"), nil)}
	if err := env.records().External(StepVPC, "vpc", "vpc-1", vpcKind{env}.Record(v).Attrs); err != nil {
		t.Fatal(err)
	}
	if err := env.records().Created(StepPublicSubnet, "subnet", "subnet-pub", map[string]string{"ipv6_cidr": "2001:db8:1200::/64"}); err != nil {
		t.Fatal(err)
	}
	return env
}

// outboundDenies lists the private ACL's outbound denies as "rule cidr".
func outboundDenies(rules []aclEntry) []string {
	var out []string
	for _, r := range rules {
		if r.Egress && !r.Allow {
			out = append(out, fmt.Sprintf("%d %s", r.Rule, r.CIDR))
		}
	}
	return out
}

// The private ACL denies every block the VPC has, IPv4 and IPv6, primary or
// not, and no block the VPC no longer has; a VPC with more blocks than the
// rule quota holds is refused, naming the number.
func TestPrivateACLDeniesEveryVPCBlock(t *testing.T) {
	cases := []struct {
		name    string
		ipv6    bool
		vpc     *ec2types.Vpc
		quota   int
		denies  []string
		tooMany string // what the error names, "" for none
	}{
		{name: "primary only", vpc: vpcWithBlocks("10.20.0.0/16"), denies: []string{"20 10.20.0.0/16"}},
		{name: "secondary IPv4", vpc: vpcWithBlocks("10.20.0.0/16", "100.64.0.0/16 associated"),
			denies: []string{"20 10.20.0.0/16", "21 100.64.0.0/16"}},
		{name: "IPv6, denied with network.ipv6 on", ipv6: true, vpc: vpcWithBlocks("10.20.0.0/16", "2600:1f18:1200::/56 associated", "100.64.0.0/16 associated"),
			denies: []string{"20 10.20.0.0/16", "21 100.64.0.0/16", "22 2600:1f18:1200::/56"}},
		{name: "IPv6, denied with network.ipv6 off too", vpc: vpcWithBlocks("10.20.0.0/16", "2600:1f18:1200::/56 associated"),
			denies: []string{"20 10.20.0.0/16", "21 2600:1f18:1200::/56"}},
		{name: "a block being associated is denied already", vpc: vpcWithBlocks("10.20.0.0/16", "100.64.0.0/16 associating"),
			denies: []string{"20 10.20.0.0/16", "21 100.64.0.0/16"}},
		{name: "disassociated and failed blocks are ignored", vpc: vpcWithBlocks("10.20.0.0/16", "100.64.0.0/16 disassociated", "100.65.0.0/16 disassociating", "100.66.0.0/16 failed", "2600:1f18:1200::/56 disassociated"),
			denies: []string{"20 10.20.0.0/16"}},
		{name: "17 IPv4 blocks fill 20 rules", vpc: vpcWithBlocks("10.0.0.0/16", blocks(16)...), denies: denyList(17)},
		{name: "18 IPv4 blocks are too many", vpc: vpcWithBlocks("10.0.0.0/16", blocks(17)...), tooMany: "vpc-1 has 18 IPv4 blocks"},
		{name: "18 IPv4 blocks fit a raised quota", vpc: vpcWithBlocks("10.0.0.0/16", blocks(17)...), quota: 21, denies: denyList(18)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := existingVPCEnv(t, c.ipv6, c.vpc)
			if c.quota != 0 {
				env.Cfg.Network.ACLRuleQuota = c.quota
			}
			k := newNetworkACLs(env, false)
			rules := k.wanted()
			err := k.checkRuleQuota("vpc-1", rules, env.vpcBlocks())
			if c.tooMany != "" {
				if err == nil || !strings.Contains(err.Error(), c.tooMany) || !strings.Contains(err.Error(), "acl_rule_quota") || !strings.Contains(err.Error(), "Rules per network ACL") {
					t.Fatalf("want a refusal naming %q, the quota and network.acl_rule_quota; got %v", c.tooMany, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := outboundDenies(rules); strings.Join(got, ", ") != strings.Join(c.denies, ", ") {
				t.Errorf("denies %v, want %v", got, c.denies)
			}
			// The allows the stack needs come first, everything else after.
			for _, r := range rules {
				if r.Egress && r.Allow && r.Protocol == tcp && (r.Rule >= firstVPCDeny) {
					t.Errorf("%v is not before the denies", r)
				}
				if r.Egress && !r.Allow && (r.Rule < firstVPCDeny || r.Rule > lastVPCDeny) {
					t.Errorf("%v is outside the denies' range", r)
				}
			}
		})
	}
}

// blocks returns n further IPv4 blocks, associated.
func blocks(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("100.%d.0.0/16 associated", 64+i))
	}
	return out
}

// denyList is what blocks(n-1) after 10.0.0.0/16 are denied with.
func denyList(n int) []string {
	out := []string{"20 10.0.0.0/16"}
	for i := range n - 1 {
		out = append(out, fmt.Sprintf("%d 100.%d.0.0/16", 21+i, 64+i))
	}
	return out
}

// Jobs reach nothing in any of the VPC's blocks, and still answer the
// manager and reach the internet (as AWS evaluates the rules).
func TestPrivateACLBlocksJobsFromSecondaryBlocks(t *testing.T) {
	env := existingVPCEnv(t, true, vpcWithBlocks("10.20.0.0/16", "100.64.0.0/16 associated", "2600:1f18:1200::/56 associated"))
	entries := writtenEntries(newNetworkACLs(env, false))
	for _, c := range []struct {
		what  string
		p     traffic.Packet
		admit bool
	}{
		{"a job connecting into the primary block", traffic.Packet{Egress: true, Protocol: tcp, Peer: "10.20.5.5", Port: 443}, false},
		{"a job connecting into the secondary block", traffic.Packet{Egress: true, Protocol: tcp, Peer: "100.64.3.4", Port: 443}, false},
		{"a job connecting to an ephemeral port in the secondary block", traffic.Packet{Egress: true, Protocol: tcp, Peer: "100.64.3.4", Port: 40000}, false},
		{"a job connecting into the VPC over IPv6", traffic.Packet{Egress: true, Protocol: tcp, Peer: "2600:1f18:1200:5::1", Port: 443}, false},
		{"a machine answering the manager", traffic.Packet{Egress: true, Protocol: tcp, Peer: "10.20.0.10", Port: 51000}, true},
		{"a job reaching the internet", traffic.Packet{Egress: true, Protocol: tcp, Peer: "203.0.113.5", Port: 443}, true},
		{"a job reaching the internet over IPv6", traffic.Packet{Egress: true, Protocol: tcp, Peer: "2001:db8:ffff::5", Port: 443}, true},
	} {
		if got := traffic.Admits(entries, c.p); got != c.admit {
			t.Errorf("%s: admitted=%v, want %v", c.what, got, c.admit)
		}
	}
}

// A block keeps the number its deny has; a new block takes the lowest free
// number, a removed block's deny goes, and an ACL of the earlier layout
// (answers at 90 and 91, denies at 95 and 96) keeps its denies in place.
func TestVPCDeniesKeepTheirNumbers(t *testing.T) {
	deny := func(rule int32, cidr string) ec2types.NetworkAclEntry {
		in := aclEntry{Egress: true, Rule: rule, Protocol: allProtos, CIDR: cidr}.createInput("acl-1")
		return ec2types.NetworkAclEntry{Egress: in.Egress, RuleNumber: in.RuleNumber, Protocol: in.Protocol, RuleAction: in.RuleAction, CidrBlock: in.CidrBlock, Ipv6CidrBlock: in.Ipv6CidrBlock}
	}
	cases := []struct {
		name   string
		blocks []string
		have   []ec2types.NetworkAclEntry
		want   []string
	}{
		{"a new ACL", []string{"10.20.0.0/16", "100.64.0.0/16"}, nil, []string{"20 10.20.0.0/16", "21 100.64.0.0/16"}},
		{"a block added", []string{"10.20.0.0/16", "100.64.0.0/16", "100.65.0.0/16"}, []ec2types.NetworkAclEntry{deny(20, "10.20.0.0/16"), deny(21, "100.64.0.0/16")},
			[]string{"20 10.20.0.0/16", "21 100.64.0.0/16", "22 100.65.0.0/16"}},
		{"a block removed, another added", []string{"10.20.0.0/16", "100.65.0.0/16"}, []ec2types.NetworkAclEntry{deny(20, "10.20.0.0/16"), deny(21, "100.64.0.0/16")},
			[]string{"20 10.20.0.0/16", "21 100.65.0.0/16"}},
		{"the earlier layout", []string{"10.20.0.0/16", "2600:1f18:1200::/56", "100.64.0.0/16"}, []ec2types.NetworkAclEntry{deny(95, "10.20.0.0/16"), deny(96, "2600:1f18:1200::/56")},
			[]string{"95 10.20.0.0/16", "96 2600:1f18:1200::/56", "20 100.64.0.0/16"}},
	}
	for _, c := range cases {
		if got := outboundDenies(vpcDenies(c.blocks, c.have)); strings.Join(got, ", ") != strings.Join(c.want, ", ") {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// An ACL of the earlier layout (answers to the manager at 90 and 91, the
// VPC's denies at 95 and 96) is brought to the current one by adding the
// answers at 10 and 11 and removing 90 and 91; its denies stay where they
// are.
func TestEarlierLayoutKeepsItsDenies(t *testing.T) {
	env := aclTestEnv(t)
	k := newNetworkACLs(env, false)
	moved := map[int32]int32{10: 90, 11: 91, 20: 95, 21: 96}
	var have []ec2types.NetworkAclEntry
	for _, e := range writtenEntries(k) {
		if to, ok := moved[aws.ToInt32(e.RuleNumber)]; ok && aws.ToBool(e.Egress) {
			e.RuleNumber = aws.Int32(to)
		}
		have = append(have, e)
	}
	f := diffEntries(have, k.rules(env.vpcBlocks(), have))
	rules := func(es []aclEntry) (out []int32) {
		for _, e := range es {
			out = append(out, e.Rule)
		}
		return out
	}
	if got := rules(f.create); !slices.Equal(got, []int32{10, 11}) {
		t.Errorf("create %v, want [10 11]", got)
	}
	if got := rules(f.remove); !slices.Equal(got, []int32{90, 91}) {
		t.Errorf("remove %v, want [90 91]", got)
	}
	if len(f.replace) != 0 {
		t.Errorf("replace %v, want nothing", f.replace)
	}
}
