package preflight

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// A healthy account passes silently, unchanged, with account, zone, images and runner id found.
func TestPreflightPassesOnAHealthyAccount(t *testing.T) {
	a := newAccount(t, nil)
	if problems := a.preflight(t); problems != nil {
		t.Fatalf("problems on a healthy account:\n%s", strings.Join(problems, "\n"))
	}
	a.noWrites(t)
	if w := a.warnings(); len(w) > 0 {
		t.Errorf("warnings on a healthy account: %q", w)
	}
	e := a.e
	if e.Account.Account != "123456789012" || e.Account.Partition != "aws" {
		t.Errorf("account %+v, want 123456789012 in partition aws", e.Account)
	}
	if e.Zone != "eu-west-1a" {
		t.Errorf("zone %q, want eu-west-1a (the first by name that offers both types)", e.Zone)
	}
	want := stack.Images{Manager: stack.Image{ID: "ami-al2023-x86", RootDevice: "/dev/xvda", RootSizeGB: 8},
		Runners: map[string]stack.Image{"default": {ID: "ami-ecs-x86", RootDevice: "/dev/xvda", RootSizeGB: 30}}}
	if !reflect.DeepEqual(e.Images, want) {
		t.Errorf("images %+v, want %+v", e.Images, want)
	}
	if e.RunnerID == 0 || e.GitLab6 || e.StoredTokenRenewed {
		t.Errorf("runner id %d, GitLab6 %v, renewed %v: want GitLab's id of the runner, no IPv6, not renewed", e.RunnerID, e.GitLab6, e.StoredTokenRenewed)
	}
	if verify, create := a.gl.Counts(); verify != 1 || create != 0 {
		t.Errorf("GitLab saw %d verifications and %d creations, want 1 and 0", verify, create)
	}
	if a.called("GetRole") || !a.called("GetEbsDefaultKmsKeyId") {
		t.Errorf("calls %v: the Spot role is only for docker+machine, the EBS key only for docker-autoscaler", a.c.Methods())
	}
}

// Preflight learns that GitLab has a global IPv6 address (GitLab6).
func TestPreflightLearnsGitLabIPv6(t *testing.T) {
	a := newAccount(t, nil)
	a.e.Resolver = fakeResolver{"203.0.113.5", "2600:1f18:1:2::5"}
	if problems := a.preflight(t); problems != nil {
		t.Fatal(problems)
	}
	if !a.e.GitLab6 {
		t.Error("GitLab resolves to a global IPv6 address, but GitLab6 is false")
	}
}

// A user's VPC the stack fits in passes, and preflight reads that VPC.
func TestPreflightAcceptsAFittingVPC(t *testing.T) {
	a := newAccount(t, func(c *config.Config) { c.Network.VpcID = "vpc-user" })
	a.c.EC2.DescribeVpcsFn = userVPC("192.168.0.0/16", true)
	if problems := a.preflight(t); problems != nil {
		t.Fatal(problems)
	}
	ins := awsfake.Inputs[*ec2.DescribeVpcsInput](a.c, "DescribeVpcs")
	if len(ins) != 1 || len(ins[0].VpcIds) != 1 || ins[0].VpcIds[0] != "vpc-user" {
		t.Errorf("DescribeVpcs requests %v, want one for vpc-user", ins)
	}
}

// userVPC answers DescribeVpcs with the user's VPC vpc-user of block
// cidr, with an IPv6 block or not.
func userVPC(cidr string, ipv6 bool) func(context.Context, *ec2.DescribeVpcsInput) (*ec2.DescribeVpcsOutput, error) {
	return func(_ context.Context, in *ec2.DescribeVpcsInput) (*ec2.DescribeVpcsOutput, error) {
		v := ec2types.Vpc{VpcId: aws.String("vpc-user"), CidrBlock: aws.String(cidr), State: ec2types.VpcStateAvailable,
			CidrBlockAssociationSet: []ec2types.VpcCidrBlockAssociation{{CidrBlock: aws.String(cidr),
				CidrBlockState: &ec2types.VpcCidrBlockState{State: ec2types.VpcCidrBlockStateCodeAssociated}}}}
		if ipv6 {
			v.Ipv6CidrBlockAssociationSet = []ec2types.VpcIpv6CidrBlockAssociation{{Ipv6CidrBlock: aws.String("2001:db8:1200::/56"),
				Ipv6CidrBlockState: &ec2types.VpcCidrBlockState{State: ec2types.VpcCidrBlockStateCodeAssociated}}}
		}
		return &ec2.DescribeVpcsOutput{Vpcs: []ec2types.Vpc{v}}, nil
	}
}

// addresses are n Elastic IPs, tagged as the stack's when stackName is set.
func addresses(n int, stackName string) []ec2types.Address {
	var out []ec2types.Address
	for range n {
		a := ec2types.Address{AllocationId: aws.String("eipalloc-x")}
		if stackName != "" {
			a.Tags = []ec2types.Tag{{Key: aws.String(stack.TagStack), Value: aws.String(stackName)}}
		}
		out = append(out, a)
	}
	return out
}

// Each thing `up` would fail on is one problem naming it and its fix, with no write to AWS.
func TestPreflightNamesEachProblemAndItsFix(t *testing.T) {
	cases := []struct {
		name   string
		config func(*config.Config)
		setup  func(*account)
		want   []string // parts of one problem
	}{
		{"missing security group id", func(c *config.Config) { c.GitLab.SecurityGroupID = "" }, nil,
			[]string{"gitlab.security_group_id is required for `up`"}},
		{"missing boundary policy", nil, func(a *account) { a.c.IAM.GetPolicyFn = nil },
			[]string{"permissions boundary arn:aws:iam::123456789012:policy/provision/ci-eu-west-1-boundary, which does not exist", "provision iam-policy --boundary", "aws iam create-policy --path /provision/ --policy-name ci-eu-west-1-boundary"}},
		{"unreadable boundary policy", nil, func(a *account) {
			a.c.IAM.GetPolicyFn = func(context.Context, *iam.GetPolicyInput) (*iam.GetPolicyOutput, error) {
				return nil, apiError("AccessDenied")
			}
		}, []string{"read the permissions boundary", "AccessDenied"}},
		{"runner token rejected", nil, func(a *account) { a.e.Secrets.RunnerToken = stack.NewSecret("glrt-deleted-runner-token") },
			[]string{"rejected GITLAB_RUNNER_TOKEN", "Create a new runner (or reset its token)"}},
		{"address quota exhausted", nil, func(a *account) { a.Addresses = addresses(5, "other") },
			[]string{"the stack needs 2 more Elastic IP(s) but only 0 of the account's 5 are free in eu-west-1", "request a higher quota"}},
		{"one address missing, none free", nil, func(a *account) { a.Addresses = append(addresses(1, "ci"), addresses(4, "")...) },
			[]string{"needs 1 more Elastic IP(s) but only 0 of the account's 5 are free"}},
		{"addresses unreadable", nil, func(a *account) {
			a.c.EC2.DescribeAddressesFn = func(context.Context, *ec2.DescribeAddressesInput) (*ec2.DescribeAddressesOutput, error) {
				return nil, apiError("UnauthorizedOperation")
			}
		}, []string{"list Elastic IPs", "UnauthorizedOperation"}},
		{"address quota unreadable", nil, func(a *account) {
			a.c.EC2.DescribeAccountAttributesFn = func(context.Context, *ec2.DescribeAccountAttributesInput) (*ec2.DescribeAccountAttributesOutput, error) {
				return nil, apiError("UnauthorizedOperation")
			}
		}, []string{"read the Elastic IP quota"}},
		{"manager type unknown", func(c *config.Config) { c.Manager.InstanceType = "t3.mirco" }, nil,
			[]string{"manager.instance_type: instance type t3.mirco is not known in eu-west-1", "check the spelling"}},
		{"runner type unknown", func(c *config.Config) { c.Runners.InstanceType = "t3.mediun" }, nil,
			[]string{"runners.instance_type: instance type t3.mediun is not known in eu-west-1"}},
		{"extra runner type unknown", func(c *config.Config) { c.Runners.InstanceTypes = []string{"m5.larg"} }, nil,
			[]string{"runners.instance_types[0]: instance type m5.larg is not known"}},
		{"extra runner type of another architecture", func(c *config.Config) { c.Runners.InstanceTypes = []string{"m5.large", "t4g.medium"} }, nil,
			[]string{"runners.instance_types[1]: t4g.medium runs arm64 but runners.instance_type t3.medium runs x86_64", "list types of one architecture"}},
		{"runner type offered in no zone", nil, func(a *account) { a.Offered["t3.medium"] = nil },
			[]string{"no zone of eu-west-1 offers both t3.micro and t3.medium", "check manager.instance_type and runners.instance_type"}},
		{"root volume smaller than the image", func(c *config.Config) { c.Runners.VolumeSizeGB = 20 }, nil,
			[]string{"runners.volume_size_gb 20 is smaller than the root snapshot of the machines' image ami-ecs-x86 (30 GiB)", "at least 30"}},
		{"configured AMI missing", func(c *config.Config) { c.Runners.AMI = "ami-gone" }, nil,
			[]string{"runners.ami ami-gone does not exist in eu-west-1"}},
		{"latest image unknown", nil, func(a *account) {
			delete(a.Params, "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
		},
			[]string{"find the latest Amazon Linux 2023 AMI", "set manager.ami to an AMI id instead"}},
		{"user's VPC missing", func(c *config.Config) { c.Network.VpcID = "vpc-gone" }, nil,
			[]string{"network.vpc_id vpc-gone does not exist in eu-west-1", "leave vpc_id empty to create a VPC"}},
		{"user's VPC not found", func(c *config.Config) { c.Network.VpcID = "vpc-gone" }, func(a *account) {
			a.c.EC2.DescribeVpcsFn = func(context.Context, *ec2.DescribeVpcsInput) (*ec2.DescribeVpcsOutput, error) {
				return nil, apiError("InvalidVpcID.NotFound")
			}
		}, []string{"network.vpc_id vpc-gone does not exist in eu-west-1"}},
		{"user's VPC unreadable", func(c *config.Config) { c.Network.VpcID = "vpc-user" }, func(a *account) {
			a.c.EC2.DescribeVpcsFn = func(context.Context, *ec2.DescribeVpcsInput) (*ec2.DescribeVpcsOutput, error) {
				return nil, apiError("UnauthorizedOperation")
			}
		}, []string{"describe vpc vpc-user", "UnauthorizedOperation"}},
		{"user's VPC too small", func(c *config.Config) { c.Network.VpcID = "vpc-user" }, func(a *account) { a.c.EC2.DescribeVpcsFn = userVPC("10.0.0.0/24", true) },
			[]string{"network.public_subnet_cidr 192.168.0.0/27 is not inside vpc vpc-user", "choose a free range of that VPC"}},
		{"user's VPC without IPv6", func(c *config.Config) { c.Network.VpcID = "vpc-user" }, func(a *account) { a.c.EC2.DescribeVpcsFn = userVPC("192.168.0.0/16", false) },
			[]string{"vpc vpc-user has no IPv6 block but network.ipv6 is true", "set network.ipv6: false"}},
		{"GitLab's security group missing", nil, func(a *account) {
			a.c.EC2.DescribeSecurityGroupsFn = func(context.Context, *ec2.DescribeSecurityGroupsInput) (*ec2.DescribeSecurityGroupsOutput, error) {
				return nil, apiError("InvalidGroup.NotFound")
			}
		}, []string{"gitlab.security_group_id sg-gitlab does not exist in eu-west-1", "security group attached to your GitLab server"}},
		{"GitLab's security group unreadable", nil, func(a *account) {
			a.c.EC2.DescribeSecurityGroupsFn = func(context.Context, *ec2.DescribeSecurityGroupsInput) (*ec2.DescribeSecurityGroupsOutput, error) {
				return nil, apiError("UnauthorizedOperation")
			}
		}, []string{"describe security groups sg-gitlab", "UnauthorizedOperation"}},
		{"secrets key missing", func(c *config.Config) { c.Secrets.KMSKeyID = "alias/gone" }, nil,
			[]string{"secrets.kms_key_id alias/gone does not exist in eu-west-1"}},
		{"Spot role missing", func(c *config.Config) { c.Runners.Executor, c.Runners.Spot = config.ExecutorDockerMachine, true }, nil,
			[]string{"needs the service-linked role AWSServiceRoleForEC2Spot", "aws iam create-service-linked-role --aws-service-name spot.amazonaws.com"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAccount(t, c.config)
			if c.setup != nil {
				c.setup(a)
			}
			problems := a.preflight(t)
			if len(problems) != 1 {
				t.Errorf("%d problems, want 1:\n%s", len(problems), strings.Join(problems, "\n"))
			}
			oneContaining(t, problems, c.want...)
			a.noWrites(t)
		})
	}
}

// An unknown instance type stops the zone and image look-ups that need it.
func TestPreflightSkipsZoneAndImagesForUnknownTypes(t *testing.T) {
	a := newAccount(t, func(c *config.Config) { c.Manager.InstanceType = "t3.mirco" })
	a.preflight(t)
	for _, m := range []string{"DescribeAvailabilityZones", "DescribeInstanceTypeOfferings", "DescribeImages", "GetParameters"} {
		if a.called(m) {
			t.Errorf("preflight called %s although manager.instance_type is unknown", m)
		}
	}
	if a.e.Zone != "" {
		t.Errorf("zone %q chosen for an unknown type", a.e.Zone)
	}
}

// With both of the stack's Elastic IPs in place the address quota is not read.
func TestPreflightIgnoresTheQuotaWhenBothAddressesExist(t *testing.T) {
	a := newAccount(t, nil)
	a.Addresses = append(addresses(2, "ci"), addresses(3, "other")...)
	if problems := a.preflight(t); problems != nil {
		t.Fatal(problems)
	}
	if a.called("DescribeAccountAttributes") {
		t.Error("the quota was read although both addresses exist")
	}
}

// All problems come back at once in one error, each under its own indented bullet.
func TestPreflightReportsEveryProblemAtOnce(t *testing.T) {
	a := newAccount(t, func(c *config.Config) { c.Runners.VolumeSizeGB = 20 })
	a.c.IAM.GetPolicyFn = nil
	a.Addresses = addresses(5, "other")
	a.e.Secrets.RunnerToken = stack.NewSecret("glrt-deleted-runner-token")
	err := Preflight(context.Background(), a.e)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "preflight found 4 problems; nothing was changed:\n  - ") {
		t.Errorf("error starts %q", msg[:min(len(msg), 80)])
	}
	for _, part := range []string{"volume_size_gb", "permissions boundary", "Elastic IP", "GITLAB_RUNNER_TOKEN"} {
		if !strings.Contains(msg, part) {
			t.Errorf("the error does not mention %s:\n%s", part, msg)
		}
	}
	// The boundary's problem spans lines: they stay under its bullet.
	if !strings.Contains(msg, "\n        provision iam-policy --boundary") {
		t.Errorf("a problem's second line is not indented under its bullet:\n%s", msg)
	}
	a.noWrites(t)
}

// PreflightError counts its problems and indents continuation lines under each bullet.
func TestPreflightErrorText(t *testing.T) {
	one := (&PreflightError{Problems: []string{"a is wrong"}}).Error()
	if one != "preflight found 1 problem; nothing was changed:\n  - a is wrong" {
		t.Errorf("one problem: %q", one)
	}
	two := (&PreflightError{Problems: []string{"a is wrong\nfix a", "b"}}).Error()
	if two != "preflight found 2 problems; nothing was changed:\n  - a is wrong\n    fix a\n  - b" {
		t.Errorf("two problems: %q", two)
	}
}
