package provision

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/provision/awstest/nacl"
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
func writtenEntries(s *networkACLStep) []ec2types.NetworkAclEntry {
	var out []ec2types.NetworkAclEntry
	for _, w := range s.wanted() {
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
	for _, s := range []*networkACLStep{newNetworkACLStep(env, true), newNetworkACLStep(env, false)} {
		entries := writtenEntries(s)
		cases := []struct {
			what  string
			p     nacl.Packet
			admit bool
		}{
			{"ICMP fragmentation needed from a router", nacl.Packet{Protocol: icmp, Peer: "198.51.100.1", ICMPType: 3, ICMPCode: 4}, true},
			{"ICMPv6 packet too big from a router", nacl.Packet{Protocol: icmpv6, Peer: "2001:db8:ffff::1", ICMPType: 2}, true},
			{"ICMP echo request from the internet", nacl.Packet{Protocol: icmp, Peer: "198.51.100.1", ICMPType: 8}, false},
			{"ICMP host unreachable from the internet", nacl.Packet{Protocol: icmp, Peer: "198.51.100.1", ICMPType: 3, ICMPCode: 1}, false},
			{"TCP return traffic to an ephemeral port", nacl.Packet{Protocol: tcp, Peer: "198.51.100.1", Port: 40000}, true},
			{"a new connection to 443 from the internet", nacl.Packet{Protocol: tcp, Peer: "198.51.100.1", Port: 443}, false},
		}
		for _, c := range cases {
			if got := nacl.Admits(entries, c.p); got != c.admit {
				t.Errorf("%s: %s: admitted=%v, want %v", s.id, c.what, got, c.admit)
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
