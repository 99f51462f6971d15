package provision

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
)

// gitlabIngressStep adds the stack's rules to GitLab's security group: TCP
// 443 from the NAT's and from the manager's Elastic IP, and, when GitLab
// has an IPv6 address and the stack IPv6, from the manager's IPv6 address
// and the private subnet's /64 (the machines' IPv6 traffic leaves through
// the egress-only gateway from their own addresses, which only that /64
// bounds). The rules are recognised by their description, which names the
// stack; no other rule of that group is ever touched, and the group itself
// is never deleted.
type gitlabIngressStep struct{ env *Env }

func newGitLabIngressStep(env *Env) *gitlabIngressStep { return &gitlabIngressStep{env: env} }

func (s *gitlabIngressStep) ID() plan.ID { return stepGitLabIngress }
func (s *gitlabIngressStep) DependsOn() []plan.ID {
	deps := []plan.ID{stepNATAddress, stepManagerAddress}
	if s.env.gitlabIPv6Paths() {
		deps = append(deps, stepManager, stepPrivateSubnet)
	}
	return deps
}

var errGitLabGroupMissing = errors.New("GitLab's security group is missing")

// ingressRule is one address block on port 443, IPv4 or IPv6.
type ingressRule struct {
	cidr, desc string
}

func (s *gitlabIngressStep) descPrefix() string { return "provision " + s.env.Cfg.Stack + ": " }

func (s *gitlabIngressStep) wanted() []ingressRule {
	rules := []ingressRule{
		{cidr: hostCIDR(s.env.attrOf(stepNATAddress, "public_ip"), "(eip/nat)"), desc: s.descPrefix() + "runner machines via the NAT gateway"},
		{cidr: hostCIDR(s.env.attrOf(stepManagerAddress, "public_ip"), "(eip/manager)"), desc: s.descPrefix() + "runner manager"},
	}
	if s.env.gitlabIPv6Paths() {
		rules = append(rules,
			ingressRule{cidr: hostCIDR(s.env.attrOf(stepManager, "ipv6_address"), "(instance/manager ipv6)"), desc: s.descPrefix() + "runner manager over IPv6"},
			ingressRule{cidr: or(canonicalCIDR(s.env.attrOf(stepPrivateSubnet, "ipv6_cidr")), "(subnet/private ipv6)"), desc: s.descPrefix() + "runner machines over IPv6"})
	}
	return rules
}

// hostCIDR is the block of one address: /32, or /128 for IPv6.
func hostCIDR(ip, placeholder string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return placeholder
	}
	return netip.PrefixFrom(a, a.BitLen()).String()
}

// permission is a 443 permission holding rules, each in the range list of
// its address family.
func permission(rules []ingressRule, withDescriptions bool) ec2types.IpPermission {
	p := ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443)}
	for _, r := range rules {
		var desc *string
		if withDescriptions {
			desc = aws.String(r.desc)
		}
		if strings.Contains(r.cidr, ":") {
			p.Ipv6Ranges = append(p.Ipv6Ranges, ec2types.Ipv6Range{CidrIpv6: aws.String(r.cidr), Description: desc})
		} else {
			p.IpRanges = append(p.IpRanges, ec2types.IpRange{CidrIp: aws.String(r.cidr), Description: desc})
		}
	}
	return p
}

func (s *gitlabIngressStep) change() plan.Change {
	var from []string
	for _, r := range s.wanted() {
		from = append(from, r.cidr)
	}
	return plan.Change{Step: stepGitLabIngress, Kind: "security-group-rules", Name: "gitlab", ID: s.env.Cfg.GitLab.SecurityGroupID,
		Attrs: []plan.Attr{{Key: "tcp", Value: "443"}, {Key: "from", Value: strings.Join(from, ",")}}}
}

// ingressFixes is what Apply changes.
type ingressFixes struct {
	add, remove []ingressRule
}

func (s *gitlabIngressStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	have, all, err := s.current(ctx)
	if err != nil {
		return c, err
	}
	f := &ingressFixes{}
	want := map[string]bool{}
	for _, w := range s.wanted() {
		want[w.cidr] = true
		// A 443 rule from that address that someone else made also lets
		// the traffic in; it is left alone (and not ours to revoke).
		if _, ok := have[w.cidr]; !ok && !all[w.cidr] {
			f.add = append(f.add, w)
		}
	}
	for cidr, r := range have {
		if !want[cidr] {
			f.remove = append(f.remove, r)
		}
	}
	sort.Slice(f.remove, func(i, j int) bool { return f.remove[i].cidr < f.remove[j].cidr })
	if len(f.add) == len(s.wanted()) && len(have) == 0 {
		c.Action = plan.Create
		c.Detail = f
		return c, s.env.markGone(stepGitLabIngress)
	}
	for _, r := range f.add {
		c.Reasons = append(c.Reasons, "allow tcp 443 from "+r.cidr)
	}
	for _, r := range f.remove {
		c.Reasons = append(c.Reasons, "revoke tcp 443 from "+r.cidr+" (an address this stack no longer has)")
	}
	if len(c.Reasons) > 0 {
		c.Action = plan.Update
		c.Detail = f
		return c, nil
	}
	return c, s.record()
}

func (s *gitlabIngressStep) record() error {
	attrs := map[string]string{}
	for i, w := range s.wanted() {
		attrs[fmt.Sprintf("cidr_%d", i)] = w.cidr
	}
	return s.env.created(stepGitLabIngress, "security-group-rules", s.env.Cfg.GitLab.SecurityGroupID, attrs)
}

func (s *gitlabIngressStep) Apply(ctx context.Context, c plan.Change) error {
	f := c.Detail.(*ingressFixes)
	if err := s.revoke(ctx, f.remove); err != nil {
		return err
	}
	if len(f.add) > 0 {
		_, err := s.env.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
			GroupId:       aws.String(s.env.Cfg.GitLab.SecurityGroupID),
			IpPermissions: []ec2types.IpPermission{permission(f.add, true)},
		})
		if err != nil && errorCode(err) != "InvalidPermission.Duplicate" {
			return fmt.Errorf("allow 443 from the stack's Elastic IPs on GitLab's group %s: %w", s.env.Cfg.GitLab.SecurityGroupID, err)
		}
	}
	return s.record()
}

func (s *gitlabIngressStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	have, _, err := s.current(ctx)
	if errors.Is(err, errGitLabGroupMissing) {
		// No group, no rules of ours to revoke.
		err = nil
	}
	if err != nil || len(have) == 0 {
		if err == nil {
			err = s.env.forget(stepGitLabIngress)
		}
		return c, err
	}
	f := &ingressFixes{}
	var from []string
	for _, r := range have {
		f.remove = append(f.remove, r)
		from = append(from, r.cidr)
	}
	sort.Strings(from)
	c.Attrs = []plan.Attr{{Key: "tcp", Value: "443"}, {Key: "from", Value: strings.Join(from, ",")}}
	c.Action = plan.Delete
	c.Detail = f
	return c, nil
}

func (s *gitlabIngressStep) Delete(ctx context.Context, c plan.Change) error {
	if err := s.revoke(ctx, c.Detail.(*ingressFixes).remove); err != nil {
		return err
	}
	return s.env.forget(stepGitLabIngress)
}

func (s *gitlabIngressStep) revoke(ctx context.Context, rules []ingressRule) error {
	if len(rules) == 0 {
		return nil
	}
	// The description must match for the rule to be found.
	out, err := s.env.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{
		GroupId:       aws.String(s.env.Cfg.GitLab.SecurityGroupID),
		IpPermissions: []ec2types.IpPermission{permission(rules, true)},
	})
	if err != nil && errorCode(err) != "InvalidPermission.NotFound" && !isNotFound(err) {
		return fmt.Errorf("revoke the stack's 443 rules on GitLab's group %s: %w", s.env.Cfg.GitLab.SecurityGroupID, err)
	}
	if err != nil || out == nil || len(out.UnknownIpPermissions) == 0 {
		return nil
	}
	// AWS answers success and lists what matched nothing: a rule of ours
	// that someone edited (another description) stays open. Look again.
	have, _, err := s.current(ctx)
	if err != nil {
		return err
	}
	var left []string
	for _, r := range rules {
		if _, ok := have[r.cidr]; ok {
			left = append(left, r.cidr)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("revoking 443 from %s on GitLab's group %s matched no rule, yet the stack's rules are still there: remove them by hand (EC2 console, the group's inbound rules described %q)", strings.Join(left, ", "), s.env.Cfg.GitLab.SecurityGroupID, s.descPrefix())
	}
	return nil
}

// current returns the stack's own 443 rules on GitLab's group (by
// description), and every CIDR any 443 rule there allows.
func (s *gitlabIngressStep) current(ctx context.Context) (map[string]ingressRule, map[string]bool, error) {
	id := s.env.Cfg.GitLab.SecurityGroupID
	out, err := s.env.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if isNotFound(err) || (err == nil && len(out.SecurityGroups) == 0) {
		return nil, nil, fmt.Errorf("GitLab's security group %s (gitlab.security_group_id) does not exist in %s: check the id and the region: %w", id, s.env.Region, errGitLabGroupMissing)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("describe GitLab's security group %s: %w", id, err)
	}
	ours, all := map[string]ingressRule{}, map[string]bool{}
	for _, p := range out.SecurityGroups[0].IpPermissions {
		if aws.ToString(p.IpProtocol) != "tcp" || aws.ToInt32(p.FromPort) > 443 || aws.ToInt32(p.ToPort) < 443 {
			continue
		}
		var ranges []ingressRule
		for _, r := range p.IpRanges {
			ranges = append(ranges, ingressRule{cidr: aws.ToString(r.CidrIp), desc: aws.ToString(r.Description)})
		}
		for _, r := range p.Ipv6Ranges {
			ranges = append(ranges, ingressRule{cidr: canonicalCIDR(aws.ToString(r.CidrIpv6)), desc: aws.ToString(r.Description)})
		}
		for _, r := range ranges {
			all[r.cidr] = true
			if strings.HasPrefix(r.desc, s.descPrefix()) && aws.ToInt32(p.FromPort) == 443 && aws.ToInt32(p.ToPort) == 443 {
				ours[r.cidr] = r
			}
		}
	}
	return ours, all, nil
}
