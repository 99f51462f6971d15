package provision

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
)

// tagLaunchHash records what the manager was launched with (AMI, type,
// user-data), so a change shows up as a replacement in the plan.
const tagLaunchHash = "provision:launch-hash"

// managerInstanceStep is the runner manager: on demand (never spot), in the
// public subnet with a public address at launch (its bootstrap needs the
// internet before the Elastic IP is attached), IMDSv2 only, encrypted root.
type managerInstanceStep struct{ env *Env }

func newManagerInstanceStep(env *Env) *managerInstanceStep { return &managerInstanceStep{env: env} }

func (s *managerInstanceStep) ID() plan.ID { return stepManager }
func (s *managerInstanceStep) DependsOn() []plan.ID {
	deps := []plan.ID{stepPublicSubnet, stepPublicRoutes, stepPublicACL, stepManagerGroup, stepManagerRole, s.env.tokenStep()}
	if s.env.Teardown {
		// The manager goes first, before anything of either executor.
		return append(deps, stepAutoScaling, stepMachines, stepRunnerRole)
	}
	if s.env.autoscaler() {
		return append(deps, stepAutoScaling)
	}
	return append(deps, stepMachines, stepRunnerRole)
}

func (s *managerInstanceStep) change() plan.Change {
	return plan.Change{Step: stepManager, Kind: "instance", Name: s.env.name("manager"), Attrs: []plan.Attr{
		{Key: "type", Value: s.env.Cfg.Manager.InstanceType},
		{Key: "ami", Value: s.env.Images.Manager.ID},
		{Key: "subnet", Value: orUnknown(s.env.idOf(stepPublicSubnet))},
		{Key: "imdsv2", Value: "required"},
	}}
}

// userData renders the manager's cloud-config from the configuration and
// what the other steps made.
func (s *managerInstanceStep) userData() ([]byte, error) {
	e := s.env
	r := e.Cfg.Runners
	idle, _ := time.ParseDuration(r.IdleTime)
	run := bootstrap.Runner{
		Stack: e.Cfg.Stack, Region: e.Region, GitLabURL: e.Cfg.GitLab.URL, Executor: r.Executor,
		Concurrent: r.Concurrent, MaxInstances: r.MaxInstances, CapacityPerInstance: r.CapacityPerInstance,
		IdleCount: r.IdleCount, IdleTime: idle, Image: r.Image, Privileged: r.Privileged, MaxUseCount: r.MaxUseCount,
	}
	if e.autoscaler() {
		run.AutoScalingGroup = e.AutoScalingGroupName()
	} else {
		run.VPCID, run.SubnetID, run.Zone = e.idOf(stepVPC), e.idOf(stepPrivateSubnet), e.Zone
		run.SecurityGroupName, run.InstanceType, run.InstanceProfile = e.name("runner"), r.InstanceType, e.iamName("runner")
		// Without runners.ami the driver picks its own default image, which
		// its SSH provisioner knows how to set up.
		run.AMI, run.RootSizeGB, run.Spot, run.SSHUser = r.AMI, r.VolumeSizeGB, r.Spot, r.SSHUser
		run.Tags = map[string]string{TagStack: e.Cfg.Stack, TagStep: string(stepMachines)}
		for k, v := range e.Cfg.Tags {
			run.Tags[k] = v
		}
	}
	return bootstrap.ManagerUserData(bootstrap.Manager{Runner: run, RunnerVersion: e.Cfg.Manager.RunnerVersion, TokenParameter: e.TokenParameter()})
}

// launchHash sums what the manager is launched with; ami is the image it
// runs (or is about to run).
func (s *managerInstanceStep) launchHash(userData []byte, ami string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", ami, s.env.Cfg.Manager.InstanceType, s.env.Cfg.Manager.KeyName)
	h.Write(userData)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// managerFound is what Plan saw.
type managerFound struct {
	instance *ec2types.Instance
	replace  bool
	start    bool
	groups   bool
}

func (s *managerInstanceStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	inst, err := s.find(ctx)
	if err != nil {
		return c, err
	}
	if inst == nil {
		c.Action = plan.Create
		return c, s.env.markGone(stepManager)
	}
	c.ID = aws.ToString(inst.InstanceId)
	if err := s.env.created(stepManager, "instance", c.ID, instanceAttrs(inst)); err != nil {
		return c, err
	}
	f := &managerFound{instance: inst}
	// Only compare what other steps already know; in a plan of a fresh
	// environment the instance does not exist yet anyway.
	ud, err := s.userData()
	if err != nil {
		return c, err
	}
	// Without manager.ami the image is the latest Amazon Linux 2023 at
	// launch; a newer release alone does not replace a running manager.
	ami := s.env.Images.Manager.ID
	if s.env.Cfg.Manager.AMI == "" {
		ami = aws.ToString(inst.ImageId)
	}
	if got, want := tagValue(inst.Tags, tagLaunchHash), s.launchHash(ud, ami); got != want {
		f.replace = true
		c.Reasons = append(c.Reasons, "replace: AMI, instance type, key or bootstrap configuration changed")
	}
	if inst.State != nil && (inst.State.Name == ec2types.InstanceStateNameStopped || inst.State.Name == ec2types.InstanceStateNameStopping) && !f.replace {
		f.start = true
		c.Reasons = append(c.Reasons, "start it (it is "+string(inst.State.Name)+")")
	}
	if sg := s.env.idOf(stepManagerGroup); !f.replace && (len(inst.SecurityGroups) != 1 || aws.ToString(inst.SecurityGroups[0].GroupId) != sg) {
		f.groups = true
		c.Reasons = append(c.Reasons, "security groups -> "+sg)
	}
	if len(c.Reasons) > 0 {
		c.Action = plan.Update
		c.Detail = f
	}
	return c, nil
}

func (s *managerInstanceStep) Apply(ctx context.Context, c plan.Change) error {
	f, _ := c.Detail.(*managerFound)
	switch {
	case c.Action == plan.Create:
		return s.launch(ctx)
	case f.replace:
		if err := terminate(ctx, s.env, []string{c.ID}); err != nil && !plan.IsTryAgain(err) {
			return err
		}
		if err := s.env.markGone(stepManager); err != nil {
			return err
		}
		return s.launch(ctx)
	}
	if f.groups {
		if _, err := s.env.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &c.ID, Groups: []string{s.env.idOf(stepManagerGroup)}}); err != nil {
			return fmt.Errorf("set the security group of %s: %w", c.ID, err)
		}
	}
	if f.start {
		if _, err := s.env.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{c.ID}}); err != nil {
			return retryableCreate(fmt.Errorf("start %s: %w", c.ID, err))
		}
	}
	return s.waitRunning(ctx, c.ID)
}

func (s *managerInstanceStep) launch(ctx context.Context) error {
	ud, err := s.userData()
	if err != nil {
		return err
	}
	token, err := s.env.beginCreate(stepManager, "instance")
	if err != nil {
		return err
	}
	tags := s.env.ec2Tags(stepManager, "manager")
	tags = append(tags, ec2types.Tag{Key: aws.String(tagLaunchHash), Value: aws.String(s.launchHash(ud, s.env.Images.Manager.ID))})
	in := &ec2.RunInstancesInput{
		ImageId:      aws.String(s.env.Images.Manager.ID),
		InstanceType: ec2types.InstanceType(s.env.Cfg.Manager.InstanceType),
		MinCount:     aws.Int32(1),
		MaxCount:     aws.Int32(1),
		ClientToken:  &token,
		// The subnet maps a public IPv4 address at launch; no spot options, ever.
		SubnetId:           aws.String(s.env.idOf(stepPublicSubnet)),
		SecurityGroupIds:   []string{s.env.idOf(stepManagerGroup)},
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String(s.env.iamName("manager"))},
		MetadataOptions: &ec2types.InstanceMetadataOptionsRequest{
			HttpTokens: ec2types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(1), HttpEndpoint: ec2types.InstanceMetadataEndpointStateEnabled,
		},
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{
			DeviceName: aws.String(s.env.Images.Manager.RootDevice),
			Ebs:        &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(20), VolumeType: ec2types.VolumeTypeGp3, Encrypted: aws.Bool(true), DeleteOnTermination: aws.Bool(true)},
		}},
		UserData: aws.String(base64.StdEncoding.EncodeToString(ud)),
		TagSpecifications: []ec2types.TagSpecification{
			{ResourceType: ec2types.ResourceTypeInstance, Tags: tags},
			{ResourceType: ec2types.ResourceTypeVolume, Tags: s.env.ec2Tags(stepManager, "manager")},
		},
	}
	if k := s.env.Cfg.Manager.KeyName; k != "" {
		in.KeyName = aws.String(k)
	}
	out, err := s.env.EC2.RunInstances(ctx, in)
	if err != nil {
		// A new instance profile takes seconds to a minute to be usable.
		if errorCode(err) == "InvalidParameterValue" && containsAny(err.Error(), "iamInstanceProfile", "Invalid IAM Instance Profile") {
			return plan.TryAgain(fmt.Errorf("instance profile %s is not usable yet: %w", s.env.iamName("manager"), err))
		}
		return retryableCreate(fmt.Errorf("launch the manager: %w", err))
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	if err := s.env.created(stepManager, "instance", id, instanceAttrs(&out.Instances[0])); err != nil {
		return err
	}
	return s.waitRunning(ctx, id)
}

// instanceAttrs records the manager's IPv6 address: GitLab's group admits
// it when GitLab has IPv6.
func instanceAttrs(inst *ec2types.Instance) map[string]string {
	addr := aws.ToString(inst.Ipv6Address)
	for _, ni := range inst.NetworkInterfaces {
		for _, a := range ni.Ipv6Addresses {
			if addr == "" {
				addr = aws.ToString(a.Ipv6Address)
			}
		}
	}
	if addr == "" {
		return nil
	}
	return map[string]string{"ipv6_address": addr}
}

func (s *managerInstanceStep) waitRunning(ctx context.Context, id string) error {
	w := ec2.NewInstanceRunningWaiter(s.env.EC2, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 2*time.Second, 10*time.Second
	})
	if err := w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 10*time.Minute); err != nil {
		return fmt.Errorf("manager %s did not reach running (see its console output: `aws ec2 get-console-output --instance-id %s`): %w", id, id, err)
	}
	return nil
}

func (s *managerInstanceStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	inst, err := s.findUnterminated(ctx)
	if err != nil || inst == nil {
		if err == nil {
			err = s.env.forget(stepManager)
		}
		return c, err
	}
	c.ID = aws.ToString(inst.InstanceId)
	c.Action = plan.Delete
	return c, nil
}

func (s *managerInstanceStep) Delete(ctx context.Context, c plan.Change) error {
	found, err := unterminatedInstances(ctx, s.env, s.env.ownerFilters(stepManager))
	if err != nil {
		return err
	}
	if err := terminate(ctx, s.env, append(instanceIDs(found), c.ID)); err != nil {
		return err
	}
	return s.env.forget(stepManager)
}

// findUnterminated is find for teardown: a manager that is shutting
// down is still there until it is terminated.
func (s *managerInstanceStep) findUnterminated(ctx context.Context) (*ec2types.Instance, error) {
	if inst, err := s.find(ctx); err != nil || inst != nil {
		return inst, err
	}
	found, err := unterminatedInstances(ctx, s.env, s.env.ownerFilters(stepManager))
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return &found[0], nil
}

// find looks by id, then by tags; terminated instances, and for up
// shutting-down ones, count as absent.
func (s *managerInstanceStep) find(ctx context.Context) (*ec2types.Instance, error) {
	alive := func(i *ec2types.Instance) bool {
		return i.State == nil || (i.State.Name != ec2types.InstanceStateNameTerminated && i.State.Name != ec2types.InstanceStateNameShuttingDown)
	}
	if r := s.env.Ledger.Get(string(stepManager)); r != nil && r.ID != "" {
		out, err := s.env.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{r.ID}})
		if err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("describe the manager %s: %w", r.ID, err)
		}
		if err == nil && len(out.Reservations) == 1 && len(out.Reservations[0].Instances) == 1 && alive(&out.Reservations[0].Instances[0]) {
			return &out.Reservations[0].Instances[0], nil
		}
	}
	out, err := s.env.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: s.env.ownerFilters(stepManager)})
	if err != nil {
		return nil, fmt.Errorf("find the manager by tags: %w", err)
	}
	for _, r := range out.Reservations {
		for i := range r.Instances {
			if inst := &r.Instances[i]; s.env.ownedBy(inst.Tags, stepManager) && alive(inst) {
				return inst, nil
			}
		}
	}
	return nil, nil
}

// tokenStep is the step that owns the token parameter: gitlab/runner with
// create_runner (or, in a teardown, when the state says it made a runner).
func (e *Env) tokenStep() plan.ID {
	if e.Cfg.GitLab.CreateRunner != nil {
		return stepGitLabRunner
	}
	if r := e.Ledger.Get(string(stepGitLabRunner)); e.Teardown && r != nil && r.ID != "" {
		return stepGitLabRunner
	}
	return stepToken
}
