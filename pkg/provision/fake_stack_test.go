package provision_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"go.uber.org/zap"

	"github.com/provision-dev/provision/pkg/provision"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/provision/stack/stacktest"
	"github.com/provision-dev/provision/pkg/state"
)

// fakeStack is an AWSStack whose environments are built over one set of
// fake clients (through the NewEnv seam), with what it was asked to build.
type fakeStack struct {
	s    provision.AWSStack
	c    *awsfake.Clients
	base *stack.Env // stacktest's environment: what Discover would find
	// gitlab is the GitLab the environments talk to.
	gitlab *gitlab.API

	mu    sync.Mutex
	built []stack.EnvOptions
}

// newFakeStack is an AWSStack of stack "ci" over fakes (change adjusts the
// configuration). Each environment is stack.NewEnv's own, the run's
// options, findings and shared reads included, with the fakes in place of
// the AWS clients.
func newFakeStack(t *testing.T, change func(*config.Config)) *fakeStack {
	t.Helper()
	base, c := stacktest.NewEnv(t, change)
	f := &fakeStack{c: c, base: base, gitlab: base.GitLab}
	f.s = provision.AWSStack{Cfg: base.Cfg, Secrets: base.Secrets, Log: zap.NewNop(), Reads: awsapi.NewReads()}
	f.s.NewEnv = func(ledger *state.Ledger, o stack.EnvOptions) *stack.Env {
		f.mu.Lock()
		f.built = append(f.built, o)
		f.mu.Unlock()
		e := stack.NewEnv(base.Cfg, aws.Config{Region: base.Region}, f.s.Secrets, ledger, f.s.Log, o)
		e.EC2, e.IAM, e.ASG, e.SSM, e.KMS, e.S3, e.STS = c.EC2, c.IAM, c.AutoScaling, c.SSM, c.KMS, c.S3, c.STS
		e.GitLab = f.gitlab
		return e
	}
	return f
}

// options are the options of every environment built so far.
func (f *fakeStack) options() []stack.EnvOptions {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.built)
}

// ledger is an empty state of the stack.
func ledger() *state.Ledger { return state.NewLedger(state.New("ci", "eu-west-1"), nil) }

// up builds the whole stack over the fakes and returns its state.
func (f *fakeStack) up(t *testing.T) *state.Ledger {
	t.Helper()
	stacktest.AnswerCreations(f.c)
	l := ledger()
	if r := stacktest.Walk(t, f.s.NewEnv(l, stack.EnvOptions{Found: f.base.Discovered()}), true, false); r.Err() != nil {
		t.Fatalf("up over the fakes: %v", r.Err())
	}
	return l
}

// Images of the account the discovery fixture describes.
const (
	amiAL2023 = "ami-0a1b2c3d4e5f60001"
	amiECS    = "ami-0a1b2c3d4e5f60002"
)

// answerDiscovery makes the fakes describe an account whose instance types
// are sold in eu-west-1b and -1c only, whose latest images are amiAL2023
// (8 GiB) and amiECS (30 GiB), and whose administrator made the stack's
// permissions boundary.
func (f *fakeStack) answerDiscovery() {
	c := f.c
	c.IAM.GetPolicyFn = func(_ context.Context, in *iam.GetPolicyInput) (*iam.GetPolicyOutput, error) {
		return &iam.GetPolicyOutput{Policy: &iamtypes.Policy{Arn: in.PolicyArn}}, nil
	}
	c.STS.GetCallerIdentityFn = func(context.Context, *sts.GetCallerIdentityInput) (*sts.GetCallerIdentityOutput, error) {
		return &sts.GetCallerIdentityOutput{Account: aws.String("210987654321"), Arn: aws.String("arn:aws-us-gov:iam::210987654321:user/ops")}, nil
	}
	c.EC2.DescribeRegionsFn = func(context.Context, *ec2.DescribeRegionsInput) (*ec2.DescribeRegionsOutput, error) {
		return &ec2.DescribeRegionsOutput{Regions: []ec2types.Region{{RegionName: aws.String("us-east-1")}, {RegionName: aws.String("eu-west-1")}}}, nil
	}
	c.EC2.DescribeAvailabilityZonesFn = func(context.Context, *ec2.DescribeAvailabilityZonesInput) (*ec2.DescribeAvailabilityZonesOutput, error) {
		var zs []ec2types.AvailabilityZone
		for _, z := range []string{"eu-west-1c", "eu-west-1a", "eu-west-1b"} {
			zs = append(zs, ec2types.AvailabilityZone{ZoneName: aws.String(z), State: ec2types.AvailabilityZoneStateAvailable})
		}
		return &ec2.DescribeAvailabilityZonesOutput{AvailabilityZones: zs}, nil
	}
	c.EC2.DescribeInstanceTypeOfferingsFn = func(context.Context, *ec2.DescribeInstanceTypeOfferingsInput) (*ec2.DescribeInstanceTypeOfferingsOutput, error) {
		var out []ec2types.InstanceTypeOffering
		for _, t := range []string{"t3.micro", "t3.medium"} {
			for _, z := range []string{"eu-west-1b", "eu-west-1c"} {
				out = append(out, ec2types.InstanceTypeOffering{InstanceType: ec2types.InstanceType(t), Location: aws.String(z)})
			}
		}
		return &ec2.DescribeInstanceTypeOfferingsOutput{InstanceTypeOfferings: out}, nil
	}
	c.EC2.DescribeInstanceTypesFn = func(_ context.Context, in *ec2.DescribeInstanceTypesInput) (*ec2.DescribeInstanceTypesOutput, error) {
		out := &ec2.DescribeInstanceTypesOutput{}
		for _, t := range in.InstanceTypes {
			out.InstanceTypes = append(out.InstanceTypes, ec2types.InstanceTypeInfo{InstanceType: t,
				ProcessorInfo: &ec2types.ProcessorInfo{SupportedArchitectures: []ec2types.ArchitectureType{ec2types.ArchitectureTypeX8664}}})
		}
		return out, nil
	}
	latest := map[string]string{
		"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64": amiAL2023,
		"/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id": amiECS,
	}
	c.SSM.GetParametersFn = func(_ context.Context, in *ssm.GetParametersInput) (*ssm.GetParametersOutput, error) {
		out := &ssm.GetParametersOutput{}
		for _, n := range in.Names {
			if v, ok := latest[n]; ok {
				out.Parameters = append(out.Parameters, ssmtypes.Parameter{Name: aws.String(n), Value: aws.String(v)})
			}
		}
		return out, nil
	}
	c.EC2.DescribeImagesFn = func(_ context.Context, in *ec2.DescribeImagesInput) (*ec2.DescribeImagesOutput, error) {
		size := map[string]int32{amiAL2023: 8, amiECS: 30}[in.ImageIds[0]]
		return &ec2.DescribeImagesOutput{Images: []ec2types.Image{{ImageId: aws.String(in.ImageIds[0]), RootDeviceName: aws.String("/dev/xvda"),
			BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(size)}}}}}}, nil
	}
}
