package stack

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
	"github.com/provision-dev/provision/pkg/provision/resource"
	"github.com/provision-dev/provision/pkg/state"
)

// fakeEnv is an environment over fake clients with the default
// configuration of stack "ci" in eu-west-1 (change may adjust it), as
// Discover would leave it.
func fakeEnv(t *testing.T, change func(*config.Config)) (*Env, *awsfake.Clients) {
	t.Helper()
	cfg := config.Defaults()
	cfg.Stack, cfg.Region = "ci", "eu-west-1"
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	gl.AddRunner("glrt-fake-runner-token")
	cfg.GitLab.URL = gl.URL
	cfg.GitLab.SecurityGroupID = "sg-gitlab"
	cfg.GitLab.SSHSourceCIDRs = []string{"203.0.113.10/32"}
	if change != nil {
		change(&cfg)
	}
	c := awsfake.New()
	e := &Env{Cfg: &cfg, Region: "eu-west-1", Zone: "eu-west-1a",
		EC2: c.EC2, IAM: c.IAM, ASG: c.AutoScaling, SSM: c.SSM, KMS: c.KMS, S3: c.S3, STS: c.STS,
		GitLab:  gitlab.New(gl.URL),
		Ledger:  state.NewLedger(state.New("ci", "eu-west-1"), nil),
		Account: Identity{Account: "123456789012", Partition: "aws", ARN: "arn:aws:iam::123456789012:user/ci"},
		Secrets: Secrets{RunnerToken: NewSecret("glrt-fake-runner-token")},
		Images:  Images{Manager: Image{ID: "ami-manager", RootDevice: "/dev/xvda"}, Runner: Image{ID: "ami-runner", RootDevice: "/dev/xvda", RootSizeGB: 30}},
	}
	// GitLab's security group exists, outside the stack.
	c.EC2.DescribeSecurityGroupsFn = func(_ context.Context, in *ec2.DescribeSecurityGroupsInput) (*ec2.DescribeSecurityGroupsOutput, error) {
		if slices.Contains(in.GroupIds, "sg-gitlab") {
			return &ec2.DescribeSecurityGroupsOutput{SecurityGroups: []ec2types.SecurityGroup{{GroupId: aws.String("sg-gitlab"), VpcId: aws.String("vpc-gitlab")}}}, nil
		}
		return &ec2.DescribeSecurityGroupsOutput{}, nil
	}
	return e, c
}

// walk plans (or with apply, applies) the whole graph of e.
func walk(t *testing.T, e *Env, apply, destroy bool) *plan.Result {
	t.Helper()
	g, err := Steps(e)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	x := &plan.Executor{Parallelism: 4, Apply: apply, Destroy: destroy, StepTimeout: 5 * time.Second,
		RetryDelay: func(int) time.Duration { return time.Millisecond }}
	return x.Run(ctx, g)
}

// On a fresh account every step plans a creation, and nothing is written.
func TestFreshStackPlansEveryCreation(t *testing.T) {
	e, c := fakeEnv(t, nil)
	r := walk(t, e, false, false)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	for _, ch := range r.Changes {
		if ch.Action != plan.Create && ch.Step != stepDrain {
			t.Errorf("%s: %s, want create", ch.Step, ch.Action)
		}
	}
	for _, call := range c.Calls() {
		if awsapi.IsMutatingOperation(call.Method) {
			t.Errorf("a plan called %s", call.Method)
		}
	}
	t.Logf("%d steps, %d calls", len(r.Changes), len(c.Calls()))
}

// A whole `up` over the fakes: every step succeeds, and every resource is
// made with the stack's and its step's ownership tags in the request
// itself, so that a run killed right after a create leaves something
// discovery finds.
func TestUpOverFakesTagsEveryCreation(t *testing.T) {
	e, c := fakeEnv(t, nil)
	answerCreations(c)
	r := walk(t, e, true, false)
	for _, se := range r.Errors {
		t.Errorf("%s: %v", se.Step, se.Err)
	}
	creates := 0
	for _, call := range c.Calls() {
		specs := tagSpecsOf(call.Input)
		if specs == nil {
			continue
		}
		creates++
		tags := specTags(specs)
		if TagValue(tags, TagStack) != "ci" || TagValue(tags, TagStep) == "" {
			t.Errorf("%s without its ownership tags: %v", call.Method, tags)
		}
	}
	if creates < 15 {
		t.Errorf("%d tagged creations, want every EC2 resource (15 or more)", creates)
	}
}

// tagSpecsOf is the TagSpecifications of an EC2 create request (nil for
// other calls).
func tagSpecsOf(in any) []ec2types.TagSpecification {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("TagSpecifications")
	if !f.IsValid() {
		return nil
	}
	specs, _ := f.Interface().([]ec2types.TagSpecification)
	return specs
}

// Every variant of the configuration builds over the fakes, plans again
// without error, and tears down: what down finds it deletes, and a
// teardown leaves no record behind.
func TestVariantsBuildAndTearDownOverFakes(t *testing.T) {
	variants := map[string]func(*config.Config){
		"defaults":       nil,
		"docker+machine": func(c *config.Config) { c.Runners.Executor = config.ExecutorDockerMachine },
		"no IPv6, instance-connect keys": func(c *config.Config) {
			c.Network.IPv6, c.Runners.SSHKeys = false, config.SSHKeysInstanceConnect
		},
		"endpoints, cache, Spot": func(c *config.Config) {
			c.Network.Endpoints = []string{"ssm", "ecr"}
			c.Cache.S3, c.Runners.Spot = true, true
			c.Runners.InstanceTypes = []string{"t3a.medium"}
		},
		"given secrets key": func(c *config.Config) { c.Secrets.KMSKeyID = "alias/team-secrets" },
	}
	for name, change := range variants {
		t.Run(name, func(t *testing.T) {
			e, c := fakeEnv(t, change)
			answerCreations(c)
			if r := walk(t, e, true, false); r.Err() != nil {
				t.Fatalf("up: %v", r.Err())
			}
			if r := walk(t, e, false, false); r.Err() != nil {
				t.Fatalf("plan after up: %v", r.Err())
			}
			down := *e
			down.Teardown = true
			down.replacing = resource.Replacements{}
			c.Reset()
			r := walk(t, &down, true, true)
			if r.Err() != nil {
				t.Fatalf("down: %v", r.Err())
			}
			deletes := 0
			for _, m := range c.Methods() {
				if strings.HasPrefix(m, "Delete") || m == "TerminateInstances" || m == "ReleaseAddress" || m == "ScheduleKeyDeletion" {
					deletes++
				}
			}
			if deletes == 0 {
				t.Errorf("down deleted nothing: %v", c.Methods())
			}
		})
	}
}
