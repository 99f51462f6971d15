package stack

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// autoScalingGroupKind is the group the fleeting plugin scales
// (docker-autoscaler): it starts empty, the plugin alone sets the desired
// capacity, machines are protected from scale-in (the plugin removes them
// itself, never while a job runs), and AZ rebalancing is suspended.
type autoScalingGroupKind struct {
	env *Env
	f   config.Fleet
}

// fleet is the group (nil: none) and, for teardown, its machines that are
// not terminated yet.
type fleet struct {
	group    *asgtypes.AutoScalingGroup
	machines []string
}

// groupFix: the group's settings must be put back.
type groupFix struct{ settings, suspend bool }

func newAutoScalingGroupStep(env *Env, f config.Fleet) plan.Step {
	return resource.NewStep[fleet, groupFix](env.shared(), "autoscaling-group", autoScalingGroupKind{env, f})
}

func (k autoScalingGroupKind) StepID() plan.ID { return FleetStep(StepAutoScaling, k.f.Name) }

// template is the step of the fleet's launch template.
func (k autoScalingGroupKind) template() plan.ID { return FleetStep(StepLaunchTemplate, k.f.Name) }

// Needs: the group of the manager's generation is named by the manager
// (instance/manager records it). A teardown removes the manager first.
func (k autoScalingGroupKind) Needs() []plan.ID {
	if k.env.Teardown {
		return append([]plan.ID{k.template()}, k.env.privateSubnets()...)
	}
	return append([]plan.ID{k.template(), StepManager}, k.env.privateSubnets()...)
}

// subnets are the group's subnets: every zone's private one, as AWS
// writes VPCZoneIdentifier (ids joined by commas).
func (k autoScalingGroupKind) subnets() string {
	return strings.Join(k.env.idsOf(k.env.privateSubnets()), ",")
}

// sameSubnets compares two VPCZoneIdentifier values as sets.
func sameSubnets(a, b string) bool {
	as, bs := strings.Split(a, ","), strings.Split(b, ",")
	slices.Sort(as)
	slices.Sort(bs)
	return slices.Equal(as, bs)
}

// Hooks names the optional parts of resource.Step this kind has.
func (k autoScalingGroupKind) Hooks() resource.Hooks[fleet, groupFix] {
	return resource.Hooks[fleet, groupFix]{FindForDelete: k.findForDelete, Shown: k.shown, Tags: k.tagsOf, Retag: k.retag}
}

// name is the fleet's group of the current manager's generation ("": not
// known yet, before the manager is launched).
func (k autoScalingGroupKind) name() string { return k.env.fleetGroup(k.f.Name) }

// fleetGroup is a fleet's group of the current manager's generation: the
// generation's name (instance/manager records it), with the fleet's
// after it ("": not known yet).
func (e *Env) fleetGroup(fleet string) string {
	g := e.AttrOf(StepManager, AttrGroup)
	if g == "" {
		return ""
	}
	return fleetName(g, fleet)
}

func (k autoScalingGroupKind) Describe() plan.Change {
	c := plan.Change{Step: k.StepID(), Kind: "autoscaling-group", Name: orUnknown(k.name()), Attrs: []plan.Attr{
		{Key: "subnets", Value: orUnknown(k.subnets())},
		{Key: "min/desired/max", Value: fmt.Sprintf("0/0/%d", k.f.MaxInstances)},
		{Key: "scale_in_protection", Value: "true"},
	}}
	if k.f.MixedInstances() {
		c.Attrs = append(c.Attrs, plan.Attr{Key: "types", Value: k.wantedTypes()},
			plan.Attr{Key: "on_demand", Value: fmt.Sprintf("%d%% (Spot: %s)", k.onDemandPercentage(), spotStrategy)})
	}
	return c
}

// spotStrategy is the allocation strategy AWS recommends for Spot:
// the pools least likely to be interrupted, among the cheapest ("Allocation
// strategies for multiple instance types" in the Auto Scaling user guide).
const spotStrategy = "price-capacity-optimized"

// onDemandPercentage is the share of machines above the base (0) that is
// launched on demand: runners.on_demand_percentage with Spot, all without.
func (k autoScalingGroupKind) onDemandPercentage() int32 {
	if !k.f.Spot {
		return 100
	}
	return int32(k.f.OnDemandPercentage)
}

// mixedPolicy is the group's mixed-instances policy: the launch template
// with one override per instance type (preference order for on-demand), an
// on-demand base of 0, Spot from the price-capacity-optimized pools.
func (k autoScalingGroupKind) mixedPolicy() *asgtypes.MixedInstancesPolicy {
	var overrides []asgtypes.LaunchTemplateOverrides
	if q := k.f.InstanceRequirements; q != nil {
		overrides = []asgtypes.LaunchTemplateOverrides{{InstanceRequirements: instanceRequirements(q)}}
	} else {
		for _, t := range k.f.RunnerTypes() {
			overrides = append(overrides, asgtypes.LaunchTemplateOverrides{InstanceType: aws.String(t)})
		}
	}
	return &asgtypes.MixedInstancesPolicy{
		LaunchTemplate: &asgtypes.LaunchTemplate{LaunchTemplateSpecification: k.launchTemplate(), Overrides: overrides},
		InstancesDistribution: &asgtypes.InstancesDistribution{
			OnDemandAllocationStrategy:          aws.String("prioritized"),
			OnDemandBaseCapacity:                aws.Int32(0),
			OnDemandPercentageAboveBaseCapacity: aws.Int32(k.onDemandPercentage()),
			SpotAllocationStrategy:              aws.String(spotStrategy),
		},
	}
}

// instanceRequirements are runners.instance_requirements as Auto Scaling
// takes them; the architecture is the launch template image's.
func instanceRequirements(q *config.InstanceRequirements) *asgtypes.InstanceRequirements {
	r := &asgtypes.InstanceRequirements{
		VCpuCount: &asgtypes.VCpuCountRequest{Min: aws.Int32(int32(q.VCPU.Min))},
		MemoryMiB: &asgtypes.MemoryMiBRequest{Min: aws.Int32(int32(q.MemoryMiB.Min))},
	}
	if q.VCPU.Max > 0 {
		r.VCpuCount.Max = aws.Int32(int32(q.VCPU.Max))
	}
	if q.MemoryMiB.Max > 0 {
		r.MemoryMiB.Max = aws.Int32(int32(q.MemoryMiB.Max))
	}
	return r
}

// launchTypes writes a policy's overrides as the plan shows them: the
// types listed, or the attributes asked for.
func launchTypes(overrides []asgtypes.LaunchTemplateOverrides) string {
	var types []string
	for _, o := range overrides {
		if r := o.InstanceRequirements; r != nil {
			q := config.InstanceRequirements{}
			if r.VCpuCount != nil {
				q.VCPU = config.Range{Min: int(aws.ToInt32(r.VCpuCount.Min)), Max: int(aws.ToInt32(r.VCpuCount.Max))}
			}
			if r.MemoryMiB != nil {
				q.MemoryMiB = config.Range{Min: int(aws.ToInt32(r.MemoryMiB.Min)), Max: int(aws.ToInt32(r.MemoryMiB.Max))}
			}
			types = append(types, q.String())
			continue
		}
		types = append(types, aws.ToString(o.InstanceType))
	}
	return strings.Join(types, ",")
}

// wantedTypes is what launchTypes shows for the configuration.
func (k autoScalingGroupKind) wantedTypes() string {
	if q := k.f.InstanceRequirements; q != nil {
		return q.String()
	}
	return strings.Join(k.f.RunnerTypes(), ",")
}

// launchDiff names what differs in how the group launches machines.
func (k autoScalingGroupKind) launchDiff(g *asgtypes.AutoScalingGroup) []string {
	lt := k.env.IDOf(k.template())
	p := g.MixedInstancesPolicy
	if !k.f.MixedInstances() {
		if p != nil {
			return []string{"launch from " + lt + " alone (no mixed-instances policy)"}
		}
		if g.LaunchTemplate == nil || aws.ToString(g.LaunchTemplate.LaunchTemplateId) != lt {
			return []string{"launch from " + lt}
		}
		return nil
	}
	if p == nil || p.LaunchTemplate == nil || p.InstancesDistribution == nil {
		return []string{fmt.Sprintf("launch through a mixed-instances policy: %s, %d%% on demand", k.wantedTypes(), k.onDemandPercentage())}
	}
	var rs []string
	if s := p.LaunchTemplate.LaunchTemplateSpecification; s == nil || aws.ToString(s.LaunchTemplateId) != lt {
		rs = append(rs, "launch from "+lt)
	}
	if got, want := launchTypes(p.LaunchTemplate.Overrides), k.wantedTypes(); got != want {
		rs = append(rs, fmt.Sprintf("instance types %s -> %s", got, want))
	}
	d := p.InstancesDistribution
	if aws.ToInt32(d.OnDemandPercentageAboveBaseCapacity) != k.onDemandPercentage() || aws.ToInt32(d.OnDemandBaseCapacity) != 0 {
		rs = append(rs, fmt.Sprintf("on demand %d%% -> %d%% (base 0)", aws.ToInt32(d.OnDemandPercentageAboveBaseCapacity), k.onDemandPercentage()))
	}
	if aws.ToString(d.SpotAllocationStrategy) != spotStrategy {
		rs = append(rs, fmt.Sprintf("Spot allocation %s -> %s", aws.ToString(d.SpotAllocationStrategy), spotStrategy))
	}
	return rs
}

// Find looks the group up by its name; a group of that name that is not
// the stack's is a conflict.
func (k autoScalingGroupKind) Find(ctx context.Context) (resource.Found[fleet], error) {
	g, err := k.group(ctx)
	if err != nil || g == nil {
		return resource.Found[fleet]{}, err
	}
	if !groupOwned(k.env, g) {
		return resource.Found[fleet]{}, fmt.Errorf("%s: an Auto Scaling group named %s exists that stack %s did not create: delete or rename it", k.StepID(), aws.ToString(g.AutoScalingGroupName), k.env.Cfg.Stack)
	}
	return resource.Found[fleet]{Cur: fleet{group: g}, Exists: true}, nil
}

// findForDelete also counts machines left behind by a group that is gone.
// A teardown takes every group of the stack, of any manager generation.
func (k autoScalingGroupKind) findForDelete(ctx context.Context) (resource.Found[fleet], error) {
	groups, err := k.ownGroups(ctx)
	if err != nil {
		return resource.Found[fleet]{}, err
	}
	machines, err := k.machines(ctx)
	if err != nil {
		return resource.Found[fleet]{}, err
	}
	f := resource.Found[fleet]{Cur: fleet{machines: machines}, Exists: len(machines) > 0}
	for i, g := range groups {
		if i == 0 {
			f.Cur.group, f.Exists = g, true
		} else {
			f.Duplicates = append(f.Duplicates, fleet{group: g})
		}
	}
	return f, nil
}

// ownGroups are the fleet's groups of every generation: the stack's
// groups with the fleet's step tag.
func (k autoScalingGroupKind) ownGroups(ctx context.Context) ([]*asgtypes.AutoScalingGroup, error) {
	groups, err := stackGroups(ctx, k.env)
	if err != nil {
		return nil, err
	}
	var out []*asgtypes.AutoScalingGroup
	for _, g := range groups {
		if groupStep(g) == StepTag(k.StepID()) {
			out = append(out, g)
		}
	}
	return out, nil
}

// groupStep is a group's provision:step tag.
func groupStep(g *asgtypes.AutoScalingGroup) string { return groupTag(g, TagStep) }

// groupTag is the value of a group's tag ("": none).
func groupTag(g *asgtypes.AutoScalingGroup, key string) string {
	for _, t := range g.Tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// stackGroups lists the stack's groups (tags checked in code), the one of
// the current generation first.
func stackGroups(ctx context.Context, env *Env) ([]*asgtypes.AutoScalingGroup, error) {
	all, err := awsapi.SharedRead(ctx, env.reads, "groups", func(ctx context.Context) ([]asgtypes.AutoScalingGroup, error) {
		var all []asgtypes.AutoScalingGroup
		p := autoscaling.NewDescribeAutoScalingGroupsPaginator(env.ASG, &autoscaling.DescribeAutoScalingGroupsInput{
			Filters: []asgtypes.Filter{{Name: aws.String("tag:" + TagStack), Values: []string{env.Cfg.Stack}}}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list the stack's Auto Scaling groups: %w", err)
			}
			all = append(all, page.AutoScalingGroups...)
		}
		return all, nil
	})
	if err != nil {
		return nil, err
	}
	var out []*asgtypes.AutoScalingGroup
	for i := range all {
		g := all[i] // a copy: the answer is shared
		if groupOwned(env, &g) && aws.ToString(g.Status) != "Delete in progress" {
			out = append(out, &g)
		}
	}
	current := env.currentGroups()
	slices.SortStableFunc(out, func(a, b *asgtypes.AutoScalingGroup) int {
		return boolRank(!current[aws.ToString(a.AutoScalingGroupName)]) - boolRank(!current[aws.ToString(b.AutoScalingGroupName)])
	})
	return out, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (k autoScalingGroupKind) Record(f fleet) resource.Recorded {
	r := resource.Recorded{ID: k.name()}
	if f.group != nil {
		r.ID = aws.ToString(f.group.AutoScalingGroupName)
	}
	if f.group != nil {
		r.Attrs = map[string]string{"arn": aws.ToString(f.group.AutoScalingGroupARN)}
	}
	return r
}

func (k autoScalingGroupKind) shown(f fleet) []plan.Attr {
	if len(f.machines) == 0 {
		return nil
	}
	return []plan.Attr{{Key: "machines", Value: strconv.Itoa(len(f.machines))}}
}

func (k autoScalingGroupKind) Diff(_ context.Context, f fleet) (groupFix, []string, error) {
	g := f.group
	var rs []string
	var fix groupFix
	max := int32(k.f.MaxInstances)
	if aws.ToInt32(g.MaxSize) != max || aws.ToInt32(g.MinSize) != 0 {
		rs = append(rs, fmt.Sprintf("min/max %d/%d -> 0/%d", aws.ToInt32(g.MinSize), aws.ToInt32(g.MaxSize), max))
	}
	if want := k.subnets(); !sameSubnets(aws.ToString(g.VPCZoneIdentifier), want) || len(laterSubnets(k.env, k.env.privateSubnets())) > 0 {
		rs = append(rs, fmt.Sprintf("subnets %s -> %s", aws.ToString(g.VPCZoneIdentifier), subnetsAttr(k.env, k.env.privateSubnets()).Value))
	}
	if !aws.ToBool(g.NewInstancesProtectedFromScaleIn) {
		rs = append(rs, "protect new instances from scale-in")
	}
	if aws.ToBool(g.CapacityRebalance) {
		rs = append(rs, "turn capacity rebalance off")
	}
	rs = append(rs, k.launchDiff(g)...)
	fix.settings = len(rs) > 0
	suspended := false
	for _, p := range g.SuspendedProcesses {
		suspended = suspended || aws.ToString(p.ProcessName) == "AZRebalance"
	}
	if !suspended {
		fix.suspend = true
		rs = append(rs, "suspend AZRebalance")
	}
	return fix, rs, nil
}

func (k autoScalingGroupKind) Create(ctx context.Context, _ string, _ resource.Found[fleet]) (fleet, groupFix, error) {
	name := aws.String(k.name())
	in := &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName:             name,
		MinSize:                          aws.Int32(0),
		MaxSize:                          aws.Int32(int32(k.f.MaxInstances)),
		DesiredCapacity:                  aws.Int32(0),
		VPCZoneIdentifier:                aws.String(k.subnets()),
		NewInstancesProtectedFromScaleIn: aws.Bool(true),
		// Capacity rebalancing would start a replacement and then end a
		// machine that may be running a job: off, Spot or not.
		CapacityRebalance: aws.Bool(false),
		Tags:              k.tags(),
	}
	if k.f.MixedInstances() {
		in.MixedInstancesPolicy = k.mixedPolicy()
	} else {
		in.LaunchTemplate = k.launchTemplate()
	}
	_, err := k.env.ASG.CreateAutoScalingGroup(ctx, in)
	if err != nil && awsapi.ErrorCode(err) != "AlreadyExists" {
		return fleet{}, groupFix{}, awsapi.RetryableCreate(fmt.Errorf("create Auto Scaling group %s: %w", *name, err))
	}
	g, err := k.describeGroup(ctx, *name)
	if err != nil || g == nil {
		return fleet{}, groupFix{}, plan.TryAgainf("Auto Scaling group %s is not visible yet: %v", *name, err)
	}
	return fleet{group: g}, groupFix{suspend: true}, nil
}

func (k autoScalingGroupKind) launchTemplate() *asgtypes.LaunchTemplateSpecification {
	return &asgtypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(k.env.IDOf(k.template())), Version: aws.String("$Default")}
}

func (k autoScalingGroupKind) Update(ctx context.Context, _ fleet, f groupFix) error {
	name := aws.String(k.name())
	if f.settings {
		// The desired capacity belongs to the plugin: never touched here.
		in := &autoscaling.UpdateAutoScalingGroupInput{
			AutoScalingGroupName: name, MinSize: aws.Int32(0), MaxSize: aws.Int32(int32(k.f.MaxInstances)),
			VPCZoneIdentifier: aws.String(k.subnets()), NewInstancesProtectedFromScaleIn: aws.Bool(true), CapacityRebalance: aws.Bool(false),
		}
		// One or the other: a launch template given alone replaces a
		// mixed-instances policy, and the other way round.
		if k.f.MixedInstances() {
			in.MixedInstancesPolicy = k.mixedPolicy()
		} else {
			in.LaunchTemplate = k.launchTemplate()
		}
		_, err := k.env.ASG.UpdateAutoScalingGroup(ctx, in)
		if err != nil {
			return fmt.Errorf("update Auto Scaling group %s: %w", *name, err)
		}
	}
	if f.suspend {
		if _, err := k.env.ASG.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: name, ScalingProcesses: []string{"AZRebalance"}}); err != nil {
			return awsapi.RetryableCreate(fmt.Errorf("suspend AZRebalance on %s: %w", *name, err))
		}
	}
	return nil
}

// tags propagate to every machine, so teardown finds machines by tag too.
func (k autoScalingGroupKind) tags() []asgtypes.Tag {
	return tagList(k.env.tagMap(k.StepID(), fleetName("runner-machine", k.f.Name)), func(key, v string) asgtypes.Tag {
		return asgtypes.Tag{Key: aws.String(key), Value: aws.String(v), PropagateAtLaunch: aws.Bool(true),
			ResourceId: aws.String(k.name()), ResourceType: aws.String("auto-scaling-group")}
	})
}

// Remove deletes the group and terminates its machines. They are protected
// from scale-in, and a force delete does not always take protected
// machines with it, so they are terminated by id and waited for (their
// network interfaces hold the security group and subnet).
func (k autoScalingGroupKind) Remove(ctx context.Context, f fleet) error {
	if g := f.group; g != nil {
		if err := removeGroup(ctx, k.env, g); err != nil {
			return err
		}
	}
	machines, err := k.machines(ctx)
	if err != nil {
		return err
	}
	return terminate(ctx, k.env, machines)
}

// group is the current generation's group (nil: none). While the plan
// replaces the manager (before the new one exists), it is a new one too.
func (k autoScalingGroupKind) group(ctx context.Context) (*asgtypes.AutoScalingGroup, error) {
	if k.name() == "" || (k.env.replacing.Has(StepManager) && !k.env.Teardown) {
		return nil, nil
	}
	groups, err := stackGroups(ctx, k.env)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if aws.ToString(g.AutoScalingGroupName) == k.name() {
			return g, nil
		}
	}
	// A group of that name that is not the stack's is a conflict for find.
	return k.describeGroup(ctx, k.name())
}

func (k autoScalingGroupKind) describeGroup(ctx context.Context, name string) (*asgtypes.AutoScalingGroup, error) {
	out, err := k.env.ASG.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return nil, fmt.Errorf("describe Auto Scaling group %s: %w", name, err)
	}
	for i := range out.AutoScalingGroups {
		if g := &out.AutoScalingGroups[i]; aws.ToString(g.Status) != "Delete in progress" {
			return g, nil
		}
	}
	return nil, nil
}

// groupOwned: the group carries the stack's tag.
func groupOwned(env *Env, g *asgtypes.AutoScalingGroup) bool {
	return groupTag(g, TagStack) == env.Cfg.Stack
}

// currentGroups are the names of the configured fleets' groups of the
// current manager's generation.
func (e *Env) currentGroups() map[string]bool {
	out := map[string]bool{}
	for _, f := range e.Cfg.FleetList() {
		if f.Autoscaler() && e.fleetGroup(f.Name) != "" {
			out[e.fleetGroup(f.Name)] = true
		}
	}
	return out
}

// machines lists the group's instances that are not terminated yet.
func (k autoScalingGroupKind) machines(ctx context.Context) ([]string, error) {
	found, err := unterminatedInstances(ctx, k.env, []ec2types.Filter{
		Filter("tag:"+TagStack, k.env.Cfg.Stack),
		Filter("tag:"+TagStep, StepTag(k.StepID())),
	})
	return instanceIDs(found), err
}

func isASGGone(err error) bool {
	return awsapi.ErrorCode(err) == "ValidationError" && ContainsAny(err.Error(), "not found", "does not exist")
}

// tagsOf: the group's tags, which it also puts on the machines it launches.
func (k autoScalingGroupKind) tagsOf(_ context.Context, f fleet) (map[string]string, error) {
	return resource.TagMapOf(f.group.Tags, func(t asgtypes.TagDescription) (*string, *string) { return t.Key, t.Value }), nil
}

// retag changes the group's tags; machines launched from then on carry them.
func (k autoScalingGroupKind) retag(ctx context.Context, _ fleet, c resource.TagChange) error {
	name := aws.String(k.name())
	tag := func(key, v string) asgtypes.Tag {
		return asgtypes.Tag{Key: aws.String(key), Value: aws.String(v), PropagateAtLaunch: aws.Bool(true), ResourceId: name, ResourceType: aws.String("auto-scaling-group")}
	}
	if len(c.Set) > 0 {
		var tags []asgtypes.Tag
		for key, v := range c.Set {
			tags = append(tags, tag(key, v))
		}
		if _, err := k.env.ASG.CreateOrUpdateTags(ctx, &autoscaling.CreateOrUpdateTagsInput{Tags: tags}); err != nil {
			return fmt.Errorf("tag Auto Scaling group %s: %w", *name, err)
		}
	}
	if len(c.Remove) > 0 {
		var tags []asgtypes.Tag
		for _, key := range c.Remove {
			tags = append(tags, tag(key, ""))
		}
		if _, err := k.env.ASG.DeleteTags(ctx, &autoscaling.DeleteTagsInput{Tags: tags}); err != nil {
			return fmt.Errorf("remove tags from Auto Scaling group %s: %w", *name, err)
		}
	}
	return nil
}
