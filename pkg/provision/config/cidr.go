package config

import (
	"fmt"
	"net/netip"
)

// Address blocks: parsing, comparing and carving, for the configuration,
// the subnets, the ACL and group rules.

func parseIPv4Prefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR block: write it like 192.168.0.0/24", s)
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%q must be an IPv4 block (IPv6 blocks are assigned by Amazon when ipv6 is true)", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set: did you mean %s?", s, p.Masked())
	}
	return p, nil
}

// contains reports whether inner lies entirely within outer.
func ContainsPrefix(outer, inner netip.Prefix) bool {
	return outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// CanonicalCIDR writes a block the one way netip does, so "2600:1f18:0800::/56"
// and "2600:1f18:800::/56" compare equal. Anything else is returned as is.
func CanonicalCIDR(s string) string {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.String()
	}
	return s
}

// HostCIDR is the block of one address: /32, or /128 for IPv6.
func HostCIDR(ip, placeholder string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return placeholder
	}
	return netip.PrefixFrom(a, a.BitLen()).String()
}

// NthSubnet64 returns the n-th /64 inside a /56.
func NthSubnet64(block netip.Prefix, n int) (netip.Prefix, error) {
	if !block.Addr().Is6() || block.Bits() != 56 || n < 0 || n > 255 {
		return netip.Prefix{}, fmt.Errorf("cannot take /64 number %d of %s: need an IPv6 /56", n, block)
	}
	a := block.Masked().Addr().As16()
	a[7] = byte(n)
	return netip.PrefixFrom(netip.AddrFrom16(a), 64), nil
}

// covers reports whether the blocks together hold every address of
// target: from its first address, each step jumps past a block holding
// the current address, until the target is left behind or no block holds it.
func covers(blocks []netip.Prefix, target netip.Prefix) bool {
	cur := target.Masked().Addr()
	for target.Contains(cur) {
		var holder netip.Prefix
		for _, b := range blocks {
			if b.Contains(cur) && (!holder.IsValid() || b.Bits() < holder.Bits()) {
				holder = b
			}
		}
		if !holder.IsValid() {
			return false
		}
		if cur = lastAddr(holder).Next(); !cur.IsValid() {
			return true // past the last address there is
		}
	}
	return true
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a := netip.AddrFrom16(b)
	if p.Addr().Is4() {
		return a.Unmap()
	}
	return a
}
