package stack

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// launchTemplateKind is the template the Auto Scaling group launches runner
// machines from (docker-autoscaler): private, IMDSv2 with hop limit 1 so
// job containers cannot reach the instance role, encrypted gp3 root.
type launchTemplateKind struct {
	env *Env
	f   config.Fleet
}

type launchTemplate = *ec2types.LaunchTemplate

// templateFix: a new default version with the image ami.
type templateFix struct{ ami string }

func newLaunchTemplateStep(env *Env, f config.Fleet) plan.Step {
	return resource.NewStep[launchTemplate, templateFix](env.shared(), "launch-template", launchTemplateKind{env, f})
}

func (k launchTemplateKind) StepID() plan.ID { return FleetStep(StepLaunchTemplate, k.f.Name) }
func (k launchTemplateKind) Needs() []plan.ID {
	if k.f.StaticSSHKeys() {
		return []plan.ID{StepRunnerGroup, StepKeyPair}
	}
	return []plan.ID{StepRunnerGroup}
}

// Hooks names the optional parts of resource.Step this kind has.
func (k launchTemplateKind) Hooks() resource.Hooks[launchTemplate, templateFix] {
	return resource.Hooks[launchTemplate, templateFix]{FindForDelete: k.findForDelete, EC2Tags: k.ec2TagsOf}
}

func (k launchTemplateKind) Describe() plan.Change {
	r := k.f.RunnersConfig
	return plan.Change{Step: k.StepID(), Kind: "launch-template", Name: k.env.Names().LaunchTemplateName(k.f.Name), Attrs: []plan.Attr{
		{Key: "ami", Value: k.env.Images.Runner(k.f.Name).ID},
		{Key: "type", Value: r.InstanceType},
		{Key: "imdsv2", Value: "required, hop limit 1"},
		{Key: "root", Value: fmt.Sprintf("%d GiB gp3 encrypted", r.VolumeSizeGB)},
	}}
}

// machineImage says what the machines' image holds.
func (e *Env) machineImage(f config.Fleet) bootstrap.MachineImage {
	custom := f.AMI != ""
	return bootstrap.MachineImage{
		ECSOptimized:    !custom && e.runnerImageFamily(f) == familyECS,
		AmazonLinux:     !custom && e.runnerImageFamily(f) == familyAmazonLinux,
		InstanceConnect: !f.StaticSSHKeys(),
	}
}

// data is the template content the configuration asks for; ami is the
// image to launch.
func (k launchTemplateKind) data(ami string) (*ec2types.RequestLaunchTemplateData, error) {
	r := k.f.RunnersConfig
	ud, err := bootstrap.MachineUserData(k.env.Cfg.Stack, k.env.machineImage(k.f))
	if err != nil {
		return nil, err
	}
	if k.f.Windows() {
		ud = bootstrap.WindowsMachineUserData(k.env.Cfg.Stack)
	}
	d := &ec2types.RequestLaunchTemplateData{
		ImageId:          aws.String(ami),
		InstanceType:     ec2types.InstanceType(r.InstanceType),
		SecurityGroupIds: []string{k.env.IDOf(StepRunnerGroup)},
		MetadataOptions: &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{
			HttpTokens:              ec2types.LaunchTemplateHttpTokensStateRequired,
			HttpPutResponseHopLimit: aws.Int32(1),
			HttpEndpoint:            ec2types.LaunchTemplateInstanceMetadataEndpointStateEnabled,
		},
		BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{{
			DeviceName: aws.String(k.env.Images.Runner(k.f.Name).RootDevice),
			Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{
				VolumeSize: aws.Int32(int32(r.VolumeSizeGB)), VolumeType: ec2types.VolumeTypeGp3,
				Encrypted: aws.Bool(true), DeleteOnTermination: aws.Bool(true),
			},
		}},
		UserData: aws.String(base64.StdEncoding.EncodeToString(ud)),
		// The instance carries the stack's tag from the template too, not
		// only from the group: Auto Scaling checks the caller's
		// ec2:RunInstances against the template when the group is made or
		// changed, and the operator policy allows an instance only with
		// the stack's tag in the request (aws:RequestTag).
		TagSpecifications: []ec2types.LaunchTemplateTagSpecificationRequest{
			{ResourceType: ec2types.ResourceTypeInstance, Tags: k.env.ec2Tags(FleetStep(StepAutoScaling, k.f.Name), fleetName("runner-machine", k.f.Name))},
			{ResourceType: ec2types.ResourceTypeVolume, Tags: k.env.ec2Tags(FleetStep(StepAutoScaling, k.f.Name), fleetName("runner-machine", k.f.Name))},
		},
	}
	if k.f.StaticSSHKeys() {
		d.KeyName = aws.String(k.env.Names().KeyPairName())
	}
	// Spot is the group's decision (its mixed-instances policy): Auto
	// Scaling refuses a launch template that requests Spot itself with
	// such a policy ("Incompatible launch template" in the Auto Scaling
	// user guide's mixed-instances requirements).
	return d, nil
}

// Find looks by the ownership tags, then by name (a template of that name
// that is not ours is a conflict).
func (k launchTemplateKind) Find(ctx context.Context) (resource.Found[launchTemplate], error) {
	f, err := k.findForDelete(ctx)
	if err != nil || f.Exists {
		return f, err
	}
	out, err := k.env.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{k.env.Names().LaunchTemplateName(k.f.Name)}})
	if err == nil && len(out.LaunchTemplates) > 0 {
		return f, fmt.Errorf("%s: a launch template named %s exists that stack %s did not create: delete or rename it", k.StepID(), k.env.Names().LaunchTemplateName(k.f.Name), k.env.Cfg.Stack)
	}
	return f, nil
}

func (k launchTemplateKind) findForDelete(ctx context.Context) (resource.Found[launchTemplate], error) {
	out, err := k.env.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{Filters: k.env.ownerFilters(k.StepID())})
	if err != nil {
		return resource.Found[launchTemplate]{}, fmt.Errorf("find launch template by tags: %w", err)
	}
	return lookupOwned(k.env, k.StepID(), resource.Pointers(out.LaunchTemplates), launchTemplateID, func(lt launchTemplate) bool { return k.env.ownedBy(lt.Tags, k.StepID()) }), nil
}

func launchTemplateID(lt launchTemplate) string { return aws.ToString(lt.LaunchTemplateId) }

func (k launchTemplateKind) Record(lt launchTemplate) resource.Recorded {
	return resource.Recorded{ID: launchTemplateID(lt), Attrs: map[string]string{"name": k.env.Names().LaunchTemplateName(k.f.Name)}}
}

// Diff compares the default version with what the configuration asks for.
// Without runners.ami the machines get the latest image of their family
// (runners.image_updates: latest, the default: an image AWS no longer
// patches is a risk every new machine would carry); with pinned the
// template keeps the image it has unless runners.base_image changes the
// family.
func (k launchTemplateKind) Diff(ctx context.Context, lt launchTemplate) (templateFix, []string, error) {
	id := launchTemplateID(lt)
	out, err := k.env.EC2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: &id, Versions: []string{"$Default"}})
	if err != nil || len(out.LaunchTemplateVersions) == 0 {
		return templateFix{}, nil, fmt.Errorf("read the default version of launch template %s: %w", id, err)
	}
	ami := k.env.Images.Runner(k.f.Name).ID
	if cur := out.LaunchTemplateVersions[0].LaunchTemplateData; k.f.AMI == "" && !k.f.RunnerImageLatest() && cur != nil && aws.ToString(cur.ImageId) != "" &&
		k.env.Ledger.Fact(familyFact(aws.ToString(cur.ImageId))) != otherFamily(k.env.runnerImageFamily(k.f)) {
		ami = aws.ToString(cur.ImageId)
	}
	want, err := k.data(ami)
	if err != nil {
		return templateFix{}, nil, err
	}
	reasons := templateDiff(out.LaunchTemplateVersions[0].LaunchTemplateData, want)
	if len(reasons) == 0 {
		return templateFix{}, nil, nil
	}
	for i, r := range reasons {
		if strings.HasPrefix(r, "new version: AMI ") && ami == k.env.Images.Runner(k.f.Name).ID {
			reasons[i] = "new version: " + imageChange(aws.ToString(out.LaunchTemplateVersions[0].LaunchTemplateData.ImageId), k.env.Images.Runner(k.f.Name))
		}
	}
	return templateFix{ami: ami}, reasons, nil
}

// templateDiff names what differs between a version and the wanted data.
func templateDiff(got *ec2types.ResponseLaunchTemplateData, want *ec2types.RequestLaunchTemplateData) []string {
	var rs []string
	if got == nil {
		return []string{"new version: the default version is empty"}
	}
	if aws.ToString(got.ImageId) != aws.ToString(want.ImageId) {
		rs = append(rs, fmt.Sprintf("new version: AMI %s -> %s", aws.ToString(got.ImageId), aws.ToString(want.ImageId)))
	}
	if got.InstanceType != want.InstanceType {
		rs = append(rs, fmt.Sprintf("new version: instance type %s -> %s", got.InstanceType, want.InstanceType))
	}
	if fmt.Sprint(got.SecurityGroupIds) != fmt.Sprint(want.SecurityGroupIds) {
		rs = append(rs, fmt.Sprintf("new version: security groups %v -> %v", got.SecurityGroupIds, want.SecurityGroupIds))
	}
	if m := got.MetadataOptions; m == nil || m.HttpTokens != ec2types.LaunchTemplateHttpTokensStateRequired || aws.ToInt32(m.HttpPutResponseHopLimit) != 1 {
		rs = append(rs, "new version: require IMDSv2 with hop limit 1")
	}
	if aws.ToString(got.KeyName) != aws.ToString(want.KeyName) {
		rs = append(rs, fmt.Sprintf("new version: key pair %q -> %q", aws.ToString(got.KeyName), aws.ToString(want.KeyName)))
	}
	if aws.ToString(got.UserData) != aws.ToString(want.UserData) {
		rs = append(rs, "new version: user-data")
	}
	wantEBS := want.BlockDeviceMappings[0].Ebs
	ok := false
	for _, b := range got.BlockDeviceMappings {
		if b.Ebs != nil && aws.ToBool(b.Ebs.Encrypted) && aws.ToInt32(b.Ebs.VolumeSize) == aws.ToInt32(wantEBS.VolumeSize) && b.Ebs.VolumeType == ec2types.VolumeTypeGp3 {
			ok = true
		}
	}
	if !ok {
		rs = append(rs, fmt.Sprintf("new version: %d GiB encrypted gp3 root volume", aws.ToInt32(wantEBS.VolumeSize)))
	}
	if (got.InstanceMarketOptions != nil && got.InstanceMarketOptions.MarketType == ec2types.MarketTypeSpot) != (want.InstanceMarketOptions != nil) {
		rs = append(rs, "new version: spot setting")
	}
	return rs
}

func (k launchTemplateKind) Create(ctx context.Context, token string, _ resource.Found[launchTemplate]) (launchTemplate, templateFix, error) {
	data, err := k.data(k.env.Images.Runner(k.f.Name).ID)
	if err != nil {
		return nil, templateFix{}, err
	}
	out, err := k.env.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(k.env.Names().LaunchTemplateName(k.f.Name)),
		LaunchTemplateData: data,
		ClientToken:        &token,
		VersionDescription: aws.String("provision " + k.env.Cfg.Stack),
		TagSpecifications:  k.env.tagSpec(ec2types.ResourceTypeLaunchTemplate, k.StepID(), fleetName("runner", k.f.Name)),
	})
	if err != nil {
		return nil, templateFix{}, awsapi.RetryableCreate(fmt.Errorf("create launch template %s: %w", k.env.Names().LaunchTemplateName(k.f.Name), err))
	}
	return out.LaunchTemplate, templateFix{}, nil
}

// Update makes a new default version; the group picks it up for new
// machines, and running ones keep their jobs.
func (k launchTemplateKind) Update(ctx context.Context, lt launchTemplate, f templateFix) error {
	if f.ami == "" {
		return nil
	}
	id := launchTemplateID(lt)
	data, err := k.data(f.ami)
	if err != nil {
		return err
	}
	v, err := k.env.EC2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: &id, LaunchTemplateData: data})
	if err != nil {
		return fmt.Errorf("add a version to launch template %s: %w", id, err)
	}
	version := fmt.Sprint(aws.ToInt64(v.LaunchTemplateVersion.VersionNumber))
	if _, err := k.env.EC2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: &id, DefaultVersion: &version}); err != nil {
		return fmt.Errorf("make version %s the default of %s: %w", version, id, err)
	}
	return nil
}

func (k launchTemplateKind) Remove(ctx context.Context, lt launchTemplate) error {
	id := launchTemplateID(lt)
	_, err := k.env.EC2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: &id})
	if err != nil && !awsapi.IsNotFound(err) {
		return awsapi.RetryableDelete(fmt.Errorf("delete launch template %s: %w", id, err))
	}
	return nil
}

// ec2TagsOf: the configuration's tags follow `tags:` (resource.Step, through Hooks.EC2Tags).
func (k launchTemplateKind) ec2TagsOf(cur launchTemplate) []ec2types.Tag { return cur.Tags }
