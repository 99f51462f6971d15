package config

import (
	"fmt"
	"net/netip"
)

// ZoneCount is how many Availability Zones the stack spreads over:
// network.zones, else as many as the subnet lists give, else 1 in an
// existing VPC (whose free ranges only its owner knows) and 2 in the
// stack's own.
func (n *NetworkConfig) ZoneCount() int {
	switch {
	case n.Zones > 0:
		return n.Zones
	case len(n.PublicSubnetCIDRs) > 0:
		return len(n.PublicSubnetCIDRs)
	case n.VpcID != "":
		return 1
	}
	return 2
}

// NATZones is how many NAT gateways the stack has: one, or one per zone.
func (n *NetworkConfig) NATZones() int {
	if n.NAT == NATPerZone {
		return n.ZoneCount()
	}
	return 1
}

// ZoneSubnets are one zone's two ranges.
type ZoneSubnets struct{ Public, Private string }

// Subnets returns every zone's ranges, first zone first. Listed ranges
// are taken as they are. Otherwise the first zone's are
// public_subnet_cidr and private_subnet_cidr, and each further zone takes,
// in turn, the lowest free block of the VPC's range of the first zone's
// public size, then of its private size, halved until it fits (down to
// /28). A zone's ranges depend only on the zones before it, so adding a
// zone never moves an existing subnet.
func (n *NetworkConfig) Subnets() ([]ZoneSubnets, error) {
	count := n.ZoneCount()
	if len(n.PublicSubnetCIDRs) > 0 || len(n.PrivateSubnetCIDRs) > 0 {
		if len(n.PublicSubnetCIDRs) != count || len(n.PrivateSubnetCIDRs) != count {
			return nil, fmt.Errorf("public_subnet_cidrs has %d ranges and private_subnet_cidrs %d, for %d zones: list one range of each per zone", len(n.PublicSubnetCIDRs), len(n.PrivateSubnetCIDRs), count)
		}
		zs := make([]ZoneSubnets, count)
		for i := range zs {
			zs[i] = ZoneSubnets{Public: n.PublicSubnetCIDRs[i], Private: n.PrivateSubnetCIDRs[i]}
		}
		return zs, nil
	}
	zs := []ZoneSubnets{{Public: n.PublicSubnetCIDR, Private: n.PrivateSubnetCIDR}}
	if count == 1 {
		return zs, nil
	}
	if n.VpcID != "" {
		return nil, fmt.Errorf("%d zones in an existing VPC need their ranges: list them in network.public_subnet_cidrs and network.private_subnet_cidrs (free ranges of %s), or set network.zones: 1", count, n.VpcID)
	}
	vpc, err := parseIPv4Prefix(n.CIDR)
	if err != nil {
		return nil, err
	}
	pub, err1 := parseIPv4Prefix(n.PublicSubnetCIDR)
	priv, err2 := parseIPv4Prefix(n.PrivateSubnetCIDR)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("the first zone's ranges are not valid: fix public_subnet_cidr and private_subnet_cidr first")
	}
	used := []netip.Prefix{pub, priv}
	for z := 1; z < count; z++ {
		p, ok := freeBlock(vpc, pub.Bits(), pub.Bits(), used)
		if ok {
			used = append(used, p)
		}
		q, ok2 := freeBlock(vpc, priv.Bits(), 28, used)
		if !ok || !ok2 {
			return nil, fmt.Errorf("network.cidr %s has no room left for zone %d's subnets (a /%d public and a private one of at least /28): give a larger network.cidr to a new stack, list every zone's ranges in public_subnet_cidrs and private_subnet_cidrs, or use fewer zones", vpc, z+1, pub.Bits())
		}
		used = append(used, q)
		zs = append(zs, ZoneSubnets{Public: p.String(), Private: q.String()})
	}
	return zs, nil
}

// freeBlock returns the lowest block of vpc, of bits bits (or, when none is
// free, of bits+1 and so on up to maxBits), that overlaps none of used.
func freeBlock(vpc netip.Prefix, bits, maxBits int, used []netip.Prefix) (netip.Prefix, bool) {
	for ; bits <= maxBits; bits++ {
		if bits < vpc.Bits() {
			continue
		}
		step := uint32(1) << (32 - bits)
		base := vpc.Masked().Addr().As4()
		start := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
		for i := uint64(0); i < uint64(1)<<(bits-vpc.Bits()); i++ {
			a := start + uint32(i)*step
			p := netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}), bits)
			free := true
			for _, u := range used {
				if u.Overlaps(p) {
					free = false
					break
				}
			}
			if free {
				return p, true
			}
		}
	}
	return netip.Prefix{}, false
}

// firstZoneFromLists: the first zone's ranges are read from the singular
// keys everywhere; listed ranges take their place where those keep their
// defaults (validation refuses two different first ranges).
func (n *NetworkConfig) firstZoneFromLists() {
	def := Defaults().Network
	if len(n.PublicSubnetCIDRs) > 0 && n.PublicSubnetCIDR == def.PublicSubnetCIDR {
		n.PublicSubnetCIDR = n.PublicSubnetCIDRs[0]
	}
	if len(n.PrivateSubnetCIDRs) > 0 && n.PrivateSubnetCIDR == def.PrivateSubnetCIDR {
		n.PrivateSubnetCIDR = n.PrivateSubnetCIDRs[0]
	}
}
