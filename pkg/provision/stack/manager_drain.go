package stack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
)

// managerDrain hands the fleet over from a replaced manager
// (docker-autoscaler). The new manager scales a group of its own (a group
// is never scaled by two managers), so the old one may finish what it
// runs: this step asks it to stop taking jobs and to finish the running
// ones (gitlab-runner's graceful stop: `systemctl stop` with KillSignal
// SIGQUIT, "Overriding default stopping behavior" in gitlab-runner's
// docs), waits until it says it is done or manager.drain_timeout has
// passed since the drain began, then terminates it and removes its group
// with the group's machines. The request and the answer go through the
// SSM parameter /provision/<stack>/drain, which the manager reads every
// 15 s (it needs no inbound access). A teardown removes every manager and
// group anyway (instance/manager and asg/runner find them all).
type managerDrain struct{ env *Env }

func newManagerDrainStep(env *Env) plan.Step { return managerDrain{env} }

// KindManagerDrain is the kind of the handover's plan line.
const KindManagerDrain = "manager-drain"

func (d managerDrain) ID() plan.ID { return StepDrain }

func (d managerDrain) DependsOn() []plan.ID {
	if d.env.Teardown {
		return nil
	}
	// After every autoscaler fleet's group of the new generation (a stack
	// of fleets may have no default one).
	deps := []plan.ID{StepManagerAssoc}
	for _, f := range d.env.Cfg.FleetList() {
		if f.Autoscaler() {
			deps = append(deps, FleetStep(StepAutoScaling, f.Name))
		}
	}
	return deps
}

// DrainParameterName is where a drain is asked for ("<instance id>") and
// answered ("drained <instance id>").
func DrainParameterName(stack string) string { return "/provision/" + stack + "/drain" }

// leftovers are the managers that drain and the groups of other
// generations; when planning (before the replacement is made), also the
// manager the plan replaces and its group.
func (d managerDrain) leftovers(ctx context.Context, planning bool) ([]ec2types.Instance, []*asgtypes.AutoScalingGroup, error) {
	replacing := planning && d.env.replacing.Has(StepManager)
	managers, err := stackManagers(ctx, d.env)
	if err != nil {
		return nil, nil, err
	}
	current := d.env.IDOf(StepManager)
	var old []ec2types.Instance
	for _, m := range managers {
		replaced := replacing && aws.ToString(m.InstanceId) == current
		if notGoing(m) && d.env.ownedBy(m.Tags, StepManager) && (TagValue(m.Tags, tagDraining) != "" || replaced) {
			old = append(old, m)
		}
	}
	groups, err := stackGroups(ctx, d.env)
	if err != nil {
		return nil, nil, err
	}
	kept := d.env.currentGroups()
	var others []*asgtypes.AutoScalingGroup
	for _, g := range groups {
		if name := aws.ToString(g.AutoScalingGroupName); !kept[name] || replacing {
			others = append(others, g)
		}
	}
	return old, others, nil
}

func (d managerDrain) Plan(ctx context.Context) (plan.Change, error) {
	c := plan.Change{Step: StepDrain, Kind: KindManagerDrain, Name: d.env.name("manager") + " (replaced)"}
	// The apply walk plans each step right before it applies it, after
	// the manager's replacement: only a plan before it counts that one.
	_, walk := plan.StepOf(ctx)
	old, groups, err := d.leftovers(ctx, walk != "apply")
	if err != nil || (len(old) == 0 && len(groups) == 0) {
		return c, err
	}
	c.Action = plan.Delete
	var ids []string
	for _, m := range old {
		ids = append(ids, aws.ToString(m.InstanceId))
		then := "then is terminated"
		if d.env.NoWaitDrain {
			then = "then powers itself off (--no-wait: not waited for; a later up removes its group)"
		}
		c.Reasons = append(c.Reasons, fmt.Sprintf("%s stops taking jobs and finishes those it runs (%s), %s", aws.ToString(m.InstanceId), d.limit(m, time.Now()), then))
	}
	for _, g := range groups {
		c.Reasons = append(c.Reasons, fmt.Sprintf("then its group %s goes, with its machines", aws.ToString(g.AutoScalingGroupName)))
	}
	c.ID = strings.Join(ids, ",")
	return c, nil
}

func (d managerDrain) Apply(ctx context.Context, _ plan.Change) error {
	old, groups, err := d.leftovers(ctx, false)
	if err != nil {
		return err
	}
	var ids []string
	busy := map[string]bool{} // groups of managers still finishing their jobs
	for _, m := range old {
		if d.env.NoWaitDrain && TagValue(m.Tags, tagFleetGroup) != "" && time.Now().Before(d.deadline(m)) {
			if err := d.askAndLeave(ctx, m); err != nil {
				return err
			}
			busy[TagValue(m.Tags, tagFleetGroup)] = true
			continue
		}
		if err := d.drain(ctx, m); err != nil {
			return err
		}
		ids = append(ids, aws.ToString(m.InstanceId))
	}
	if err := terminate(ctx, d.env, ids); err != nil {
		return err
	}
	for _, g := range groups {
		// A busy generation's groups are every fleet's: G and G.FLEET.
		name, _, _ := strings.Cut(aws.ToString(g.AutoScalingGroupName), ".")
		if busy[name] {
			continue
		}
		if err := removeGroup(ctx, d.env, g); err != nil {
			return err
		}
	}
	return nil
}

// deadline is when a manager's drain must end: manager.drain_timeout after
// it began (its draining tag), or from now for a drain not begun.
func (d managerDrain) deadline(m ec2types.Instance) time.Time {
	began, err := time.Parse(time.RFC3339, TagValue(m.Tags, tagDraining))
	if err != nil {
		began = time.Now()
	}
	timeout, _ := time.ParseDuration(d.env.Cfg.Manager.DrainTimeout) // validated
	return began.Add(timeout)
}

// limit says how long a drain may still take: "up to 30m", or for one
// under way "up to 30m, 12m left".
func (d managerDrain) limit(m ec2types.Instance, now time.Time) string {
	s := "up to " + d.env.Cfg.Manager.DrainTimeout
	if TagValue(m.Tags, tagDraining) != "" {
		left := d.deadline(m).Sub(now).Round(time.Second)
		if left < 0 {
			left = 0
		}
		s += ", " + left.String() + " left"
	}
	return s
}

// askAndLeave asks a manager to drain and does not wait: its shutdown is
// made to terminate it (EC2's instance-initiated shutdown behavior), and
// its drain script powers it off once gitlab-runner has stopped, its jobs
// done. A later up finds it gone and removes its group; one still running
// past manager.drain_timeout is terminated then.
func (d managerDrain) askAndLeave(ctx context.Context, m ec2types.Instance) error {
	id := aws.ToString(m.InstanceId)
	if _, err := d.env.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id,
		InstanceInitiatedShutdownBehavior: &ec2types.AttributeValue{Value: aws.String(string(ec2types.ShutdownBehaviorTerminate))}}); err != nil {
		return awsapi.RetryableCreate(fmt.Errorf("make %s terminate when it powers off: %w", id, err))
	}
	name := DrainParameterName(d.env.Cfg.Stack)
	if _, err := d.env.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(id),
		Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)}); err != nil {
		return awsapi.RetryableCreate(fmt.Errorf("ask %s to drain (%s): %w", id, name, err))
	}
	d.env.Log.Info(fmt.Sprintf("%s drains (%s) and powers itself off when its jobs end; `provision status` shows it until then", id, d.limit(m, time.Now())))
	return nil
}

// drain asks one manager to finish its jobs and waits for its answer, at
// most until manager.drain_timeout after the drain began (the time in its
// draining tag, so a resumed run does not wait again from the start).
func (d managerDrain) drain(ctx context.Context, m ec2types.Instance) error {
	id := aws.ToString(m.InstanceId)
	// A manager launched before drains existed has nothing that answers.
	if TagValue(m.Tags, tagFleetGroup) == "" {
		d.env.Log.Warn(fmt.Sprintf("%s was launched by an earlier provision that could not drain it: it is terminated with the jobs it runs", id))
		return nil
	}
	name := DrainParameterName(d.env.Cfg.Stack)
	if _, err := d.env.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(id),
		Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)}); err != nil {
		return awsapi.RetryableCreate(fmt.Errorf("ask %s to drain (%s): %w", id, name, err))
	}
	deadline := d.deadline(m)
	wait, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	err := plan.Poll(wait, id+" to finish its jobs", func(ctx context.Context) (string, bool, error) {
		p, err := GetParameter(ctx, d.env.SSM, name, false)
		if err != nil {
			return "", false, err
		}
		if p != nil && aws.ToString(p.Value) == "drained "+id {
			return "", true, nil
		}
		left := time.Until(deadline).Round(time.Second)
		return fmt.Sprintf("%s, draining: %s left of manager.drain_timeout %s", id, left, d.env.Cfg.Manager.DrainTimeout), false, nil
	})
	if err != nil && wait.Err() != nil && ctx.Err() == nil {
		d.env.Log.Warn(fmt.Sprintf("%s did not finish its jobs within manager.drain_timeout %s: it is terminated with them", id, d.env.Cfg.Manager.DrainTimeout))
		return nil
	}
	if err != nil && !errors.Is(err, plan.ErrInterrupted) {
		return plan.TryAgain(err)
	}
	return err
}

// PlanDelete: a teardown removes every manager and group through their
// own steps.
func (d managerDrain) PlanDelete(context.Context) (plan.Change, error) {
	return plan.Change{Step: StepDrain, Kind: KindManagerDrain, Name: d.env.name("manager") + " (replaced)"}, nil
}

func (d managerDrain) Delete(context.Context, plan.Change) error { return nil }

// removeGroup deletes one group and terminates its machines: they are
// protected from scale-in, so they are unprotected first; a force delete
// does not always take protected machines with it.
func removeGroup(ctx context.Context, env *Env, g *asgtypes.AutoScalingGroup) error {
	name := g.AutoScalingGroupName
	var ids []string
	for _, i := range g.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	// SetInstanceProtection takes at most 50 instances a call.
	for batch := range slices.Chunk(ids, 50) {
		_, _ = env.ASG.SetInstanceProtection(ctx, &autoscaling.SetInstanceProtectionInput{AutoScalingGroupName: name, InstanceIds: batch, ProtectedFromScaleIn: aws.Bool(false)})
	}
	_, err := env.ASG.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{AutoScalingGroupName: name, ForceDelete: aws.Bool(true)})
	if err != nil && !isASGGone(err) {
		return awsapi.RetryableDelete(fmt.Errorf("delete Auto Scaling group %s: %w", aws.ToString(name), err))
	}
	return terminate(ctx, env, ids)
}
