package provision

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
)

// launchTemplateStep is the template the Auto Scaling group launches runner
// machines from (docker-autoscaler): private, IMDSv2 with hop limit 1 so
// job containers cannot reach the instance role, encrypted gp3 root.
type launchTemplateStep struct{ env *Env }

func newLaunchTemplateStep(env *Env) *launchTemplateStep { return &launchTemplateStep{env: env} }

func (s *launchTemplateStep) ID() plan.ID          { return stepLaunchTemplate }
func (s *launchTemplateStep) DependsOn() []plan.ID { return []plan.ID{stepRunnerGroup} }

func (s *launchTemplateStep) change() plan.Change {
	r := s.env.Cfg.Runners
	return plan.Change{Step: stepLaunchTemplate, Kind: "launch-template", Name: s.env.launchTemplateName(), Attrs: []plan.Attr{
		{Key: "ami", Value: s.env.Images.Runner.ID},
		{Key: "type", Value: r.InstanceType},
		{Key: "imdsv2", Value: "required, hop limit 1"},
		{Key: "root", Value: fmt.Sprintf("%d GiB gp3 encrypted", r.VolumeSizeGB)},
	}}
}

// data is the template content the configuration asks for; ami is the
// image to launch.
func (s *launchTemplateStep) data(ami string) (*ec2types.RequestLaunchTemplateData, error) {
	r := s.env.Cfg.Runners
	ud, err := bootstrap.MachineUserData(s.env.Cfg.Stack)
	if err != nil {
		return nil, err
	}
	d := &ec2types.RequestLaunchTemplateData{
		ImageId:          aws.String(ami),
		InstanceType:     ec2types.InstanceType(r.InstanceType),
		SecurityGroupIds: []string{s.env.idOf(stepRunnerGroup)},
		MetadataOptions: &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{
			HttpTokens:              ec2types.LaunchTemplateHttpTokensStateRequired,
			HttpPutResponseHopLimit: aws.Int32(1),
			HttpEndpoint:            ec2types.LaunchTemplateInstanceMetadataEndpointStateEnabled,
		},
		BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{{
			DeviceName: aws.String(s.env.Images.Runner.RootDevice),
			Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{
				VolumeSize: aws.Int32(int32(r.VolumeSizeGB)), VolumeType: ec2types.VolumeTypeGp3,
				Encrypted: aws.Bool(true), DeleteOnTermination: aws.Bool(true),
			},
		}},
		UserData: aws.String(base64.StdEncoding.EncodeToString(ud)),
		TagSpecifications: []ec2types.LaunchTemplateTagSpecificationRequest{
			{ResourceType: ec2types.ResourceTypeVolume, Tags: s.env.ec2Tags(stepAutoScaling, "runner-machine")},
		},
	}
	if r.Spot {
		d.InstanceMarketOptions = &ec2types.LaunchTemplateInstanceMarketOptionsRequest{MarketType: ec2types.MarketTypeSpot}
	}
	return d, nil
}

func (s *launchTemplateStep) Plan(ctx context.Context) (plan.Change, error) {
	c := s.change()
	lt, err := s.find(ctx, true)
	if err != nil {
		return c, err
	}
	if lt == nil {
		c.Action = plan.Create
		return c, s.env.markGone(stepLaunchTemplate)
	}
	c.ID = aws.ToString(lt.LaunchTemplateId)
	if err := s.env.created(stepLaunchTemplate, "launch-template", c.ID, map[string]string{"name": s.env.launchTemplateName()}); err != nil {
		return c, err
	}
	out, err := s.env.EC2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: &c.ID, Versions: []string{"$Default"}})
	if err != nil || len(out.LaunchTemplateVersions) == 0 {
		return c, fmt.Errorf("read the default version of launch template %s: %w", c.ID, err)
	}
	// Without runners.ami the template keeps the image it was made with:
	// a newer Amazon Linux release alone is not a change.
	ami := s.env.Images.Runner.ID
	if cur := out.LaunchTemplateVersions[0].LaunchTemplateData; s.env.Cfg.Runners.AMI == "" && cur != nil && aws.ToString(cur.ImageId) != "" {
		ami = aws.ToString(cur.ImageId)
	}
	c.Detail = ami
	want, err := s.data(ami)
	if err != nil {
		return c, err
	}
	if c.Reasons = templateDiff(out.LaunchTemplateVersions[0].LaunchTemplateData, want); len(c.Reasons) > 0 {
		c.Action = plan.Update
	}
	return c, nil
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

func (s *launchTemplateStep) Apply(ctx context.Context, c plan.Change) error {
	ami, _ := c.Detail.(string)
	if ami == "" {
		ami = s.env.Images.Runner.ID
	}
	data, err := s.data(ami)
	if err != nil {
		return err
	}
	if c.Action == plan.Create {
		token, err := s.env.beginCreate(stepLaunchTemplate, "launch-template")
		if err != nil {
			return err
		}
		out, err := s.env.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
			LaunchTemplateName: aws.String(s.env.launchTemplateName()),
			LaunchTemplateData: data,
			ClientToken:        &token,
			VersionDescription: aws.String("provision " + s.env.Cfg.Stack),
			TagSpecifications:  s.env.tagSpec(ec2types.ResourceTypeLaunchTemplate, stepLaunchTemplate, "runner"),
		})
		if err != nil {
			return retryableCreate(fmt.Errorf("create launch template %s: %w", s.env.launchTemplateName(), err))
		}
		return s.env.created(stepLaunchTemplate, "launch-template", aws.ToString(out.LaunchTemplate.LaunchTemplateId), map[string]string{"name": s.env.launchTemplateName()})
	}
	// A new default version; the group picks it up for new machines, and
	// running ones keep their jobs.
	v, err := s.env.EC2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: &c.ID, LaunchTemplateData: data})
	if err != nil {
		return fmt.Errorf("add a version to launch template %s: %w", c.ID, err)
	}
	version := fmt.Sprint(aws.ToInt64(v.LaunchTemplateVersion.VersionNumber))
	if _, err := s.env.EC2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: &c.ID, DefaultVersion: &version}); err != nil {
		return fmt.Errorf("make version %s the default of %s: %w", version, c.ID, err)
	}
	return nil
}

func (s *launchTemplateStep) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.change()
	lt, err := s.find(ctx, false)
	if err != nil || lt == nil {
		if err == nil {
			err = s.env.forget(stepLaunchTemplate)
		}
		return c, err
	}
	c.ID = aws.ToString(lt.LaunchTemplateId)
	c.Action = plan.Delete
	return c, nil
}

func (s *launchTemplateStep) Delete(ctx context.Context, c plan.Change) error {
	_, err := s.env.EC2.DeleteLaunchTemplate(ctx, &ec2.DeleteLaunchTemplateInput{LaunchTemplateId: &c.ID})
	if err != nil && !isNotFound(err) {
		return retryableDelete(fmt.Errorf("delete launch template %s: %w", c.ID, err))
	}
	return s.env.forget(stepLaunchTemplate)
}

// find looks by id, then by tags, then by name (a template of that name
// that is not ours is a conflict).
func (s *launchTemplateStep) find(ctx context.Context, byName bool) (*ec2types.LaunchTemplate, error) {
	if r := s.env.Ledger.Get(string(stepLaunchTemplate)); r != nil && r.ID != "" {
		out, err := s.env.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{r.ID}})
		if err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("describe launch template %s: %w", r.ID, err)
		}
		if err == nil && len(out.LaunchTemplates) == 1 {
			return &out.LaunchTemplates[0], nil
		}
	}
	out, err := s.env.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{Filters: s.env.ownerFilters(stepLaunchTemplate)})
	if err != nil {
		return nil, fmt.Errorf("find launch template by tags: %w", err)
	}
	for i := range out.LaunchTemplates {
		if s.env.ownedBy(out.LaunchTemplates[i].Tags, stepLaunchTemplate) {
			return &out.LaunchTemplates[i], nil
		}
	}
	if !byName {
		return nil, nil
	}
	out, err = s.env.EC2.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{s.env.launchTemplateName()}})
	if err == nil && len(out.LaunchTemplates) > 0 {
		return nil, fmt.Errorf("%s: a launch template named %s exists that stack %s did not create: delete or rename it", stepLaunchTemplate, s.env.launchTemplateName(), s.env.Cfg.Stack)
	}
	return nil, nil
}
