package stacktest

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
)

// Account is a healthy AWS account in eu-west-1 as discovery and
// preflight read it: regions, zones, instance types and where they are
// sold, the latest images, the Elastic IP quota, and a permissions
// boundary made by the administrator. A test changes its fields before
// the call under test: the fakes read them at each call.
type Account struct {
	AccountID, Caller string
	Regions           []ec2types.Region
	Zones             []ec2types.AvailabilityZone
	// Archs: instance type -> architecture; a type not listed is unknown.
	Archs map[string]string
	// Offered: instance type -> zones offering it.
	Offered map[string][]string
	// Params are the public SSM parameters naming the latest images.
	Params map[string]string
	// RootGB: AMI -> size of its root snapshot; an AMI not listed does not exist.
	RootGB    map[string]int32
	Addresses []ec2types.Address
	EIPQuota  string
}

// NewAccount is the healthy account.
func NewAccount() *Account {
	return &Account{AccountID: "123456789012", Caller: "arn:aws:iam::123456789012:user/ci",
		Regions: []ec2types.Region{
			{RegionName: aws.String("eu-west-1"), OptInStatus: aws.String("opt-in-not-required")},
			{RegionName: aws.String("us-east-1"), OptInStatus: aws.String("opt-in-not-required")},
			{RegionName: aws.String("ap-east-1"), OptInStatus: aws.String("not-opted-in")},
		},
		Zones: []ec2types.AvailabilityZone{
			// Out of order on purpose: the choice is by name.
			{ZoneName: aws.String("eu-west-1c"), State: ec2types.AvailabilityZoneStateAvailable},
			{ZoneName: aws.String("eu-west-1a"), State: ec2types.AvailabilityZoneStateAvailable},
			{ZoneName: aws.String("eu-west-1b"), State: ec2types.AvailabilityZoneStateAvailable},
		},
		Archs: map[string]string{"t3.micro": "x86_64", "t3.medium": "x86_64", "m5.large": "x86_64", "t4g.micro": "arm64", "t4g.medium": "arm64"},
		Offered: map[string][]string{
			"t3.micro": {"eu-west-1a", "eu-west-1b", "eu-west-1c"}, "t3.medium": {"eu-west-1a", "eu-west-1b", "eu-west-1c"},
			"m5.large": {"eu-west-1a", "eu-west-1b", "eu-west-1c"}, "t4g.micro": {"eu-west-1a", "eu-west-1b"}, "t4g.medium": {"eu-west-1b"},
		},
		Params: map[string]string{
			"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64":       "ami-al2023-x86",
			"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64":        "ami-al2023-arm",
			"/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id":       "ami-ecs-x86",
			"/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id": "ami-ecs-arm",
		},
		RootGB:   map[string]int32{"ami-al2023-x86": 8, "ami-al2023-arm": 8, "ami-ecs-x86": 30, "ami-ecs-arm": 30},
		EIPQuota: "5",
	}
}

// Answer makes the fakes answer as this account.
func (a *Account) Answer(c *awsfake.Clients) {
	c.EC2.DescribeRegionsFn = func(context.Context, *ec2.DescribeRegionsInput) (*ec2.DescribeRegionsOutput, error) {
		return &ec2.DescribeRegionsOutput{Regions: a.Regions}, nil
	}
	c.STS.GetCallerIdentityFn = func(context.Context, *sts.GetCallerIdentityInput) (*sts.GetCallerIdentityOutput, error) {
		return &sts.GetCallerIdentityOutput{Account: aws.String(a.AccountID), Arn: aws.String(a.Caller)}, nil
	}
	// As EC2 does, one unknown type fails the whole call.
	c.EC2.DescribeInstanceTypesFn = func(_ context.Context, in *ec2.DescribeInstanceTypesInput) (*ec2.DescribeInstanceTypesOutput, error) {
		out := &ec2.DescribeInstanceTypesOutput{}
		for _, t := range in.InstanceTypes {
			arch, ok := a.Archs[string(t)]
			if !ok {
				return nil, &smithy.GenericAPIError{Code: "InvalidInstanceType", Message: "The following supplied instance types do not exist: [" + string(t) + "]"}
			}
			out.InstanceTypes = append(out.InstanceTypes, ec2types.InstanceTypeInfo{InstanceType: t,
				ProcessorInfo: &ec2types.ProcessorInfo{SupportedArchitectures: []ec2types.ArchitectureType{ec2types.ArchitectureType(arch)}}})
		}
		return out, nil
	}
	c.EC2.DescribeAvailabilityZonesFn = func(context.Context, *ec2.DescribeAvailabilityZonesInput) (*ec2.DescribeAvailabilityZonesOutput, error) {
		return &ec2.DescribeAvailabilityZonesOutput{AvailabilityZones: a.Zones}, nil
	}
	c.EC2.DescribeInstanceTypeOfferingsFn = func(_ context.Context, in *ec2.DescribeInstanceTypeOfferingsInput) (*ec2.DescribeInstanceTypeOfferingsOutput, error) {
		out := &ec2.DescribeInstanceTypeOfferingsOutput{}
		for _, f := range in.Filters {
			if aws.ToString(f.Name) != "instance-type" {
				continue
			}
			for _, t := range f.Values {
				for _, z := range a.Offered[t] {
					out.InstanceTypeOfferings = append(out.InstanceTypeOfferings, ec2types.InstanceTypeOffering{
						InstanceType: ec2types.InstanceType(t), Location: aws.String(z), LocationType: ec2types.LocationTypeAvailabilityZone})
				}
			}
		}
		return out, nil
	}
	c.SSM.GetParametersFn = func(_ context.Context, in *ssm.GetParametersInput) (*ssm.GetParametersOutput, error) {
		out := &ssm.GetParametersOutput{}
		for _, n := range in.Names {
			if v, ok := a.Params[n]; ok {
				out.Parameters = append(out.Parameters, ssmtypes.Parameter{Name: aws.String(n), Value: aws.String(v)})
			} else {
				out.InvalidParameters = append(out.InvalidParameters, n)
			}
		}
		return out, nil
	}
	c.EC2.DescribeImagesFn = func(_ context.Context, in *ec2.DescribeImagesInput) (*ec2.DescribeImagesOutput, error) {
		out := &ec2.DescribeImagesOutput{}
		for _, id := range in.ImageIds {
			if size, ok := a.RootGB[id]; ok {
				out.Images = append(out.Images, ec2types.Image{ImageId: aws.String(id), RootDeviceName: aws.String("/dev/xvda"),
					BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(size)}}}})
			}
		}
		return out, nil
	}
	// The administrator created the stack's permissions boundary.
	c.IAM.GetPolicyFn = func(context.Context, *iam.GetPolicyInput) (*iam.GetPolicyOutput, error) {
		return &iam.GetPolicyOutput{}, nil
	}
	c.EC2.DescribeAddressesFn = func(context.Context, *ec2.DescribeAddressesInput) (*ec2.DescribeAddressesOutput, error) {
		return &ec2.DescribeAddressesOutput{Addresses: a.Addresses}, nil
	}
	c.EC2.DescribeAccountAttributesFn = func(context.Context, *ec2.DescribeAccountAttributesInput) (*ec2.DescribeAccountAttributesOutput, error) {
		return &ec2.DescribeAccountAttributesOutput{AccountAttributes: []ec2types.AccountAttribute{{AttributeName: aws.String("vpc-max-elastic-ips"),
			AttributeValues: []ec2types.AccountAttributeValue{{AttributeValue: aws.String(a.EIPQuota)}}}}}, nil
	}
}
