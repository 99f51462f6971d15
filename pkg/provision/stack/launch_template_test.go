package stack

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// templateDiff names each difference between the default version and the
// wanted data, and nothing when they agree.
func TestTemplateDiff(t *testing.T) {
	want := &ec2types.RequestLaunchTemplateData{
		ImageId: aws.String("ami-1"), InstanceType: "t3.medium", SecurityGroupIds: []string{"sg-1"}, UserData: aws.String("dXNlcg=="),
		BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMappingRequest{{Ebs: &ec2types.LaunchTemplateEbsBlockDeviceRequest{VolumeSize: aws.Int32(30)}}},
	}
	good := func() *ec2types.ResponseLaunchTemplateData {
		return &ec2types.ResponseLaunchTemplateData{
			ImageId: aws.String("ami-1"), InstanceType: "t3.medium", SecurityGroupIds: []string{"sg-1"}, UserData: aws.String("dXNlcg=="),
			MetadataOptions: &ec2types.LaunchTemplateInstanceMetadataOptions{HttpTokens: ec2types.LaunchTemplateHttpTokensStateRequired, HttpPutResponseHopLimit: aws.Int32(1)},
			BlockDeviceMappings: []ec2types.LaunchTemplateBlockDeviceMapping{{Ebs: &ec2types.LaunchTemplateEbsBlockDevice{
				VolumeSize: aws.Int32(30), VolumeType: ec2types.VolumeTypeGp3, Encrypted: aws.Bool(true)}}},
		}
	}
	cases := []struct {
		name  string
		edit  func(*ec2types.ResponseLaunchTemplateData)
		wants string
	}{
		{"in sync", func(*ec2types.ResponseLaunchTemplateData) {}, ""},
		{"another image", func(d *ec2types.ResponseLaunchTemplateData) { d.ImageId = aws.String("ami-0") }, "AMI ami-0 -> ami-1"},
		{"another type", func(d *ec2types.ResponseLaunchTemplateData) { d.InstanceType = "t3.large" }, "instance type"},
		{"IMDSv1 allowed", func(d *ec2types.ResponseLaunchTemplateData) { d.MetadataOptions.HttpTokens = "optional" }, "IMDSv2"},
		{"hop limit 2", func(d *ec2types.ResponseLaunchTemplateData) { d.MetadataOptions.HttpPutResponseHopLimit = aws.Int32(2) }, "hop limit 1"},
		{"unencrypted root", func(d *ec2types.ResponseLaunchTemplateData) { d.BlockDeviceMappings[0].Ebs.Encrypted = aws.Bool(false) }, "encrypted gp3"},
		{"new user-data", func(d *ec2types.ResponseLaunchTemplateData) { d.UserData = aws.String("b2xk") }, "user-data"},
		{"spot turned on by hand", func(d *ec2types.ResponseLaunchTemplateData) {
			d.InstanceMarketOptions = &ec2types.LaunchTemplateInstanceMarketOptions{MarketType: ec2types.MarketTypeSpot}
		}, "spot"},
	}
	for _, c := range cases {
		got := good()
		c.edit(got)
		reasons := strings.Join(templateDiff(got, want), "; ")
		if (c.wants == "") != (reasons == "") || !strings.Contains(reasons, c.wants) {
			t.Errorf("%s: reasons %q, want one naming %q", c.name, reasons, c.wants)
		}
	}
}
