package provision

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
)


// securityGroupStep owns a security group and all of its rules. Groups
// are stateful, so only the inbound side of each flow needs a rule; nothing
// is ever open inbound to 0.0.0.0/0 or ::/0.
type securityGroupStep struct {
	env     *Env
	id      plan.ID
	role    string
	manager bool
}

func newSecurityGroupStep(env *Env, manager bool) *securityGroupStep {
	if manager {
		return &securityGroupStep{env: env, id: stepManagerGroup, role: "manager", manager: true}
	}
	return &securityGroupStep{env: env, id: stepRunnerGroup, role: "runner"}
}

func (s *securityGroupStep) ID() plan.ID { return s.id }
func (s *securityGroupStep) DependsOn() []plan.ID {
	if s.manager {
		return []plan.ID{stepVPC}
	}
	return []plan.ID{stepVPC, stepManagerGroup, stepPublicSubnet}
}

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
	return fmt.Sprintf("%t|%s|%d|%d|%s", r.Egress, r.Protocol, r.From, r.To, canonicalCIDR(r.Source))
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

func (s *securityGroupStep) groupName() string { return s.env.name(s.role) }

func (s *securityGroupStep) wanted() []sgRule {
	var rs []sgRule
	desc := fmt.Sprintf("provision %s", s.env.Cfg.Stack)
	if s.manager {
		for _, src := range s.env.Cfg.GitLab.SSHSourceCIDRs {
			rs = append(rs, sgRule{Protocol: "tcp", From: 22, To: 22, Source: src, Desc: desc + ": SSH for debugging"})
		}
	} else {
		// Only the manager's group: a rule for the public subnet's range
		// would admit anything else placed there. docker-autoscaler
		// connects over SSH only; docker+machine also drives Docker over
		// TLS on 2376, so only it opens that port.
		ports := []int32{22}
		if !s.env.autoscaler() {
			ports = append(ports, 2376)
		}
		for _, port := range ports {
			rs = append(rs, sgRule{Protocol: "tcp", From: port, To: port, Source: or(s.env.idOf(stepManagerGroup), "(sg/manager)"), Desc: desc + ": from the manager"})
		}
	}
	rs = append(rs, sgRule{Egress: true, Protocol: allProtos, Source: anyIPv4})
	if s.env.Cfg.Network.IPv6 {
		rs = append(rs, sgRule{Egress: true, Protocol: allProtos, Source: anyIPv6})
	}
	return rs
}

func (s *securityGroupStep) change() plan.Change {
	c := plan.Change{Step: s.id, Kind: "security-group", Name: s.groupName()}
	// Group ports by source: "tcp 22,2376 from sg-1, 192.168.0.0/27".
	var order []string
	ports := map[string][]string{}
	for _, r := range s.wanted() {
		if r.Egress {
			continue
		}
		if _, seen := ports[r.Source]; !seen {
			order = append(order, r.Source)
		}
		ports[r.Source] = append(ports[r.Source], fmt.Sprint(r.From))
	}
	in := "none"
	if len(order) > 0 {
		bySet := map[string][]string{}
		var sets []string
		for _, src := range order {
			k := strings.Join(ports[src], ",")
			if _, seen := bySet[k]; !seen {
				sets = append(sets, k)
			}
			bySet[k] = append(bySet[k], src)
		}
		var parts []string
		for _, k := range sets {
			parts = append(parts, "tcp "+k+" from "+strings.Join(bySet[k], ","))
		}
		in = strings.Join(parts, "; ")
	}
	c.Attrs = []plan.Attr{{Key: "inbound", Value: in}, {Key: "outbound", Value: "all"}}
	return c
}

// sgFixes is the work Apply does on an existing group.
type sgFixes struct {
	authorize, revoke []sgRule
}

func (s *securityGroupStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	g, err := s.find(ctx, true)
	if err != nil {
		return c, err
	}
	if g == nil {
		c.Action = plan.Create
		return c, s.env.markGone(s.id)
	}
	c.ID = aws.ToString(g.GroupId)
	if err := s.env.created(s.id, "security-group", c.ID, map[string]string{"name": aws.ToString(g.GroupName)}); err != nil {
		return c, err
	}
	f := s.diff(g)
	for _, r := range f.authorize {
		c.Reasons = append(c.Reasons, "add "+r.String())
	}
	for _, r := range f.revoke {
		c.Reasons = append(c.Reasons, "remove "+r.String())
	}
	if len(c.Reasons) > 0 {
		c.Action = plan.Update
		c.Detail = f
	}
	return c, nil
}

func (s *securityGroupStep) diff(g *ec2types.SecurityGroup) *sgFixes {
	have := map[string]sgRule{}
	for _, r := range flattenPermissions(g.IpPermissions, false) {
		have[r.key()] = r
	}
	for _, r := range flattenPermissions(g.IpPermissionsEgress, true) {
		have[r.key()] = r
	}
	f := &sgFixes{}
	want := map[string]bool{}
	for _, w := range s.wanted() {
		want[w.key()] = true
		if _, ok := have[w.key()]; !ok {
			f.authorize = append(f.authorize, w)
		}
	}
	keys := make([]string, 0, len(have))
	for k := range have {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !want[k] {
			f.revoke = append(f.revoke, have[k])
		}
	}
	return f
}

func (s *securityGroupStep) Apply(ctx context.Context, c plan.Change) error {
	id := c.ID
	f, _ := c.Detail.(*sgFixes)
	if c.Action == plan.Create {
		if _, err := s.env.beginCreate(s.id, "security-group"); err != nil {
			return err
		}
		out, err := s.env.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName:         aws.String(s.groupName()),
			Description:       aws.String(fmt.Sprintf("provision %s: %s", s.env.Cfg.Stack, s.role)),
			VpcId:             aws.String(s.env.idOf(stepVPC)),
			TagSpecifications: s.env.tagSpec(ec2types.ResourceTypeSecurityGroup, s.id, s.role),
		})
		if err != nil {
			return retryableCreate(fmt.Errorf("create security group %s: %w", s.groupName(), err))
		}
		id = aws.ToString(out.GroupId)
		if err := s.env.created(s.id, "security-group", id, map[string]string{"name": s.groupName()}); err != nil {
			return err
		}
		g, err := s.describe(ctx, id)
		if err != nil || g == nil {
			return retryableCreate(fmt.Errorf("security group %s is not visible yet: %w", id, err))
		}
		f = s.diff(g)
	}
	if err := s.revoke(ctx, id, f.revoke); err != nil {
		return err
	}
	return s.authorize(ctx, id, f.authorize)
}

func (s *securityGroupStep) authorize(ctx context.Context, id string, rules []sgRule) error {
	in, out := toPermissions(rules, false), toPermissions(rules, true)
	if len(in) > 0 {
		if _, err := s.env.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &id, IpPermissions: in}); err != nil && errorCode(err) != "InvalidPermission.Duplicate" {
			return retryableCreate(fmt.Errorf("add inbound rules to %s: %w", id, err))
		}
	}
	if len(out) > 0 {
		if _, err := s.env.EC2.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: &id, IpPermissions: out}); err != nil && errorCode(err) != "InvalidPermission.Duplicate" {
			return retryableCreate(fmt.Errorf("add outbound rules to %s: %w", id, err))
		}
	}
	return nil
}

func (s *securityGroupStep) revoke(ctx context.Context, id string, rules []sgRule) error {
	in, out := toPermissions(rules, false), toPermissions(rules, true)
	if len(in) > 0 {
		if _, err := s.env.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: &id, IpPermissions: in}); err != nil && errorCode(err) != "InvalidPermission.NotFound" {
			return fmt.Errorf("remove inbound rules from %s: %w", id, err)
		}
	}
	if len(out) > 0 {
		if _, err := s.env.EC2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: &id, IpPermissions: out}); err != nil && errorCode(err) != "InvalidPermission.NotFound" {
			return fmt.Errorf("remove outbound rules from %s: %w", id, err)
		}
	}
	return nil
}

func (s *securityGroupStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	g, err := s.find(ctx, false)
	if err != nil || g == nil {
		if err == nil {
			err = s.env.forget(s.id)
		}
		return c, err
	}
	c.ID = aws.ToString(g.GroupId)
	c.Action = plan.Delete
	return c, nil
}

func (s *securityGroupStep) Delete(ctx context.Context, c plan.Change) error {
	// DependencyViolation while instances' network interfaces are going away.
	_, err := s.env.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: &c.ID})
	if err != nil && !isNotFound(err) {
		return retryableDelete(busyError(ctx, s.env, fmt.Errorf("delete security group %s: %w", c.ID, err), "group-id", c.ID))
	}
	return s.env.forget(s.id)
}

// find looks by id, then tags, then by name in the VPC (a group of that
// name that is not ours is a conflict to report, not to adopt).
func (s *securityGroupStep) find(ctx context.Context, byName bool) (*ec2types.SecurityGroup, error) {
	if r := s.env.Ledger.Get(string(s.id)); r != nil && r.ID != "" {
		g, err := s.describe(ctx, r.ID)
		if err != nil || g != nil {
			return g, err
		}
	}
	out, err := s.env.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: s.env.ownerFilters(s.id)})
	if err != nil {
		return nil, fmt.Errorf("find security group %s by tags: %w", s.id, err)
	}
	for i := range out.SecurityGroups {
		if s.env.ownedBy(out.SecurityGroups[i].Tags, s.id) {
			return &out.SecurityGroups[i], nil
		}
	}
	vpcID := s.env.idOf(stepVPC)
	if vpcID == "" || !byName {
		return nil, nil
	}
	out, err = s.env.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{filter("vpc-id", vpcID), filter("group-name", s.groupName())}})
	if err != nil {
		return nil, fmt.Errorf("find security group %s by name: %w", s.groupName(), err)
	}
	for _, g := range out.SecurityGroups {
		if aws.ToString(g.GroupName) == s.groupName() {
			return nil, fmt.Errorf("%s: vpc %s already has a group named %s (%s) that stack %s did not create: rename or delete it, or choose another stack name", s.id, vpcID, s.groupName(), aws.ToString(g.GroupId), s.env.Cfg.Stack)
		}
	}
	return nil, nil
}

func (s *securityGroupStep) describe(ctx context.Context, id string) (*ec2types.SecurityGroup, error) {
	out, err := s.env.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if isNotFound(err) || (err == nil && len(out.SecurityGroups) == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe security group %s: %w", id, err)
	}
	return &out.SecurityGroups[0], nil
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
