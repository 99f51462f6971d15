package stack

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// securityGroupKind owns a security group and all of its rules. Groups are
// stateful, so only the inbound side of each flow needs a rule; nothing is
// ever open inbound to 0.0.0.0/0 or ::/0.
type securityGroupKind struct {
	env  *Env
	id   plan.ID
	role string
}

type securityGroup = *ec2types.SecurityGroup

// sgFix is the work on an existing group.
type sgFix struct {
	authorize, revoke []sgRule
}

func newSecurityGroupStep(env *Env, id plan.ID) plan.Step {
	return resource.NewStep[securityGroup, sgFix](env.shared(), "security-group", newSecurityGroups(env, id))
}

// newSecurityGroups: the manager's, the runner machines' (sg/runner) or the
// interface endpoints' (sg/endpoints) group.
func newSecurityGroups(env *Env, id plan.ID) securityGroupKind {
	return securityGroupKind{env: env, id: id, role: strings.TrimPrefix(string(id), "sg/")}
}

func (k securityGroupKind) StepID() plan.ID { return k.id }
func (k securityGroupKind) Needs() []plan.ID {
	if k.id == StepRunnerGroup {
		return []plan.ID{StepVPC, StepManagerGroup, StepPublicSubnet}
	}
	return []plan.ID{StepVPC}
}

// Hooks names the optional parts of resource.Step this kind has.
func (k securityGroupKind) Hooks() resource.Hooks[securityGroup, sgFix] {
	return resource.Hooks[securityGroup, sgFix]{FindForDelete: k.findForDelete, EC2Tags: k.ec2TagsOf}
}

func (k securityGroupKind) groupName() string { return k.env.name(k.role) }

func (k securityGroupKind) wanted() []sgRule {
	var rs []sgRule
	desc := fmt.Sprintf("provision %s", k.env.Cfg.Stack)
	switch k.id {
	case StepEndpointGroup:
		// HTTPS to the interface endpoints from anywhere in the VPC: the
		// manager in the public subnet, the machines in the private one.
		rs = append(rs, sgRule{Protocol: "tcp", From: 443, To: 443, Source: or(k.env.vpcCIDR(), "(vpc)"), Desc: desc + ": AWS APIs through the endpoints"})
		if k.env.Cfg.Network.IPv6 {
			rs = append(rs, sgRule{Protocol: "tcp", From: 443, To: 443, Source: or(k.env.AttrOf(StepVPC, AttrIPv6CIDR), "(vpc ipv6)"), Desc: desc + ": AWS APIs through the endpoints"})
		}
	case StepManagerGroup:
		for _, src := range k.env.Cfg.GitLab.SSHSourceCIDRs {
			rs = append(rs, sgRule{Protocol: "tcp", From: 22, To: 22, Source: src, Desc: desc + ": SSH for debugging"})
		}
		for _, src := range k.env.Cfg.Manager.MetricsCIDRs {
			rs = append(rs, sgRule{Protocol: "tcp", From: bootstrap.MetricsPort, To: bootstrap.MetricsPort, Source: src, Desc: desc + ": gitlab-runner metrics"})
		}
	default:
		// Only the manager's group: a rule for the public subnet's range
		// would admit anything else placed there. docker-autoscaler
		// connects over SSH only; docker+machine also drives Docker over
		// TLS on 2376, so only it opens that port.
		ports := []int32{22}
		if k.env.Cfg.Machines() {
			ports = append(ports, 2376)
		}
		if k.env.Cfg.WindowsFleets() {
			ports = append(ports, bootstrap.WinRMPort)
		}
		for _, port := range ports {
			rs = append(rs, sgRule{Protocol: "tcp", From: port, To: port, Source: or(k.env.IDOf(StepManagerGroup), "(sg/manager)"), Desc: desc + ": from the manager"})
		}
	}
	rs = append(rs, sgRule{Egress: true, Protocol: allProtos, Source: anyIPv4})
	if k.env.Cfg.Network.IPv6 {
		rs = append(rs, sgRule{Egress: true, Protocol: allProtos, Source: anyIPv6})
	}
	return rs
}

func (k securityGroupKind) Describe() plan.Change {
	c := plan.Change{Step: k.id, Kind: "security-group", Name: k.groupName()}
	// Group ports by source: "tcp 22,2376 from sg-1, 192.168.0.0/27".
	var order []string
	ports := map[string][]string{}
	for _, r := range k.wanted() {
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
			set := strings.Join(ports[src], ",")
			if _, seen := bySet[set]; !seen {
				sets = append(sets, set)
			}
			bySet[set] = append(bySet[set], src)
		}
		var parts []string
		for _, set := range sets {
			parts = append(parts, "tcp "+set+" from "+strings.Join(bySet[set], ","))
		}
		in = strings.Join(parts, "; ")
	}
	c.Attrs = []plan.Attr{{Key: "inbound", Value: in}, {Key: "outbound", Value: "all"}}
	return c
}

// Find looks by the ownership tags, then by name in the VPC (a group of
// that name that is not ours is a conflict to report, not to adopt).
func (k securityGroupKind) Find(ctx context.Context) (resource.Found[securityGroup], error) {
	f, err := k.findForDelete(ctx)
	vpcID := k.env.IDOf(StepVPC)
	if err != nil || f.Exists || vpcID == "" {
		return f, err
	}
	out, err := k.env.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{Filter("vpc-id", vpcID), Filter("group-name", k.groupName())}})
	if err != nil {
		return f, fmt.Errorf("find security group %s by name: %w", k.groupName(), err)
	}
	for _, g := range out.SecurityGroups {
		if aws.ToString(g.GroupName) == k.groupName() {
			return f, fmt.Errorf("%s: vpc %s already has a group named %s (%s) that stack %s did not create: rename or delete it, or choose another stack name", k.id, vpcID, k.groupName(), aws.ToString(g.GroupId), k.env.Cfg.Stack)
		}
	}
	return f, nil
}

func (k securityGroupKind) findForDelete(ctx context.Context) (resource.Found[securityGroup], error) {
	// The recorded group, read with GitLab's and the stack's others.
	if id := k.env.Ledger.Get(string(k.id)).RecordedID(); id != "" {
		known, err := k.env.knownGroups(ctx)
		if err != nil {
			return resource.Found[securityGroup]{}, err
		}
		if g := known[id]; g != nil && k.env.ownedBy(g.Tags, k.id) {
			own := *g // a copy: the answer is shared
			return resource.Found[securityGroup]{Cur: &own, Exists: true}, nil
		}
	}
	groups, err := describeShared(ctx, k.env, "security-groups", k.env.EC2.DescribeSecurityGroups, &ec2.DescribeSecurityGroupsInput{Filters: k.env.stackFilter()},
		func(o *ec2.DescribeSecurityGroupsOutput) []ec2types.SecurityGroup { return o.SecurityGroups })
	if err != nil {
		return resource.Found[securityGroup]{}, fmt.Errorf("find security group %s by tags: %w", k.id, err)
	}
	return lookupOwned(k.env, k.id, resource.Pointers(groups), GroupID, func(g securityGroup) bool { return k.env.ownedBy(g.Tags, k.id) }), nil
}

// GroupID is a group's id ("" for none).
func GroupID(g securityGroup) string {
	if g == nil {
		return ""
	}
	return aws.ToString(g.GroupId)
}

func (k securityGroupKind) Record(g securityGroup) resource.Recorded {
	return resource.Recorded{ID: GroupID(g), Attrs: map[string]string{"name": aws.ToString(g.GroupName)}}
}

func (k securityGroupKind) Diff(_ context.Context, g securityGroup) (sgFix, []string, error) {
	have := append(flattenPermissions(g.IpPermissions, false), flattenPermissions(g.IpPermissionsEgress, true)...)
	var f sgFix
	f.authorize, f.revoke = diffRules(have, k.wanted())
	var reasons []string
	for _, r := range f.authorize {
		reasons = append(reasons, "add "+r.String())
	}
	for _, r := range f.revoke {
		reasons = append(reasons, "remove "+r.String())
	}
	return f, reasons, nil
}

// Create makes the group and reads it back: AWS gives a new group an
// outbound rule to 0.0.0.0/0 of its own, which the diff then accounts for.
func (k securityGroupKind) Create(ctx context.Context, _ string, _ resource.Found[securityGroup]) (securityGroup, sgFix, error) {
	out, err := k.env.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
		GroupName:         aws.String(k.groupName()),
		Description:       aws.String(fmt.Sprintf("provision %s: %s", k.env.Cfg.Stack, k.role)),
		VpcId:             aws.String(k.env.IDOf(StepVPC)),
		TagSpecifications: k.env.tagSpec(ec2types.ResourceTypeSecurityGroup, k.id, k.role),
	})
	if err != nil {
		return nil, sgFix{}, awsapi.RetryableCreate(fmt.Errorf("create security group %s: %w", k.groupName(), err))
	}
	id := aws.ToString(out.GroupId)
	got, err := k.env.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	if err != nil || len(got.SecurityGroups) == 0 {
		// resource.Recorded by its name and tags all the same: the next attempt finds it.
		return &ec2types.SecurityGroup{GroupId: out.GroupId, GroupName: aws.String(k.groupName())}, sgFix{}, awsapi.RetryableCreate(fmt.Errorf("security group %s is not visible yet: %w", id, err))
	}
	g := &got.SecurityGroups[0]
	f, _, err := k.Diff(ctx, g)
	return g, f, err
}

func (k securityGroupKind) Update(ctx context.Context, g securityGroup, f sgFix) error {
	id := GroupID(g)
	if err := revokeRules(ctx, k.env, id, f.revoke); err != nil {
		return err
	}
	return authorizeRules(ctx, k.env, id, f.authorize)
}

func (k securityGroupKind) Remove(ctx context.Context, g securityGroup) error {
	// DependencyViolation while instances' network interfaces are going away.
	id := GroupID(g)
	_, err := k.env.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: &id})
	if err != nil && !awsapi.IsNotFound(err) {
		return awsapi.RetryableDelete(busyError(ctx, k.env, fmt.Errorf("delete security group %s: %w", id, err), "group-id", id))
	}
	return nil
}

// authorizeRules adds rules to a group; a rule that exists already is fine.
func authorizeRules(ctx context.Context, env *Env, id string, rules []sgRule) error {
	in, out := toPermissions(rules, false), toPermissions(rules, true)
	if len(in) > 0 {
		if _, err := env.EC2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: &id, IpPermissions: in}); err != nil && awsapi.ErrorCode(err) != "InvalidPermission.Duplicate" {
			return awsapi.RetryableCreate(fmt.Errorf("add inbound rules to %s: %w", id, err))
		}
	}
	if len(out) > 0 {
		if _, err := env.EC2.AuthorizeSecurityGroupEgress(ctx, &ec2.AuthorizeSecurityGroupEgressInput{GroupId: &id, IpPermissions: out}); err != nil && awsapi.ErrorCode(err) != "InvalidPermission.Duplicate" {
			return awsapi.RetryableCreate(fmt.Errorf("add outbound rules to %s: %w", id, err))
		}
	}
	return nil
}

// revokeRules removes rules from a group; a rule that is gone already is
// fine. Descriptions are part of what must match.
func revokeRules(ctx context.Context, env *Env, id string, rules []sgRule) error {
	in, out := toPermissions(rules, false), toPermissions(rules, true)
	if len(in) > 0 {
		if _, err := env.EC2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: &id, IpPermissions: in}); err != nil && awsapi.ErrorCode(err) != "InvalidPermission.NotFound" {
			return fmt.Errorf("remove inbound rules from %s: %w", id, err)
		}
	}
	if len(out) > 0 {
		if _, err := env.EC2.RevokeSecurityGroupEgress(ctx, &ec2.RevokeSecurityGroupEgressInput{GroupId: &id, IpPermissions: out}); err != nil && awsapi.ErrorCode(err) != "InvalidPermission.NotFound" {
			return fmt.Errorf("remove outbound rules from %s: %w", id, err)
		}
	}
	return nil
}

// ec2TagsOf: the configuration's tags follow `tags:` (resource.Step, through Hooks.EC2Tags).
func (k securityGroupKind) ec2TagsOf(cur securityGroup) []ec2types.Tag { return cur.Tags }
