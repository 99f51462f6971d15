package provision

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/provision/traffic"
	"github.com/provision-dev/provision/pkg/state"
)

// aclTestEnv is an environment with the default configuration whose VPC
// and public subnet have known IPv6 blocks.
func aclTestEnv(t *testing.T) *Env {
	t.Helper()
	cfg := Defaults()
	cfg.Stack = "ci"
	cfg.GitLab.SSHSourceCIDRs = []string{"203.0.113.10/32"}
	ledger := state.NewLedger(state.New("ci", "eu-west-1"), nil)
	env := &Env{Cfg: &cfg, Ledger: ledger}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(env.created(stepVPC, "vpc", "vpc-1", map[string]string{"cidr": "192.168.0.0/24", "ipv6_cidr": "2001:db8:1200::/56"}))
	must(env.created(stepPublicSubnet, "subnet", "subnet-pub", map[string]string{"ipv6_cidr": "2001:db8:1200::/64"}))
	must(env.created(stepPrivateSubnet, "subnet", "subnet-priv", map[string]string{"ipv6_cidr": "2001:db8:1201::/64"}))
	return env
}

// writtenEntries are the entries the step would write, in the form AWS
// returns them.
func writtenEntries(k networkACLs) []ec2types.NetworkAclEntry {
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
	for _, k := range []networkACLs{newNetworkACLs(env, true), newNetworkACLs(env, false)} {
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
