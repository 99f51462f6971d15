package preflight

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// A bad region or credentials end the AWS checks at once, say what to fix, and still check the token.
func TestPreflightStopsAtTheRegionAndCredentials(t *testing.T) {
	failRegions := func(code string) func(*account) {
		return func(a *account) {
			a.c.EC2.DescribeRegionsFn = func(context.Context, *ec2.DescribeRegionsInput) (*ec2.DescribeRegionsOutput, error) {
				return nil, apiError(code)
			}
		}
	}
	cases := []struct {
		name  string
		setup func(*account)
		want  []string
	}{
		{"unknown region", func(a *account) { a.e.Region = "eu-west-9" },
			[]string{`region "eu-west-9" does not exist: use one of eu-west-1, us-east-1, ap-east-1`}},
		{"region not enabled", func(a *account) { a.e.Region = "ap-east-1" },
			[]string{"region ap-east-1 is not enabled for this account", "enable it (Account settings, AWS Regions)"}},
		{"credentials rejected", failRegions("AuthFailure"),
			[]string{"AWS credentials do not work", "AuthFailure", "aws configure"}},
		{"expired credentials", failRegions("ExpiredToken"),
			[]string{"AWS credentials do not work", "AWS_PROFILE"}},
		{"no endpoint", failRegions("RequestTimeout"),
			[]string{`region "eu-west-1" does not exist or its EC2 endpoint does not answer`, "check `region:`"}},
		{"regions unreadable", failRegions("UnauthorizedOperation"),
			[]string{"list the regions of the account", "UnauthorizedOperation"}},
		{"no credentials found", func(a *account) {
			a.c.EC2.DescribeRegionsFn = func(context.Context, *ec2.DescribeRegionsInput) (*ec2.DescribeRegionsOutput, error) {
				return nil, &codelessError{"get identity: failed to retrieve credentials"}
			}
		}, []string{"AWS credentials do not work", "failed to retrieve credentials"}},
		{"STS refuses", func(a *account) {
			a.c.STS.GetCallerIdentityFn = func(context.Context, *sts.GetCallerIdentityInput) (*sts.GetCallerIdentityOutput, error) {
				return nil, apiError("InvalidClientTokenId")
			}
		}, []string{"AWS credentials do not work (STS GetCallerIdentity", "InvalidClientTokenId"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAccount(t, nil)
			c.setup(a)
			problems := a.preflight(t)
			if len(problems) != 1 {
				t.Errorf("%d problems, want 1:\n%s", len(problems), strings.Join(problems, "\n"))
			}
			oneContaining(t, problems, c.want...)
			for _, m := range []string{"DescribeInstanceTypes", "GetPolicy", "DescribeAddresses"} {
				if a.called(m) {
					t.Errorf("called %s after the region or credentials failed", m)
				}
			}
			if verify, _ := a.gl.Counts(); verify != 1 {
				t.Errorf("GitLab verified the token %d times, want 1", verify)
			}
		})
	}
	t.Run("with a bad token too", func(t *testing.T) {
		a := newAccount(t, nil)
		a.e.Region = "eu-west-9"
		a.e.Secrets.RunnerToken = stack.NewSecret("glrt-deleted-runner-token")
		problems := a.preflight(t)
		if len(problems) != 2 {
			t.Fatalf("%d problems, want the region's and the token's:\n%s", len(problems), strings.Join(problems, "\n"))
		}
		oneContaining(t, problems, "rejected GITLAB_RUNNER_TOKEN")
	})
}

// codelessError is an error without an AWS code, as the SDK's
// credential chain returns.
type codelessError struct{ msg string }

func (e *codelessError) Error() string { return e.msg }

// A state that recorded the stack's VPC proves the region: the region list is not read.
func TestPreflightTrustsTheRegionOfARecordedVPC(t *testing.T) {
	a := newAccount(t, nil)
	if err := a.e.Ledger.Put(string(stack.StepVPC), &state.Resource{Type: "vpc", ID: "vpc-0001", Status: state.StatusCreated}); err != nil {
		t.Fatal(err)
	}
	a.c.EC2.DescribeRegionsFn = func(context.Context, *ec2.DescribeRegionsInput) (*ec2.DescribeRegionsOutput, error) {
		t.Error("the regions were listed although the state proves the region")
		return nil, apiError("AuthFailure")
	}
	if problems := a.preflight(t); problems != nil {
		t.Fatal(problems)
	}
}
