// Package traffic evaluates what AWS evaluates for a packet: network ACL
// entries, security group rules and route tables, each as the VPC User
// Guide describes it. `provision doctor` checks the environment's flows
// with it, and tests use it, since the emulator stores rules but
// evaluates none.
package traffic

import (
	"net/netip"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Packet is one packet crossing a subnet's boundary, as a network ACL sees
// it: direction, protocol number, the address on the far side, and the TCP
// port or the ICMP type and code.
type Packet struct {
	Egress   bool
	Protocol string // "6" tcp, "1" icmp, "58" icmpv6
	Peer     string // the remote address: source inbound, destination outbound
	Port     int32  // TCP: the port on the far side outbound, on this side inbound
	ICMPType int32
	ICMPCode int32
}

// Admits evaluates network ACL entries the way AWS does ("Network ACL
// rules" in the VPC User Guide): the rules of the packet's direction in
// increasing rule number, the first rule that matches decides, and the
// final * rule denies.
func Admits(entries []ec2types.NetworkAclEntry, p Packet) bool {
	ok, _ := Decide(entries, p)
	return ok
}

// Decide is Admits with the number of the deciding rule (0: none matched,
// the final * rule denied).
func Decide(entries []ec2types.NetworkAclEntry, p Packet) (bool, int32) {
	addr := netip.MustParseAddr(p.Peer)
	sorted := append([]ec2types.NetworkAclEntry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return aws.ToInt32(sorted[i].RuleNumber) < aws.ToInt32(sorted[j].RuleNumber) })
	for _, e := range sorted {
		if aws.ToBool(e.Egress) != p.Egress {
			continue
		}
		prefix, err := netip.ParsePrefix(aws.ToString(e.CidrBlock) + aws.ToString(e.Ipv6CidrBlock))
		if err != nil || !prefix.Contains(addr) || aws.ToInt32(e.RuleNumber) >= 32767 {
			continue
		}
		proto := aws.ToString(e.Protocol)
		if proto != "-1" && proto != p.Protocol {
			continue
		}
		switch proto {
		case "6", "17":
			if r := e.PortRange; r != nil && (p.Port < aws.ToInt32(r.From) || p.Port > aws.ToInt32(r.To)) {
				continue
			}
		case "1", "58":
			if c := e.IcmpTypeCode; c != nil {
				if ty := aws.ToInt32(c.Type); ty != -1 && ty != p.ICMPType {
					continue
				}
				if code := aws.ToInt32(c.Code); code != -1 && code != p.ICMPCode {
					continue
				}
			}
		}
		return e.RuleAction == ec2types.RuleActionAllow, aws.ToInt32(e.RuleNumber)
	}
	return false, 0
}
