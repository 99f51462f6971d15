package ops

import (
	"strings"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/config"
)

// The plan policy grants reads only, fits one managed policy, and keeps
// the operator policy's resources and conditions.
func TestPlanPolicyReadsOnly(t *testing.T) {
	cfg := config.Defaults()
	cfg.Stack, cfg.Region = "net", "eu-west-1"
	cfg.State.S3 = &config.S3StateConfig{Bucket: "team-state", Key: "net.json"}
	doc := PlanPolicy(&cfg)
	if n := len(doc.JSON()); n > ManagedPolicyLimit {
		t.Errorf("the plan policy is %d characters, more than one managed policy takes", n)
	}
	seen := map[string]bool{}
	for _, s := range doc.Statement {
		for _, a := range s.Action {
			seen[a] = true
			if !readAction(a) {
				t.Errorf("%s grants %s", s.Sid, a)
			}
			if strings.HasSuffix(a, "*") && a != "ec2:Describe*" {
				t.Errorf("%s grants the wildcard %s", s.Sid, a)
			}
		}
	}
	for _, want := range []string{"ec2:Describe*", "autoscaling:DescribeAutoScalingGroups", "ssm:GetParameters", "kms:Decrypt", "s3:GetObject", "iam:GetRole", "logs:DescribeLogGroups"} {
		if !seen[want] {
			t.Errorf("the plan policy lacks %s", want)
		}
	}
	for _, never := range []string{"ec2:RunInstances", "ssm:PutParameter", "kms:Encrypt", "s3:PutObject", "iam:PassRole", "ec2:CreateTags", "logs:CreateLogGroup"} {
		if seen[never] {
			t.Errorf("the plan policy grants %s", never)
		}
	}
}
