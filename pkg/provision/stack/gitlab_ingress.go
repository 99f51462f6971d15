package stack

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// gitlabIngressKind adds the stack's rules to GitLab's security group: TCP 443
// from the NAT's and from the manager's Elastic IP, and, when GitLab has
// an IPv6 address and the stack IPv6, from the manager's IPv6 address and
// the private subnet's /64 (the machines' IPv6 traffic leaves through the
// egress-only gateway from their own addresses, which only that /64
// bounds). The rules are recognised by their description, which names the
// stack; no other rule of that group is ever touched, and the group itself
// is never deleted.
type gitlabIngressKind struct{ env *Env }

// gitlabRules is what the stack finds on GitLab's group: its own 443
// rules, and every block any 443 rule there admits.
type gitlabRules struct {
	ours     []sgRule
	admitted map[string]bool
}

// ingressFix is the rules to add and to revoke.
type ingressFix struct {
	authorize, revoke []sgRule
}

func newGitLabIngressStep(env *Env) plan.Step {
	return resource.NewStep[gitlabRules, ingressFix](env.shared(), "security-group-rules", gitlabIngressKind{env})
}

func (k gitlabIngressKind) StepID() plan.ID { return StepGitLabIngress }
func (k gitlabIngressKind) Needs() []plan.ID {
	deps := []plan.ID{StepManagerAddress}
	for z := range k.env.natCount() {
		deps = append(deps, NATAddressStep(z))
	}
	if k.env.gitlabIPv6Paths() {
		deps = append(append(deps, StepManager), k.env.privateSubnets()...)
	}
	return deps
}

// Hooks names the optional parts of resource.Step this kind has.
func (k gitlabIngressKind) Hooks() resource.Hooks[gitlabRules, ingressFix] {
	return resource.Hooks[gitlabRules, ingressFix]{FindForDelete: k.findForDelete}
}

func (k gitlabIngressKind) descPrefix() string { return "provision " + k.env.Cfg.Stack + ": " }

func (k gitlabIngressKind) wanted() []sgRule {
	rule := func(cidr, what string) sgRule {
		return sgRule{Protocol: "tcp", From: 443, To: 443, Source: cidr, Desc: k.descPrefix() + what}
	}
	rules := []sgRule{
		rule(config.HostCIDR(k.env.AttrOf(StepNATAddress, AttrPublicIP), "(eip/nat)"), "runner machines via the NAT gateway"),
	}
	// network.nat: per_zone: every zone's machines come from their own
	// NAT gateway's address.
	for z := 1; z < k.env.Cfg.Network.NATZones(); z++ {
		id := NATAddressStep(z)
		rules = append(rules, rule(config.HostCIDR(k.env.AttrOf(id, AttrPublicIP), "("+string(id)+")"), fmt.Sprintf("runner machines via zone %d's NAT gateway", z+1)))
	}
	rules = append(rules, rule(config.HostCIDR(k.env.AttrOf(StepManagerAddress, AttrPublicIP), "(eip/manager)"), "runner manager"))
	if k.env.gitlabIPv6Paths() {
		rules = append(rules,
			rule(config.HostCIDR(k.env.AttrOf(StepManager, AttrIPv6Address), "(instance/manager ipv6)"), "runner manager over IPv6"),
			rule(or(config.CanonicalCIDR(k.env.AttrOf(StepPrivateSubnet, AttrIPv6CIDR)), "(subnet/private ipv6)"), "runner machines over IPv6"))
		for z := 1; z < k.env.Cfg.Network.ZoneCount(); z++ {
			id := PrivateSubnetStep(z)
			rules = append(rules, rule(or(config.CanonicalCIDR(k.env.AttrOf(id, AttrIPv6CIDR)), "("+string(id)+" ipv6)"), fmt.Sprintf("runner machines of zone %d over IPv6", z+1)))
		}
	}
	return rules
}

func (k gitlabIngressKind) Describe() plan.Change {
	var from []string
	for _, r := range k.wanted() {
		from = append(from, r.Source)
	}
	return plan.Change{Step: StepGitLabIngress, Kind: "security-group-rules", Name: "gitlab", ID: k.env.Cfg.GitLab.SecurityGroupID,
		Attrs: []plan.Attr{{Key: "tcp", Value: "443"}, {Key: "from", Value: strings.Join(from, ",")}}}
}

// Find reads GitLab's group; it exists for this step while it holds a rule
// of the stack's. A group that is gone is an error for up and nothing to
// revoke for down.
func (k gitlabIngressKind) Find(ctx context.Context) (resource.Found[gitlabRules], error) {
	rules, missing, err := k.current(ctx)
	if missing {
		id := k.env.Cfg.GitLab.SecurityGroupID
		return resource.Found[gitlabRules]{}, fmt.Errorf("GitLab's security group %s (gitlab.security_group_id) does not exist in %s: check the id and the region", id, k.env.Region)
	}
	return resource.Found[gitlabRules]{Cur: rules, Exists: len(rules.ours) > 0 || k.admittedAlready(rules)}, err
}

// admittedAlready: rules that are not the stack's already let in every
// address it would add (nothing to create).
func (k gitlabIngressKind) admittedAlready(rules gitlabRules) bool {
	for _, w := range k.wanted() {
		if !rules.admitted[w.Source] {
			return false
		}
	}
	return true
}

func (k gitlabIngressKind) findForDelete(ctx context.Context) (resource.Found[gitlabRules], error) {
	rules, _, err := k.current(ctx)
	return resource.Found[gitlabRules]{Cur: rules, Exists: len(rules.ours) > 0}, err
}

func (k gitlabIngressKind) current(ctx context.Context) (gitlabRules, bool, error) {
	rules := gitlabRules{admitted: map[string]bool{}}
	g, err := k.env.GitLabGroup(ctx)
	if err != nil {
		return rules, false, err
	}
	if g == nil {
		return rules, true, nil
	}
	for _, r := range flattenPermissions(g.IpPermissions, false) {
		if r.Protocol != "tcp" || r.From > 443 || r.To < 443 {
			continue
		}
		r.Source = config.CanonicalCIDR(r.Source)
		rules.admitted[r.Source] = true
		if strings.HasPrefix(r.Desc, k.descPrefix()) && r.From == 443 && r.To == 443 {
			rules.ours = append(rules.ours, r)
		}
	}
	return rules, false, nil
}

func (k gitlabIngressKind) Record(rules gitlabRules) resource.Recorded {
	attrs := map[string]string{}
	for i, w := range k.wanted() {
		attrs[fmt.Sprintf("cidr_%d", i)] = w.Source
	}
	return resource.Recorded{ID: k.env.Cfg.GitLab.SecurityGroupID, Attrs: attrs}
}

// Diff adds what is missing, unless another rule there already admits
// that block (it lets the traffic in, and is not ours to revoke), and
// revokes the stack's rules for addresses it no longer has.
func (k gitlabIngressKind) Diff(_ context.Context, rules gitlabRules) (ingressFix, []string, error) {
	var f ingressFix
	wanted := k.wanted()
	add, revoke := diffRules(rules.ours, wanted)
	for _, r := range add {
		if !rules.admitted[r.Source] {
			f.authorize = append(f.authorize, r)
		}
	}
	f.revoke = revoke
	var reasons []string
	for _, r := range f.authorize {
		reasons = append(reasons, "allow tcp 443 from "+r.Source)
	}
	for _, r := range f.revoke {
		reasons = append(reasons, "revoke tcp 443 from "+r.Source+" (an address this stack no longer has)")
	}
	return f, reasons, nil
}

// Create adds the rules to what find read of the group a moment ago.
func (k gitlabIngressKind) Create(ctx context.Context, _ string, prior resource.Found[gitlabRules]) (gitlabRules, ingressFix, error) {
	f, _, err := k.Diff(ctx, prior.Cur)
	return prior.Cur, f, err
}

func (k gitlabIngressKind) Update(ctx context.Context, _ gitlabRules, f ingressFix) error {
	if err := k.revoke(ctx, f.revoke); err != nil {
		return err
	}
	if err := authorizeRules(ctx, k.env, k.env.Cfg.GitLab.SecurityGroupID, f.authorize); err != nil {
		return fmt.Errorf("allow 443 from the stack's addresses on GitLab's group: %w", err)
	}
	return nil
}

func (k gitlabIngressKind) Remove(ctx context.Context, rules gitlabRules) error {
	return k.revoke(ctx, rules.ours)
}

// revoke removes the stack's rules (the description must match for AWS to
// find a rule). AWS answers success and lists what matched nothing in
// UnknownIpPermissions: a rule of ours that someone edited stays open, so
// the group is read again to be sure.
func (k gitlabIngressKind) revoke(ctx context.Context, rules []sgRule) error {
	if len(rules) == 0 {
		return nil
	}
	id := k.env.Cfg.GitLab.SecurityGroupID
	out, err := k.env.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: toPermissions(rules, false)})
	if err != nil && awsapi.ErrorCode(err) != "InvalidPermission.NotFound" && !awsapi.IsNotFound(err) {
		return fmt.Errorf("revoke the stack's 443 rules on GitLab's group %s: %w", id, err)
	}
	if err != nil || out == nil || len(out.UnknownIpPermissions) == 0 {
		return nil
	}
	now, _, err := k.current(ctx)
	if err != nil {
		return err
	}
	var left []string
	for _, r := range rules {
		for _, o := range now.ours {
			if o.Source == r.Source {
				left = append(left, r.Source)
			}
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("revoking 443 from %s on GitLab's group %s matched no rule, yet the stack's rules are still there: remove them by hand (EC2 console, the group's inbound rules described %q)", strings.Join(left, ", "), id, k.descPrefix())
	}
	return nil
}
