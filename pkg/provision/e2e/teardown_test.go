package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// Someone attached a managed policy to the manager's role (SSM access for
// debugging): down detaches it, deletes the role, and leaves the policy.
func TestManagedPolicyDoesNotBlockDown(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	iamc := iam.NewFromConfig(awsConfig(h.moto.URL))
	pol, err := iamc.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("debug-ssm"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:StartSession","Resource":"*"}]}`)})
	must(t, err)
	_, err = iamc.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("net-eu-west-1-manager"), PolicyArn: pol.Policy.Arn})
	must(t, err)
	h.mustRun(0, "down", "--auto-approve", "--timeout", "2m")
	if _, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("net-eu-west-1-manager")}); err == nil {
		t.Errorf("the manager's role survives down")
	}
	if _, err := iamc.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: pol.Policy.Arn}); err != nil {
		t.Errorf("down deleted a policy that was not its own: %v", err)
	}
}

// A runner token the user gave stops working with down: the runner is
// deleted in GitLab (token in the body, never the URL); --keep-runner
// keeps it.
func TestDownDeletesTheRunner(t *testing.T) {
	t.Parallel()
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep-runner=%v", keep), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.writeConfig(baseConfig)
			h.mustRun(0, "up", "--auto-approve")
			args := []string{"down", "--auto-approve"}
			if keep {
				args = append(args, "--keep-runner")
			}
			h.mustRun(0, args...)
			if got := len(h.gitlab.Runners()); (got == 1) != keep {
				t.Errorf("keep-runner=%v: %d runner(s) left in GitLab", keep, got)
			}
			if n := h.gitlab.TokensInURL(); n != 0 {
				t.Errorf("%d GitLab request(s) carried a token in the URL", n)
			}
		})
	}
}
