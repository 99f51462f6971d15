package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
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
	param, err := ssm.NewFromConfig(awsConfig(h.moto.URL)).GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/provision/net/runner-config"), WithDecryption: aws.Bool(true)})
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

// up --no-wait does not wait for a drain: the old manager is set to
// terminate on power-off and asked to drain; status shows the drain and
// exits 2 until it ends; the manager powers itself off when its jobs are
// done, and a later up removes its emptied group.
func TestNoWaitDrainLeavesTheManagerToFinish(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig + "manager: {drain_timeout: 10m}\n")
	h.mustRun(0, "up", "--auto-approve")
	oldManager, oldGroup := aws.ToString(manager(t, h, "net").InstanceId), groupName(t, h)

	h.manager.noDrain = true // its jobs take a while
	h.writeConfig(baseConfig + "manager: {drain_timeout: 10m, instance_type: t3.small}\n")
	p := h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(p.stdout, oldManager+" stops taking jobs and finishes those it runs (up to 10m)") {
		t.Errorf("the plan does not give the drain's limit:\n%s", p.stdout)
	}
	start := time.Now()
	up := h.mustRun(0, "up", "--auto-approve", "--no-wait")
	if took := time.Since(start); took > 2*time.Minute {
		t.Errorf("up --no-wait took %s", took)
	}
	if !strings.Contains(up.stdout, "then powers itself off (--no-wait") {
		t.Errorf("up --no-wait does not say the old manager is left to finish:\n%s", up.stdout)
	}
	// The emulator accepts the setting but does not keep it: the proxy
	// saw it made.
	if !h.proxy.TerminatesOnShutdown(oldManager) {
		t.Errorf("the old manager was not set to terminate when it powers off")
	}
	st := h.run("status")
	if st.code != 2 || !strings.Contains(st.stdout, "draining") || !strings.Contains(st.stdout, "left") {
		t.Errorf("status during a drain:\n%s", st)
	}
	if !h.groupExists(oldGroup) {
		t.Errorf("the old group went while its manager still runs jobs")
	}

	// Its jobs end: it answers and powers off (the stand-in does).
	h.manager.noDrain = false
	for i := 0; i < 20 && aws.ToString(instanceState(t, h, oldManager)) != "terminated"; i++ {
		h.run("status")
	}
	if s := aws.ToString(instanceState(t, h, oldManager)); s != "terminated" {
		t.Fatalf("the drained manager is %s, want terminated", s)
	}
	h.mustRun(0, "up", "--auto-approve")
	if h.groupExists(oldGroup) {
		t.Errorf("the emptied group %s survives the next up", oldGroup)
	}
	if st := h.run("status"); st.code != 0 {
		t.Errorf("status after the drain:\n%s", st)
	}
	h.mustRun(0, "down", "--auto-approve")
}

func instanceState(t *testing.T, h *harness, id string) *string {
	t.Helper()
	out, err := h.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) == 0 {
		t.Fatalf("instance %s: %v", id, err)
	}
	return aws.String(string(out.Reservations[0].Instances[0].State.Name))
}

func (h *harness) groupExists(name string) bool {
	out, err := autoscaling.NewFromConfig(awsConfig(h.moto.URL)).DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	return err == nil && len(out.AutoScalingGroups) == 1
}
