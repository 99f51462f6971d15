package traffic

import (
	"net/netip"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// GroupAdmits evaluates security group rules the way AWS does ("Security
// group rules" in the VPC User Guide): rules only allow, any one that
// matches admits, none means denied. A rule matches the protocol ("-1"
// matches all), the port range, and the peer: an address inside one of its
// CIDRs, or an instance in one of its referenced groups (peerGroups are the
// groups of the instance on the far side). Security groups are stateful:
// only the direction that opens the connection is evaluated.
func GroupAdmits(perms []ec2types.IpPermission, protocol string, port int32, peer netip.Addr, peerGroups ...string) bool {
	for _, p := range perms {
		proto := aws.ToString(p.IpProtocol)
		if proto == "tcp" {
			proto = "6"
		}
		if proto != "-1" && proto != protocol {
			continue
		}
		if proto != "-1" && (port < aws.ToInt32(p.FromPort) || port > aws.ToInt32(p.ToPort)) {
			continue
		}
		for _, r := range p.IpRanges {
			if contains(aws.ToString(r.CidrIp), peer) {
				return true
			}
		}
		for _, r := range p.Ipv6Ranges {
			if contains(aws.ToString(r.CidrIpv6), peer) {
				return true
			}
		}
		for _, g := range p.UserIdGroupPairs {
			for _, pg := range peerGroups {
				if aws.ToString(g.GroupId) == pg {
					return true
				}
			}
		}
	}
	return false
}

func contains(cidr string, addr netip.Addr) bool {
	p, err := netip.ParsePrefix(cidr)
	return err == nil && addr.IsValid() && p.Contains(addr)
}
