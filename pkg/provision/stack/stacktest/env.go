package stacktest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// NewEnv is an environment over fake clients with the default
// configuration of stack "ci" in eu-west-1 (change may adjust it), as
// Discover would leave it.
func NewEnv(t testing.TB, change func(*config.Config)) (*stack.Env, *awsfake.Clients) {
	t.Helper()
	cfg := config.Defaults()
	cfg.Stack, cfg.Region = "ci", "eu-west-1"
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	gl.AddRunner("glrt-fake-runner-token")
	cfg.GitLab.URL = gl.URL
	cfg.GitLab.SecurityGroupID = aws.ToString(gitlabGroup().GroupId)
	cfg.GitLab.SSHSourceCIDRs = []string{"203.0.113.10/32"}
	if change != nil {
		change(&cfg)
	}
	c := awsfake.New()
	zones := []string{"eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d", "eu-west-1e", "eu-west-1f"}[:cfg.Network.ZoneCount()]
	e := &stack.Env{Cfg: &cfg, Region: "eu-west-1", Zone: zones[0], Zones: zones,
		EC2: c.EC2, IAM: c.IAM, ASG: c.AutoScaling, SSM: c.SSM, KMS: c.KMS, S3: c.S3, STS: c.STS, Logs: c.Logs,
		GitLab:  gitlab.New(gl.URL),
		Ledger:  state.NewLedger(state.New("ci", "eu-west-1"), nil),
		Account: stack.Identity{Account: "123456789012", Partition: "aws", ARN: "arn:aws:iam::123456789012:user/ci"},
		Secrets: stack.Secrets{RunnerToken: stack.NewSecret("glrt-fake-runner-token")},
		Images:  stack.Images{Manager: stack.Image{ID: "ami-manager", RootDevice: "/dev/xvda"}, Runners: map[string]stack.Image{"default": {ID: "ami-runner", RootDevice: "/dev/xvda", RootSizeGB: 30}}},
	}
	// GitLab's security group exists, outside the stack.
	c.EC2.DescribeSecurityGroupsFn = func(_ context.Context, in *ec2.DescribeSecurityGroupsInput) (*ec2.DescribeSecurityGroupsOutput, error) {
		if g := gitlabGroup(); slices.Contains(in.GroupIds, aws.ToString(g.GroupId)) {
			return &ec2.DescribeSecurityGroupsOutput{SecurityGroups: []ec2types.SecurityGroup{g}}, nil
		}
		return &ec2.DescribeSecurityGroupsOutput{}, nil
	}
	return e, c
}

// Walk plans (or with apply, applies; with destroy, tears down) the
// whole graph of e.
func Walk(t testing.TB, e *stack.Env, apply, destroy bool) *plan.Result {
	t.Helper()
	g, err := stack.Steps(e)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	x := &plan.Executor{Parallelism: 4, Apply: apply, Destroy: destroy, StepTimeout: 5 * time.Second,
		RetryDelay: func(int) time.Duration { return time.Millisecond }}
	return x.Run(ctx, g)
}

// gitlabGroup is the security group of the GitLab server: it exists, in a
// VPC of its own, outside the stack.
func gitlabGroup() ec2types.SecurityGroup {
	return ec2types.SecurityGroup{GroupId: aws.String("sg-gitlab"), GroupName: aws.String("gitlab"), VpcId: aws.String("vpc-gitlab")}
}
