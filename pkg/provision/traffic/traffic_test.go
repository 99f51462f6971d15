package traffic

import (
	"net/netip"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestGroupAdmits(t *testing.T) {
	perms := []ec2types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: aws.String("sg-manager")}}},
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("203.0.113.40/32")}}},
		{IpProtocol: aws.String("-1"), Ipv6Ranges: []ec2types.Ipv6Range{{CidrIpv6: aws.String("2001:db8::/64")}}},
	}
	cases := []struct {
		name   string
		port   int32
		peer   string
		groups []string
		want   bool
	}{
		{"the manager's group on 22", 22, "192.168.0.5", []string{"sg-manager"}, true},
		{"another group on 22", 22, "192.168.0.5", []string{"sg-other"}, false},
		{"the NAT's address on 443", 443, "203.0.113.40", nil, true},
		{"another address on 443", 443, "203.0.113.41", nil, false},
		{"the NAT's address on 80", 80, "203.0.113.40", nil, false},
		{"any port from the IPv6 range", 8080, "2001:db8::7", nil, true},
	}
	for _, c := range cases {
		if got := GroupAdmits(perms, "6", c.port, netip.MustParseAddr(c.peer), c.groups...); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestDecideNamesTheRule(t *testing.T) {
	entries := []ec2types.NetworkAclEntry{
		{RuleNumber: aws.Int32(110), Protocol: aws.String("6"), RuleAction: ec2types.RuleActionDeny, CidrBlock: aws.String("0.0.0.0/0"), PortRange: &ec2types.PortRange{From: aws.Int32(22), To: aws.Int32(22)}},
		{RuleNumber: aws.Int32(100), Protocol: aws.String("6"), RuleAction: ec2types.RuleActionAllow, CidrBlock: aws.String("192.168.0.0/27"), PortRange: &ec2types.PortRange{From: aws.Int32(22), To: aws.Int32(22)}},
		{RuleNumber: aws.Int32(32767), Protocol: aws.String("-1"), RuleAction: ec2types.RuleActionDeny, CidrBlock: aws.String("0.0.0.0/0")},
	}
	if ok, rule := Decide(entries, Packet{Protocol: "6", Peer: "192.168.0.4", Port: 22}); !ok || rule != 100 {
		t.Errorf("from the public subnet: %v by rule %d, want allowed by 100 (lower numbers first)", ok, rule)
	}
	if ok, rule := Decide(entries, Packet{Protocol: "6", Peer: "198.51.100.1", Port: 22}); ok || rule != 110 {
		t.Errorf("from the internet: %v by rule %d, want denied by 110", ok, rule)
	}
	if ok, rule := Decide(entries, Packet{Protocol: "6", Peer: "198.51.100.1", Port: 443}); ok || rule != 0 {
		t.Errorf("no rule: %v by rule %d, want denied by none (the final *)", ok, rule)
	}
}

func TestRouteTakesTheMostSpecific(t *testing.T) {
	routes := []ec2types.Route{
		{DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: aws.String("nat-1")},
		{DestinationCidrBlock: aws.String("192.168.0.0/24"), GatewayId: aws.String("local")},
		{DestinationCidrBlock: aws.String("10.0.0.0/8"), GatewayId: aws.String("igw-dead"), State: ec2types.RouteStateBlackhole},
	}
	for dst, want := range map[string]string{"198.51.100.1": "nat-1", "192.168.0.9": "local", "10.1.2.3": "nat-1"} {
		r, ok := Route(routes, netip.MustParseAddr(dst))
		if !ok || Target(r) != want {
			t.Errorf("route to %s: %v %s, want %s", dst, ok, Target(r), want)
		}
	}
	if _, ok := Route(routes, netip.MustParseAddr("2001:db8::1")); ok {
		t.Errorf("an IPv6 address matched an IPv4 route")
	}
}
