package provision

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
)

// autoScalingGroupStep is the group the fleeting plugin scales
// (docker-autoscaler): it starts empty, the plugin alone sets the desired
// capacity, machines are protected from scale-in (the plugin removes them
// itself, never while a job runs), and AZ rebalancing is suspended.
type autoScalingGroupStep struct{ env *Env }

func newAutoScalingGroupStep(env *Env) *autoScalingGroupStep { return &autoScalingGroupStep{env: env} }

func (s *autoScalingGroupStep) ID() plan.ID { return stepAutoScaling }
func (s *autoScalingGroupStep) DependsOn() []plan.ID {
	return []plan.ID{stepLaunchTemplate, stepPrivateSubnet}
}

func (s *autoScalingGroupStep) change() plan.Change {
	return plan.Change{Step: stepAutoScaling, Kind: "autoscaling-group", Name: s.env.AutoScalingGroupName(), Attrs: []plan.Attr{
		{Key: "subnet", Value: orUnknown(s.env.idOf(stepPrivateSubnet))},
		{Key: "min/desired/max", Value: fmt.Sprintf("0/0/%d", s.env.Cfg.Runners.MaxInstances)},
		{Key: "scale_in_protection", Value: "true"},
	}}
}

func (s *autoScalingGroupStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	g, err := s.find(ctx)
	if err != nil {
		return c, err
	}
	if g == nil {
		c.Action = plan.Create
		return c, s.env.markGone(stepAutoScaling)
	}
	c.ID = aws.ToString(g.AutoScalingGroupName)
	if !s.owned(g) {
		return c, fmt.Errorf("%s: an Auto Scaling group named %s exists that stack %s did not create: delete or rename it", stepAutoScaling, c.ID, s.env.Cfg.Stack)
	}
	if err := s.env.created(stepAutoScaling, "autoscaling-group", c.ID, map[string]string{"arn": aws.ToString(g.AutoScalingGroupARN)}); err != nil {
		return c, err
	}
	c.Reasons = s.diff(g)
	if len(c.Reasons) > 0 {
		c.Action = plan.Update
		c.Detail = g
	}
	return c, nil
}

func (s *autoScalingGroupStep) diff(g *asgtypes.AutoScalingGroup) []string {
	var rs []string
	max := int32(s.env.Cfg.Runners.MaxInstances)
	if aws.ToInt32(g.MaxSize) != max || aws.ToInt32(g.MinSize) != 0 {
		rs = append(rs, fmt.Sprintf("min/max %d/%d -> 0/%d", aws.ToInt32(g.MinSize), aws.ToInt32(g.MaxSize), max))
	}
	if aws.ToString(g.VPCZoneIdentifier) != s.env.idOf(stepPrivateSubnet) {
		rs = append(rs, "subnets -> "+s.env.idOf(stepPrivateSubnet))
	}
	if !aws.ToBool(g.NewInstancesProtectedFromScaleIn) {
		rs = append(rs, "protect new instances from scale-in")
	}
	if aws.ToBool(g.CapacityRebalance) {
		rs = append(rs, "turn capacity rebalance off")
	}
	if lt := g.LaunchTemplate; lt == nil || aws.ToString(lt.LaunchTemplateId) != s.env.idOf(stepLaunchTemplate) {
		rs = append(rs, "launch from "+s.env.idOf(stepLaunchTemplate))
	}
	suspended := false
	for _, p := range g.SuspendedProcesses {
		suspended = suspended || aws.ToString(p.ProcessName) == "AZRebalance"
	}
	if !suspended {
		rs = append(rs, "suspend AZRebalance")
	}
	return rs
}

func (s *autoScalingGroupStep) Apply(ctx context.Context, c plan.Change) error {
	name := aws.String(s.env.AutoScalingGroupName())
	lt := &asgtypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(s.env.idOf(stepLaunchTemplate)), Version: aws.String("$Default")}
	max := aws.Int32(int32(s.env.Cfg.Runners.MaxInstances))
	subnet := aws.String(s.env.idOf(stepPrivateSubnet))
	if c.Action == plan.Create {
		if _, err := s.env.beginCreate(stepAutoScaling, "autoscaling-group"); err != nil {
			return err
		}
		_, err := s.env.ASG.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
			AutoScalingGroupName:             name,
			LaunchTemplate:                   lt,
			MinSize:                          aws.Int32(0),
			MaxSize:                          max,
			DesiredCapacity:                  aws.Int32(0),
			VPCZoneIdentifier:                subnet,
			NewInstancesProtectedFromScaleIn: aws.Bool(true),
			CapacityRebalance:                aws.Bool(false),
			Tags:                             s.tags(),
		})
		if err != nil && errorCode(err) != "AlreadyExists" {
			return retryableCreate(fmt.Errorf("create Auto Scaling group %s: %w", *name, err))
		}
	} else {
		// The desired capacity belongs to the plugin: never touched here.
		_, err := s.env.ASG.UpdateAutoScalingGroup(ctx, &autoscaling.UpdateAutoScalingGroupInput{
			AutoScalingGroupName: name, LaunchTemplate: lt, MinSize: aws.Int32(0), MaxSize: max,
			VPCZoneIdentifier: subnet, NewInstancesProtectedFromScaleIn: aws.Bool(true), CapacityRebalance: aws.Bool(false),
		})
		if err != nil {
			return fmt.Errorf("update Auto Scaling group %s: %w", *name, err)
		}
	}
	if _, err := s.env.ASG.SuspendProcesses(ctx, &autoscaling.SuspendProcessesInput{AutoScalingGroupName: name, ScalingProcesses: []string{"AZRebalance"}}); err != nil {
		return retryableCreate(fmt.Errorf("suspend AZRebalance on %s: %w", *name, err))
	}
	g, err := s.find(ctx)
	if err != nil || g == nil {
		return plan.TryAgainf("Auto Scaling group %s is not visible yet: %v", *name, err)
	}
	return s.env.created(stepAutoScaling, "autoscaling-group", *name, map[string]string{"arn": aws.ToString(g.AutoScalingGroupARN)})
}

// tags propagate to every machine, so teardown finds machines by tag too.
func (s *autoScalingGroupStep) tags() []asgtypes.Tag {
	m := s.env.tagMap(stepAutoScaling, "runner-machine")
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var tags []asgtypes.Tag
	for _, k := range keys {
		tags = append(tags, asgtypes.Tag{Key: aws.String(k), Value: aws.String(m[k]), PropagateAtLaunch: aws.Bool(true),
			ResourceId: aws.String(s.env.AutoScalingGroupName()), ResourceType: aws.String("auto-scaling-group")})
	}
	return tags
}

func (s *autoScalingGroupStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	g, err := s.find(ctx)
	if err != nil {
		return c, err
	}
	machines, err := s.machines(ctx)
	if err != nil {
		return c, err
	}
	if (g == nil || !s.owned(g)) && len(machines) == 0 {
		return c, s.env.forget(stepAutoScaling)
	}
	c.ID = s.env.AutoScalingGroupName()
	if len(machines) > 0 {
		c.Attrs = append(c.Attrs, plan.Attr{Key: "machines", Value: strconv.Itoa(len(machines))})
	}
	c.Action = plan.Delete
	c.Detail = g
	return c, nil
}

// Delete removes the group and terminates its machines. They are protected
// from scale-in, and a force delete does not always take protected
// machines with it, so they are terminated by id and waited for (their
// network interfaces hold the security group and subnet).
func (s *autoScalingGroupStep) Delete(ctx context.Context, c plan.Change) error {
	if g, _ := c.Detail.(*asgtypes.AutoScalingGroup); g != nil && s.owned(g) {
		name := g.AutoScalingGroupName
		var ids []string
		for _, i := range g.Instances {
			ids = append(ids, aws.ToString(i.InstanceId))
		}
		// SetInstanceProtection takes at most 50 instances a call.
		for batch := range slices.Chunk(ids, 50) {
			_, _ = s.env.ASG.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{AutoScalingGroupName: name, InstanceIds: batch, ProtectedFromScaleIn: aws.Bool(false)})
		}
		_, err := s.env.ASG.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: name, ForceDelete: aws.Bool(true)})
		if err != nil && !isASGGone(err) {
			return retryableDelete(fmt.Errorf("delete Auto Scaling group %s: %w", aws.ToString(name), err))
		}
	}
	machines, err := s.machines(ctx)
	if err != nil {
		return err
	}
	if err := terminate(ctx, s.env, machines); err != nil {
		return err
	}
	return s.env.forget(stepAutoScaling)
}

func (s *autoScalingGroupStep) find(ctx context.Context) (*asgtypes.AutoScalingGroup, error) {
	out, err := s.env.ASG.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{s.env.AutoScalingGroupName()}})
	if err != nil {
		return nil, fmt.Errorf("describe Auto Scaling group %s: %w", s.env.AutoScalingGroupName(), err)
	}
	for i := range out.AutoScalingGroups {
		if g := &out.AutoScalingGroups[i]; aws.ToString(g.Status) != "Delete in progress" {
			return g, nil
		}
	}
	return nil, nil
}

func (s *autoScalingGroupStep) owned(g *asgtypes.AutoScalingGroup) bool {
	for _, t := range g.Tags {
		if aws.ToString(t.Key) == TagStack {
			return aws.ToString(t.Value) == s.env.Cfg.Stack
		}
	}
	return false
}

// machines lists the group's instances that are not terminated yet.
func (s *autoScalingGroupStep) machines(ctx context.Context) ([]string, error) {
	found, err := unterminatedInstances(ctx, s.env, []ec2types.Filter{
		filter("tag:"+TagStack, s.env.Cfg.Stack),
		filter("tag:"+TagStep, string(stepAutoScaling)),
	})
	return instanceIDs(found), err
}

func isASGGone(err error) bool {
	return errorCode(err) == "ValidationError" && containsAny(err.Error(), "not found", "does not exist")
}

// unterminatedInstances returns instances matching the filters that are
// not terminated yet. Teardown counts shutting-down as present: such an
// instance still runs gitlab-runner or docker-machine and still holds its
// network interface, so what comes after it must wait for "terminated".
func unterminatedInstances(ctx context.Context, env *Env, filters []ec2types.Filter) ([]ec2types.Instance, error) {
	filters = append(filters, filter("instance-state-name", "pending", "running", "shutting-down", "stopping", "stopped"))
	var found []ec2types.Instance
	p := ec2.NewDescribeInstancesPaginator(env.EC2, &ec2.DescribeInstancesInput{Filters: filters})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list instances: %w", err)
		}
		for _, r := range out.Reservations {
			found = append(found, r.Instances...)
		}
	}
	return found, nil
}

func instanceIDs(instances []ec2types.Instance) []string {
	ids := make([]string, 0, len(instances))
	for _, i := range instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	return ids
}

// terminate terminates instances and reports "try again" until they are
// gone, so what depends on them is deleted only afterwards.
func terminate(ctx context.Context, env *Env, ids []string) error {
	ids = unique(ids)
	if len(ids) == 0 {
		return nil
	}
	_, err := env.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
	if err != nil && !isNotFound(err) {
		return retryableDelete(fmt.Errorf("terminate %v: %w", ids, err))
	}
	out, err := env.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return plan.TryAgain(fmt.Errorf("check %v: %w", ids, err))
	}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			if i.State != nil && i.State.Name != ec2types.InstanceStateNameTerminated {
				return plan.TryAgainf("waiting for %s to terminate (%s)", aws.ToString(i.InstanceId), i.State.Name)
			}
		}
	}
	return nil
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

func unique(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
