package stack

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/goccy/go-yaml"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/policy"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// tagLaunchHash records what the manager was launched with (AMI, type,
// user-data), so a change shows up as a replacement in the plan.
const tagLaunchHash = "provision:launch-hash"

// tagFleetGroup names the Auto Scaling group a manager scales: one group
// per manager generation, since a group must never be scaled by two
// managers (each would take the other's machines for its own); tagDraining
// marks a replaced manager that finishes its jobs (drain/manager), with
// the time its drain began.
const (
	tagFleetGroup = "provision:fleet-group"
	tagDraining   = "provision:draining"
)

// managerInstanceKind is the runner manager: on demand (never spot), in the
// public subnet with a public address at launch (its bootstrap needs the
// internet before the Elastic IP is attached), IMDSv2 only, encrypted root.
type managerInstanceKind struct{ env *Env }

type instance = *ec2types.Instance

// managerFix is what update does to the manager. drain: the replaced
// manager finishes its jobs first (a replacement of a boot that failed
// has none to finish).
type managerFix struct {
	replace, drain, start, groups, wait bool
}

func newManagerInstanceStep(env *Env) plan.Step {
	return resource.NewStep[instance, managerFix](env.shared(), "instance", managerInstanceKind{env})
}

func (k managerInstanceKind) StepID() plan.ID { return StepManager }
func (k managerInstanceKind) Needs() []plan.ID {
	deps := []plan.ID{StepPublicSubnet, StepPublicRoutes, StepPublicACL, StepManagerGroup, StepManagerRole, StepRunnerConfig, StepLogs}
	for _, f := range k.env.fleets() {
		deps = append(deps, k.env.tokenStep(f.Name))
	}
	if k.env.Cfg.StaticSSHKeys() {
		deps = append(deps, StepKeyPair)
	}
	if k.env.Teardown {
		// The manager goes first, before anything of either executor.
		for _, f := range k.env.fleets() {
			deps = append(deps, FleetStep(StepAutoScaling, f.Name))
		}
		return append(deps, StepMachines, StepRunnerRole, StepCache)
	}
	// docker-autoscaler: the group of the manager's generation is made
	// after the manager (asg/runner needs instance/manager), from the
	// name the manager was launched with; the launch template comes first.
	for _, f := range k.env.fleets() {
		if f.Autoscaler() {
			deps = append(deps, FleetStep(StepLaunchTemplate, f.Name))
		}
	}
	if k.env.Cfg.Autoscaler() && k.env.Cfg.Cache.S3 {
		deps = append(deps, StepCache)
	}
	if k.env.Cfg.Machines() {
		deps = append(deps, StepMachines, StepRunnerRole)
	}
	return deps
}

// Hooks names the optional parts of resource.Step this kind has.
func (k managerInstanceKind) Hooks() resource.Hooks[instance, managerFix] {
	return resource.Hooks[instance, managerFix]{FindForDelete: k.findForDelete, Pending: k.pending, Replaces: k.replaces, Retires: k.retires, Retire: k.retire, EC2Tags: k.ec2TagsOf}
}

func (k managerInstanceKind) Describe() plan.Change {
	return plan.Change{Step: StepManager, Kind: "instance", Name: k.env.name("manager"), Attrs: []plan.Attr{
		{Key: "type", Value: k.env.Cfg.Manager.InstanceType},
		{Key: "ami", Value: k.env.Images.Manager.ID},
		{Key: "subnet", Value: orUnknown(k.env.IDOf(StepPublicSubnet))},
		{Key: "imdsv2", Value: "required"},
	}}
}

// Find looks by the ownership tags; terminated and shutting-down
// instances count as absent (a manager that is going away is replaced).
func (k managerInstanceKind) Find(ctx context.Context) (resource.Found[instance], error) {
	managers, err := stackManagers(ctx, k.env)
	if err != nil {
		return resource.Found[instance]{}, fmt.Errorf("find the manager by tags: %w", err)
	}
	all := resource.Pointers(managers)
	return lookupOwned(k.env, StepManager, all, instanceID, func(i instance) bool {
		return k.env.ownedBy(i.Tags, StepManager) && notGoing(*i) && TagValue(i.Tags, tagDraining) == ""
	}), nil
}

// findForDelete: a manager that is shutting down is still there until it
// is terminated.
func (k managerInstanceKind) findForDelete(ctx context.Context) (resource.Found[instance], error) {
	all, err := unterminatedInstances(ctx, k.env, k.env.ownerFilters(StepManager))
	if err != nil {
		return resource.Found[instance]{}, err
	}
	return lookupOwned(k.env, StepManager, resource.Pointers(all), instanceID, func(i instance) bool { return k.env.ownedBy(i.Tags, StepManager) }), nil
}

func instanceID(i instance) string { return aws.ToString(i.InstanceId) }

func (k managerInstanceKind) Record(i instance) resource.Recorded {
	attrs := instanceAttrs(i)
	if k.env.Cfg.Autoscaler() {
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs[string(AttrGroup)] = or(TagValue(i.Tags, tagFleetGroup), policy.LegacyGroupName(k.env.Cfg.Stack))
	}
	return resource.Recorded{ID: instanceID(i), Attrs: attrs}
}

// Diff: a changed AMI, type, key or bootstrap replaces the manager (its
// launch hash tag says what it was launched with); a stopped one is
// started; its group is put back. Without manager.ami the image is the
// latest Amazon Linux 2023: with manager image updates (docker-autoscaler's
// default) a newer release replaces the manager through a drain; pinned,
// it keeps the image it was launched with.
func (k managerInstanceKind) Diff(ctx context.Context, inst instance) (managerFix, []string, error) {
	var f managerFix
	var reasons []string
	ami := k.env.Images.Manager.ID
	if k.env.Cfg.Manager.AMI == "" && !k.env.Cfg.ManagerImageLatest() {
		ami = aws.ToString(inst.ImageId)
	}
	ud, _, err := k.launchData(ctx, ami)
	if err != nil {
		return f, nil, err
	}
	if got, want := TagValue(inst.Tags, tagLaunchHash), k.launchHash(ud, ami); got != want {
		// A manager launched before drains existed cannot drain.
		f.replace, f.drain = true, k.env.Cfg.Autoscaler() && TagValue(inst.Tags, tagFleetGroup) != ""
		reasons = append(reasons, k.forcesReplacement(ctx, inst, ami, ud)...)
		if f.drain {
			reasons = append(reasons, fmt.Sprintf("the new manager scales a group of its own; the old one stops taking jobs and finishes those it runs (up to manager.drain_timeout %s) before it and its group go (drain/manager)", k.env.Cfg.Manager.DrainTimeout))
		} else {
			// docker+machine: gitlab-runner stops when the instance is
			// terminated; the jobs it runs fail.
			reasons = append(reasons, "replacing the manager interrupts the jobs it is running: pause the runner in GitLab and let them finish first")
		}
		return f, reasons, nil
	}
	// A manager whose boot failed stopped there for good (its boot
	// script runs once): once the cause is fixed, the next up boots a new
	// one. It runs no job, so nothing is interrupted.
	if r, err := k.env.SharedBootReport(ctx); err == nil && r.Failed() {
		f.replace = true
		return f, []string{fmt.Sprintf("must be replaced: its boot failed at stage %s (%s); a new manager boots again", r.Stage, firstLineOf(r.Detail, 120))}, nil
	}
	if inst.State != nil && inst.State.Name == ec2types.InstanceStateNamePending {
		f.wait = true
		reasons = append(reasons, "wait until running")
	}
	if inst.State != nil && (inst.State.Name == ec2types.InstanceStateNameStopped || inst.State.Name == ec2types.InstanceStateNameStopping) {
		f.start, f.wait = true, true
		reasons = append(reasons, "start it (it is "+string(inst.State.Name)+")")
	}
	if sg := k.env.IDOf(StepManagerGroup); len(inst.SecurityGroups) != 1 || aws.ToString(inst.SecurityGroups[0].GroupId) != sg {
		f.groups, f.wait = true, true
		reasons = append(reasons, "security groups -> "+sg)
	}
	return f, reasons, nil
}

// forcesReplacement names what differs: the image, type and key are read
// from the instance; of the bootstrap, the values it was launched with
// (from its user-data) are compared key by key with the new ones, so the
// plan says which setting needs a new manager ("runner_version 18.5.0 ->
// 18.6.0"); tuning is never among them (ssm/runner-config).
func (k managerInstanceKind) forcesReplacement(ctx context.Context, inst instance, ami string, userData []byte) []string {
	var out []string
	cfg := k.env.Cfg.Manager
	if got := aws.ToString(inst.ImageId); got != ami {
		to := Image{ID: ami}
		if ami == k.env.Images.Manager.ID {
			to = k.env.Images.Manager
		}
		out = append(out, "must be replaced: "+imageChange(got, to))
	}
	if got := string(inst.InstanceType); got != cfg.InstanceType {
		out = append(out, fmt.Sprintf("must be replaced: instance type %s -> %s", got, cfg.InstanceType))
	}
	if got := aws.ToString(inst.KeyName); got != cfg.KeyName {
		out = append(out, fmt.Sprintf("must be replaced: key pair %q -> %q", got, cfg.KeyName))
	}
	if len(out) > 0 {
		return out
	}
	return append(out, k.bootstrapChanges(ctx, aws.ToString(inst.InstanceId), userData)...)
}

// bootstrapChanges compares the values a manager was launched with to the
// new ones.
func (k managerInstanceKind) bootstrapChanges(ctx context.Context, id string, userData []byte) []string {
	const generic = "must be replaced: the bootstrap changed (user-data: the boot scripts of this provision version)"
	a, err := k.env.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: &id, Attribute: ec2types.InstanceAttributeNameUserData})
	if err != nil || a.UserData == nil {
		return []string{generic}
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(a.UserData.Value))
	if err == nil {
		raw, err = bootstrap.Unpack(raw)
	}
	if err != nil {
		return []string{generic}
	}
	was, now := launchValues(raw), launchValues(userData)
	if was == nil || now == nil {
		return []string{generic}
	}
	if _, ok := was["config_parameter"]; !ok {
		return []string{"must be replaced, once: it reads its runner configuration from ssm/runner-config from now on, and tuning then needs no new manager"}
	}
	var out []string
	for _, key := range slices.Sorted(maps.Keys(now)) {
		// The group follows from the rest: a new manager, a new group.
		if key == "autoscaling_group" || was[key] == now[key] {
			continue
		}
		switch key {
		case "machines_key":
			out = append(out, "must be replaced: the machines' SSH key changed (ssm/ssh-key)")
		case "log_group":
			out = append(out, "must be replaced, once: it ships its journal to "+now[key]+" from now on (provision logs)")
		default:
			out = append(out, fmt.Sprintf("must be replaced: %s %q -> %q", key, was[key], now[key]))
		}
	}
	if len(out) == 0 {
		out = []string{generic}
	}
	return out
}

// launchValues reads the values file (bootstrap.ValuesPath) out of a
// manager's user-data; nil when it has none.
func launchValues(userData []byte) map[string]string {
	var cc struct {
		WriteFiles []struct{ Path, Encoding, Content string } `yaml:"write_files"`
	}
	if yaml.Unmarshal(userData, &cc) != nil {
		return nil
	}
	for _, f := range cc.WriteFiles {
		if f.Path != bootstrap.ValuesPath {
			continue
		}
		content := f.Content
		if f.Encoding == "b64" {
			b, err := base64.StdEncoding.DecodeString(content)
			if err != nil {
				return nil
			}
			content = string(b)
		}
		values := map[string]string{}
		for _, line := range strings.Split(strings.TrimSuffix(content, "\n"), "\n") {
			k, v, _ := strings.Cut(line, "=")
			values[k] = v
		}
		return values
	}
	return nil
}

func (k managerInstanceKind) pending(inst instance) string {
	if inst.State != nil && inst.State.Name == ec2types.InstanceStateNamePending {
		return string(inst.State.Name)
	}
	return ""
}

// firstLineOf is the first line of s, cut to n characters.
func firstLineOf(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

// replaces: a replacement removes the manager and launches a new one.
func (k managerInstanceKind) replaces(f managerFix) bool { return f.replace }

// retires: a replaced docker-autoscaler manager is not terminated but
// marked to drain; drain/manager lets it finish its jobs, then removes it.
func (k managerInstanceKind) retires(f managerFix) bool { return f.drain }

func (k managerInstanceKind) retire(ctx context.Context, inst instance) error {
	if TagValue(inst.Tags, tagDraining) != "" {
		return nil
	}
	_, err := k.env.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{instanceID(inst)},
		Tags: []ec2types.Tag{{Key: aws.String(tagDraining), Value: aws.String(time.Now().UTC().Format(time.RFC3339))}}})
	if err != nil {
		return awsapi.RetryableCreate(fmt.Errorf("mark the manager %s to drain: %w", instanceID(inst), err))
	}
	return nil
}

// stackManagers are the stack's manager instances, the current one and any
// replaced one still draining (one describe, shared by the run).
func stackManagers(ctx context.Context, env *Env) ([]ec2types.Instance, error) {
	return describeShared(ctx, env, "managers", env.EC2.DescribeInstances, &ec2.DescribeInstancesInput{Filters: env.ownerFilters(StepManager)},
		func(o *ec2.DescribeInstancesOutput) []ec2types.Instance {
			var all []ec2types.Instance
			for _, r := range o.Reservations {
				all = append(all, r.Instances...)
			}
			return all
		})
}

// notGoing: neither terminated nor shutting down (a manager that is going
// away is replaced, or no longer drains).
func notGoing(i ec2types.Instance) bool {
	return i.State == nil || (i.State.Name != ec2types.InstanceStateNameTerminated && i.State.Name != ec2types.InstanceStateNameShuttingDown)
}

// launchData is the user-data and the group of a manager launched with
// ami: the group's name is a hash of everything else the manager is
// launched with (a new manager, a new group), so it is not part of it.
func (k managerInstanceKind) launchData(ctx context.Context, ami string) ([]byte, string, error) {
	if !k.env.Cfg.Autoscaler() {
		ud, err := k.userData(ctx, "")
		return ud, "", err
	}
	prefix := policy.LegacyGroupName(k.env.Cfg.Stack) + "-"
	generic, err := k.userData(ctx, prefix+"GENERATION")
	if err != nil {
		return nil, "", err
	}
	group := prefix + k.launchHash(generic, ami)[:6]
	ud, err := k.userData(ctx, group)
	return ud, group, err
}

// userData renders the manager's cloud-config from the configuration and
// what the other steps made. The runner configuration is not part of it
// (ssm/runner-config): only what a new instance needs is.
func (k managerInstanceKind) userData(ctx context.Context, group string) ([]byte, error) {
	e := k.env
	run := e.runnerSettings(e.Cfg.FirstFleet(), group)
	run.StaticKey = e.Cfg.StaticSSHKeys()
	m := bootstrap.Manager{Runner: run, RunnerVersion: e.Cfg.Manager.RunnerVersion, TokenParameter: e.Names().TokenParameter(config.DefaultFleet), BootParameter: e.Names().BootParameter(),
		ConfigParameter: e.Names().RunnerConfigParameter(), LogGroup: e.Names().LogGroup(), Group: group,
		Fleeting: e.Cfg.Autoscaler(), DockerMachine: e.Cfg.Machines()}
	if e.Cfg.Autoscaler() {
		m.DrainParameter = DrainParameterName(e.Cfg.Stack)
	}
	if run.StaticKey {
		m.SSHKeyParameter = e.Names().SSHKeyParameter()
		// The key is read at boot only: a new key (its public half in
		// the user-data) is a new bootstrap, which replaces the manager.
		p, err := e.StackParameter(ctx, e.Names().SSHKeyParameter())
		if err != nil {
			return nil, err
		}
		if p != nil && p.Value != nil {
			if m.MachinesKey, err = publicKeyOf(aws.ToString(p.Value)); err != nil {
				m.MachinesKey = ""
			}
		}
	}
	doc, err := bootstrap.ManagerUserData(m)
	if err != nil {
		return nil, err
	}
	// Checked here, so plan says so before up launches anything.
	if _, err := bootstrap.Pack(doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// launchHash sums what the manager is launched with; ami is the image it
// runs (or is about to run).
func (k managerInstanceKind) launchHash(userData []byte, ami string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", ami, k.env.Cfg.Manager.InstanceType, k.env.Cfg.Manager.KeyName)
	h.Write(userData)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Create launches the manager with the client token recorded for this
// attempt, so a retry after a crash cannot start a second one.
func (k managerInstanceKind) Create(ctx context.Context, token string, _ resource.Found[instance]) (instance, managerFix, error) {
	ud, group, err := k.launchData(ctx, k.env.Images.Manager.ID)
	if err != nil {
		return nil, managerFix{}, err
	}
	packed, err := bootstrap.Pack(ud)
	if err != nil {
		return nil, managerFix{}, err
	}
	// The new manager reports its boot from scratch: an old report must
	// not be taken for its own.
	if err := k.env.DeleteBootReport(ctx); err != nil {
		return nil, managerFix{}, awsapi.RetryableCreate(err)
	}
	// No drain is asked of the new manager (an earlier request named
	// another instance, but the parameter says so plainly).
	if k.env.Cfg.Autoscaler() {
		if _, err := k.env.SSM.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(DrainParameterName(k.env.Cfg.Stack)), Value: aws.String("none"),
			Type: ssmtypes.ParameterTypeString, Overwrite: aws.Bool(true)}); err != nil {
			return nil, managerFix{}, awsapi.RetryableCreate(fmt.Errorf("clear the drain request %s: %w", DrainParameterName(k.env.Cfg.Stack), err))
		}
	}
	tags := k.env.ec2Tags(StepManager, "manager")
	tags = append(tags, ec2types.Tag{Key: aws.String(tagLaunchHash), Value: aws.String(k.launchHash(ud, k.env.Images.Manager.ID))})
	if group != "" {
		tags = append(tags, ec2types.Tag{Key: aws.String(tagFleetGroup), Value: aws.String(group)})
	}
	in := &ec2.RunInstancesInput{
		ImageId:      aws.String(k.env.Images.Manager.ID),
		InstanceType: ec2types.InstanceType(k.env.Cfg.Manager.InstanceType),
		MinCount:     aws.Int32(1),
		MaxCount:     aws.Int32(1),
		ClientToken:  &token,
		// The subnet maps a public IPv4 address at launch; no spot options, ever.
		SubnetId:           aws.String(k.env.IDOf(StepPublicSubnet)),
		SecurityGroupIds:   []string{k.env.IDOf(StepManagerGroup)},
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String(k.env.Names().IAM("manager"))},
		MetadataOptions: &ec2types.InstanceMetadataOptionsRequest{
			HttpTokens: ec2types.HttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(1), HttpEndpoint: ec2types.InstanceMetadataEndpointStateEnabled,
		},
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{
			DeviceName: aws.String(k.env.Images.Manager.RootDevice),
			Ebs:        &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(20), VolumeType: ec2types.VolumeTypeGp3, Encrypted: aws.Bool(true), DeleteOnTermination: aws.Bool(true)},
		}},
		UserData: aws.String(base64.StdEncoding.EncodeToString(packed)),
		TagSpecifications: []ec2types.TagSpecification{
			{ResourceType: ec2types.ResourceTypeInstance, Tags: tags},
			{ResourceType: ec2types.ResourceTypeVolume, Tags: k.env.ec2Tags(StepManager, "manager")},
		},
	}
	if k := k.env.Cfg.Manager.KeyName; k != "" {
		in.KeyName = aws.String(k)
	}
	out, err := k.env.EC2.RunInstances(ctx, in)
	if err != nil {
		// A new instance profile takes seconds to a minute to be usable.
		if awsapi.ErrorCode(err) == "InvalidParameterValue" && ContainsAny(err.Error(), "iamInstanceProfile", "Invalid IAM Instance Profile") {
			return nil, managerFix{}, plan.TryAgain(fmt.Errorf("instance profile %s is not usable yet: %w", k.env.Names().IAM("manager"), err))
		}
		return nil, managerFix{}, awsapi.RetryableCreate(fmt.Errorf("launch the manager: %w", err))
	}
	return &out.Instances[0], managerFix{wait: true}, nil
}

func (k managerInstanceKind) Update(ctx context.Context, inst instance, f managerFix) error {
	id := instanceID(inst)
	if f.groups {
		if _, err := k.env.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, Groups: []string{k.env.IDOf(StepManagerGroup)}}); err != nil {
			return fmt.Errorf("set the security group of %s: %w", id, err)
		}
	}
	if f.start {
		if _, err := k.env.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{id}}); err != nil {
			return awsapi.RetryableCreate(fmt.Errorf("start %s: %w", id, err))
		}
	}
	if !f.wait {
		return nil
	}
	return k.waitRunning(ctx, id)
}

// Remove terminates the manager and waits until it is terminated. Its
// boot report goes when a new manager launches (create) or the stack does
// (down).
func (k managerInstanceKind) Remove(ctx context.Context, inst instance) error {
	return terminate(ctx, k.env, []string{instanceID(inst)})
}

// instanceAttrs records the manager's IPv6 address: GitLab's group admits
// it when GitLab has IPv6.
func instanceAttrs(inst instance) map[string]string {
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
	return map[string]string{string(AttrIPv6Address): addr}
}

// waitRunning polls the manager until it runs (a minute at most on AWS).
func (k managerInstanceKind) waitRunning(ctx context.Context, id string) error {
	return plan.Poll(ctx, id+" to be running", func(ctx context.Context) (string, bool, error) {
		out, err := k.env.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if awsapi.IsNotFound(err) {
			return id + ", not visible yet", false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("read the manager %s: %w", id, err)
		}
		if len(out.Reservations) == 0 || len(out.Reservations[0].Instances) == 0 || out.Reservations[0].Instances[0].State == nil {
			return id + ", not visible yet", false, nil
		}
		switch st := out.Reservations[0].Instances[0].State.Name; st {
		case ec2types.InstanceStateNameRunning:
			return "", true, nil
		case ec2types.InstanceStateNamePending, ec2types.InstanceStateNameStopped, ec2types.InstanceStateNameStopping:
			return id + ", " + string(st), false, nil
		default:
			return "", false, fmt.Errorf("manager %s is %s instead of running (see its console output: `aws ec2 get-console-output --instance-id %s`)", id, st, id)
		}
	})
}

// tokenStep is the step that owns the token parameter: gitlab/runner with
// create_runner (or, in a teardown, when the state says it made a runner).
func (e *Env) tokenStep(fleet string) plan.ID {
	if e.Cfg.GitLab.CreateRunner != nil {
		return FleetStep(StepGitLabRunner, fleet)
	}
	if r := e.Ledger.Get(string(FleetStep(StepGitLabRunner, fleet))); e.Teardown && r != nil && r.ID != "" {
		return FleetStep(StepGitLabRunner, fleet)
	}
	return FleetStep(StepToken, fleet)
}

// ec2TagsOf: the configuration's tags follow `tags:` (resource.Step, through Hooks.EC2Tags).
func (k managerInstanceKind) ec2TagsOf(cur instance) []ec2types.Tag { return cur.Tags }
