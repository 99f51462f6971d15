package stack

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/provision/config"
)

// Security group rules, as the stack's own groups and GitLab's group (the
// rules this stack adds there) both handle them.

// sgRule is one rule in a form that compares by value. Source is a CIDR or
// a group id.
type sgRule struct {
	Egress   bool
	Protocol string // "-1" or "tcp"
	From, To int32
	Source   string
	Desc     string // not compared
}

func (r sgRule) key() string {
	return fmt.Sprintf("%t|%s|%d|%d|%s", r.Egress, r.Protocol, r.From, r.To, config.CanonicalCIDR(r.Source))
}

func (r sgRule) String() string {
	dir, peer := "inbound", "from"
	if r.Egress {
		dir, peer = "outbound", "to"
	}
	what := "all traffic"
	if r.Protocol != allProtos {
		what = fmt.Sprintf("%s %d", r.Protocol, r.From)
		if r.To != r.From {
			what = fmt.Sprintf("%s %d-%d", r.Protocol, r.From, r.To)
		}
	}
	return fmt.Sprintf("%s %s %s %s", dir, what, peer, r.Source)
}

// flattenPermissions turns AWS's grouped permissions into one rule per
// source, keeping descriptions so a revoke matches exactly.
func flattenPermissions(perms []ec2types.IpPermission, egress bool) []sgRule {
	var rs []sgRule
	for _, p := range perms {
		base := sgRule{Egress: egress, Protocol: aws.ToString(p.IpProtocol), From: aws.ToInt32(p.FromPort), To: aws.ToInt32(p.ToPort)}
		if base.Protocol == allProtos {
			base.From, base.To = 0, 0
		}
		for _, r := range p.IpRanges {
			x := base
			x.Source, x.Desc = aws.ToString(r.CidrIp), aws.ToString(r.Description)
			rs = append(rs, x)
		}
		for _, r := range p.Ipv6Ranges {
			x := base
			x.Source, x.Desc = aws.ToString(r.CidrIpv6), aws.ToString(r.Description)
			rs = append(rs, x)
		}
		for _, g := range p.UserIdGroupPairs {
			x := base
			x.Source, x.Desc = aws.ToString(g.GroupId), aws.ToString(g.Description)
			rs = append(rs, x)
		}
	}
	return rs
}

// toPermissions builds one IpPermission per rule of the given direction.
func toPermissions(rules []sgRule, egress bool) []ec2types.IpPermission {
	var ps []ec2types.IpPermission
	for _, r := range rules {
		if r.Egress != egress {
			continue
		}
		p := ec2types.IpPermission{IpProtocol: aws.String(r.Protocol)}
		if r.Protocol != allProtos {
			p.FromPort, p.ToPort = aws.Int32(r.From), aws.Int32(r.To)
		}
		var desc *string
		if r.Desc != "" {
			desc = aws.String(r.Desc)
		}
		switch {
		case strings.HasPrefix(r.Source, "sg-"):
			p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(r.Source), Description: desc}}
		case strings.Contains(r.Source, ":"):
			p.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: aws.String(r.Source), Description: desc}}
		default:
			p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(r.Source), Description: desc}}
		}
		ps = append(ps, p)
	}
	return ps
}

// diffRules compares the rules a group has with those wanted: what to
// authorize and what to revoke, in a stable order.
func diffRules(have, wanted []sgRule) (authorize, revoke []sgRule) {
	byKey := map[string]sgRule{}
	for _, r := range have {
		byKey[r.key()] = r
	}
	want := map[string]bool{}
	for _, w := range wanted {
		want[w.key()] = true
		if _, ok := byKey[w.key()]; !ok {
			authorize = append(authorize, w)
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !want[k] {
			revoke = append(revoke, byKey[k])
		}
	}
	return authorize, revoke
}
