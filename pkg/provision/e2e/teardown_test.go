package e2e

import (
	"context"
	"strings"
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

// A runner token the user gave may serve other stacks: down keeps its
// runner, and the destroy plan says so; --delete-runner deletes it in
// GitLab (token in the body, never the URL) and says the token stops
// working.
func TestDownAndTheRunnerOfAGivenToken(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		flag string
		keep bool
		line string
	}{
		{"", true, "stays and its token keeps working (the token came from GITLAB_RUNNER_TOKEN; down --delete-runner deletes it)"},
		{"--delete-runner", false, "(down --delete-runner): its token stops working"},
		{"--keep-runner", true, "stays and its token keeps working"},
	} {
		t.Run("flag="+c.flag, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.writeConfig(baseConfig)
			h.mustRun(0, "up", "--auto-approve")
			args := []string{"down", "--auto-approve"}
			if c.flag != "" {
				args = append(args, c.flag)
			}
			r := h.mustRun(0, args...)
			if !strings.Contains(r.stdout, "- ssm/token") || !strings.Contains(r.stdout, c.line) {
				t.Errorf("%s: the destroy plan does not say what becomes of the runner (%q):\n%s", c.flag, c.line, r.stdout)
			}
			if got := len(h.gitlab.Runners()); (got == 1) != c.keep {
				t.Errorf("%s: %d runner(s) left in GitLab", c.flag, got)
			}
			if n := h.gitlab.TokensInURL(); n != 0 {
				t.Errorf("%d GitLab request(s) carried a token in the URL", n)
			}
		})
	}
}
