package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// Tuning is a new version of ssm/runner-config, which the manager applies
// (gitlab-runner reloads config.toml): the plan shows the keys that
// change, up keeps the manager's instance, and status says when the
// manager runs the new version. What needs a new instance still replaces
// it, and the plan names the setting.
func TestTuningKeepsTheManager(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	before := aws.ToString(manager(t, h, "net").InstanceId)

	tuned := baseConfig + "runners:\n  max_instances: 20\n  idle_count: 2\n  idle_time: 20m\n  concurrent: 30\n" +
		"  schedule:\n    - periods: [\"* 8-19 * * mon-fri\"]\n      idle_count: 4\n      idle_time: 30m\n" +
		"manager:\n  drain_timeout: 45m\n"
	h.writeConfig(tuned)
	p := h.mustRun(2, "plan", "--detailed-exitcode")
	for _, want := range []string{"~ ssm/runner-config", "runners[0].autoscaler.max_instances 10 -> 20", "runners[0].autoscaler.policy[0].idle_count 0 -> 2",
		"concurrent 10 -> 30", "runners[0].autoscaler.policy[1].idle_count = 4", "~ asg/runner"} {
		if !strings.Contains(p.stdout, want) {
			t.Errorf("the plan does not show %q:\n%s", want, p.stdout)
		}
	}
	if strings.Contains(p.stdout, "instance/manager") || strings.Contains(p.stdout, "drain/manager") {
		t.Errorf("tuning touches the manager:\n%s", p.stdout)
	}
	h.mustRun(0, "up", "--auto-approve")
	if after := aws.ToString(manager(t, h, "net").InstanceId); after != before {
		t.Errorf("tuning replaced the manager: %s -> %s", before, after)
	}
	param, err := ssm.NewFromConfig(awsConfig(h.moto.URL)).GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/provision/net/runner-config")})
	if err != nil || !strings.Contains(aws.ToString(param.Parameter.Value), "max_instances = 20") || strings.Contains(aws.ToString(param.Parameter.Value), runnerToken) {
		t.Fatalf("the runner configuration parameter: %v %v", param, err)
	}
	// The manager applies it (the stand-in does within its next look) and
	// reports the version it runs.
	applied := false
	for i := 0; i < 20 && !applied; i++ {
		st := h.run("status")
		applied = strings.Contains(st.stdout, "Runner config:  version 2 in ssm/runner-config, which the manager runs")
		if !applied {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if !applied {
		t.Errorf("status never says the manager runs version 2:\n%s", h.run("status"))
	}
	if r := h.mustRun(0, "plan", "--detailed-exitcode"); !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("plan after tuning:\n%s", r)
	}

	// A new gitlab-runner version needs a new manager; the plan says so by name.
	h.writeConfig(tuned + "  runner_version: 18.6.0\n")
	p = h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(p.stdout, "-/+ instance/manager") || !strings.Contains(p.stdout, `must be replaced: runner_version "" -> "18.6.0"`) {
		t.Errorf("the plan does not name the setting that replaces the manager:\n%s", p.stdout)
	}
	h.mustRun(0, "down", "--auto-approve")
}
