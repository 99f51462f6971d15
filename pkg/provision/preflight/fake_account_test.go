package preflight

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/provision/stack/stacktest"
)

// runnerToken is the runner authentication token the account's GitLab knows.
const runnerToken = "glrt-fake-runner-token"

// account is a healthy AWS account in eu-west-1 over the fakes, with a
// GitLab that accepts runnerToken. A test changes its fields before the
// call under test: the fakes read them at each call.
type account struct {
	e    *stack.Env
	c    *awsfake.Clients
	gl   *gitlabtest.Server
	logs *observer.ObservedLogs

	regions []ec2types.Region
	zones   []ec2types.AvailabilityZone
	// archs: instance type -> architecture; a type not listed is unknown.
	archs map[string]string
	// offered: instance type -> zones offering it.
	offered map[string][]string
	// params are the public SSM parameters naming the latest images.
	params map[string]string
	// rootGB: AMI -> size of its root snapshot; an AMI not listed does not exist.
	rootGB    map[string]int32
	addresses []ec2types.Address
	eipQuota  string
}

// newAccount is a healthy account whose Env knows nothing yet (no account,
// zone or images: preflight finds them); change adjusts the configuration.
func newAccount(t *testing.T, change func(*config.Config)) *account {
	t.Helper()
	e, c := stacktest.NewEnv(t, change)
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	gl.AddRunner(runnerToken)
	// localhost reaches the stand-in; the fake resolver says GitLab has a
	// public address, as a real one does.
	e.Cfg.GitLab.URL = strings.Replace(gl.URL, "127.0.0.1", "localhost", 1)
	e.GitLab = gitlab.New(e.Cfg.GitLab.URL)
	e.Resolver = fakeResolver{"203.0.113.5"}
	core, logs := observer.New(zapcore.InfoLevel)
	e.Log = zap.New(core)
	e.Account, e.Zone, e.Images = stack.Identity{}, "", stack.Images{}

	a := &account{e: e, c: c, gl: gl, logs: logs,
		regions: []ec2types.Region{
			{RegionName: aws.String("eu-west-1"), OptInStatus: aws.String("opt-in-not-required")},
			{RegionName: aws.String("us-east-1"), OptInStatus: aws.String("opt-in-not-required")},
			{RegionName: aws.String("ap-east-1"), OptInStatus: aws.String("not-opted-in")},
		},
		zones: []ec2types.AvailabilityZone{
			// Out of order on purpose: the choice is by name.
			{ZoneName: aws.String("eu-west-1c"), State: ec2types.AvailabilityZoneStateAvailable},
			{ZoneName: aws.String("eu-west-1a"), State: ec2types.AvailabilityZoneStateAvailable},
			{ZoneName: aws.String("eu-west-1b"), State: ec2types.AvailabilityZoneStateAvailable},
		},
		archs: map[string]string{"t3.micro": "x86_64", "t3.medium": "x86_64", "m5.large": "x86_64", "t4g.micro": "arm64", "t4g.medium": "arm64"},
		offered: map[string][]string{
			"t3.micro": {"eu-west-1a", "eu-west-1b", "eu-west-1c"}, "t3.medium": {"eu-west-1a", "eu-west-1b", "eu-west-1c"},
			"m5.large": {"eu-west-1a", "eu-west-1b", "eu-west-1c"}, "t4g.micro": {"eu-west-1a", "eu-west-1b"}, "t4g.medium": {"eu-west-1b"},
		},
		params: map[string]string{
			"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64":       "ami-al2023-x86",
			"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64":        "ami-al2023-arm",
			"/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id":       "ami-ecs-x86",
			"/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id": "ami-ecs-arm",
		},
		rootGB:   map[string]int32{"ami-al2023-x86": 8, "ami-al2023-arm": 8, "ami-ecs-x86": 30, "ami-ecs-arm": 30},
		eipQuota: "5",
	}
	c.EC2.DescribeRegionsFn = func(context.Context, *ec2.DescribeRegionsInput) (*ec2.DescribeRegionsOutput, error) {
		return &ec2.DescribeRegionsOutput{Regions: a.regions}, nil
	}
	c.STS.GetCallerIdentityFn = func(context.Context, *sts.GetCallerIdentityInput) (*sts.GetCallerIdentityOutput, error) {
		return &sts.GetCallerIdentityOutput{Account: aws.String("123456789012"), Arn: aws.String("arn:aws:iam::123456789012:user/ci")}, nil
	}
	// As EC2 does, one unknown type fails the whole call.
	c.EC2.DescribeInstanceTypesFn = func(_ context.Context, in *ec2.DescribeInstanceTypesInput) (*ec2.DescribeInstanceTypesOutput, error) {
		out := &ec2.DescribeInstanceTypesOutput{}
		for _, t := range in.InstanceTypes {
			arch, ok := a.archs[string(t)]
			if !ok {
				return nil, &smithy.GenericAPIError{Code: "InvalidInstanceType", Message: "The following supplied instance types do not exist: [" + string(t) + "]"}
			}
			out.InstanceTypes = append(out.InstanceTypes, ec2types.InstanceTypeInfo{InstanceType: t,
				ProcessorInfo: &ec2types.ProcessorInfo{SupportedArchitectures: []ec2types.ArchitectureType{ec2types.ArchitectureType(arch)}}})
		}
		return out, nil
	}
	c.EC2.DescribeAvailabilityZonesFn = func(context.Context, *ec2.DescribeAvailabilityZonesInput) (*ec2.DescribeAvailabilityZonesOutput, error) {
		return &ec2.DescribeAvailabilityZonesOutput{AvailabilityZones: a.zones}, nil
	}
	c.EC2.DescribeInstanceTypeOfferingsFn = func(_ context.Context, in *ec2.DescribeInstanceTypeOfferingsInput) (*ec2.DescribeInstanceTypeOfferingsOutput, error) {
		out := &ec2.DescribeInstanceTypeOfferingsOutput{}
		for _, f := range in.Filters {
			if aws.ToString(f.Name) != "instance-type" {
				continue
			}
			for _, t := range f.Values {
				for _, z := range a.offered[t] {
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
			if v, ok := a.params[n]; ok {
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
			if size, ok := a.rootGB[id]; ok {
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
		return &ec2.DescribeAddressesOutput{Addresses: a.addresses}, nil
	}
	c.EC2.DescribeAccountAttributesFn = func(context.Context, *ec2.DescribeAccountAttributesInput) (*ec2.DescribeAccountAttributesOutput, error) {
		return &ec2.DescribeAccountAttributesOutput{AccountAttributes: []ec2types.AccountAttribute{{AttributeName: aws.String("vpc-max-elastic-ips"),
			AttributeValues: []ec2types.AccountAttributeValue{{AttributeValue: aws.String(a.eipQuota)}}}}}, nil
	}
	return a
}

// preflight runs Preflight and returns its problems (nil: it passed).
func (a *account) preflight(t *testing.T) []string {
	t.Helper()
	err := Preflight(context.Background(), a.e)
	if err == nil {
		return nil
	}
	pe, ok := err.(*PreflightError)
	if !ok {
		t.Fatalf("Preflight returned %T %v, want a *PreflightError", err, err)
	}
	return pe.Problems
}

// warnings are the messages logged at warning level so far.
func (a *account) warnings() []string {
	var out []string
	for _, l := range a.logs.FilterLevelExact(zapcore.WarnLevel).All() {
		out = append(out, l.Message)
	}
	return out
}

// noWrites fails the test if any call so far would change the account.
func (a *account) noWrites(t *testing.T) {
	t.Helper()
	for _, m := range a.c.Methods() {
		if awsapi.IsMutatingOperation(m) {
			t.Errorf("preflight called %s, which changes the account", m)
		}
	}
}

// called reports whether a call of method was made.
func (a *account) called(method string) bool { return slices.Contains(a.c.Methods(), method) }

// apiError is an AWS error with the given code.
func apiError(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "fake: " + code}
}

// oneContaining finds the problem holding every part; it fails the test
// (listing the problems) when none does.
func oneContaining(t *testing.T, problems []string, parts ...string) {
	t.Helper()
	for _, p := range problems {
		all := true
		for _, part := range parts {
			all = all && strings.Contains(p, part)
		}
		if all {
			return
		}
	}
	t.Errorf("no problem says %q; problems:\n%s", parts, strings.Join(problems, "\n"))
}
