package e2e

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// The manager's journal reaches the stack's log group, and `provision
// logs` reads it: every unit, one unit, and -f until Ctrl-C. The group
// follows logs.retention_days and is under the stack's key; down removes
// it, or with --keep-logs keeps it for the next up to take up again.
func TestManagerLogs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	id := aws.ToString(manager(t, h, "net").InstanceId)
	logs := cloudwatchlogs.NewFromConfig(awsConfig(h.moto.URL))
	group := describeLogGroup(t, logs, "/provision/net/manager")
	if aws.ToInt32(group.RetentionInDays) != 30 || !strings.Contains(aws.ToString(group.KmsKeyId), ":key/") {
		t.Errorf("the log group keeps lines %d days under key %q; want 30 days under the stack's key", aws.ToInt32(group.RetentionInDays), aws.ToString(group.KmsKeyId))
	}

	r := h.mustRun(0, "logs")
	for _, want := range []string{" boot " + id + "  provision: boot stage packages ok", " boot " + id + "  provision: boot stage online ok",
		" gitlab-runner " + id + "  Configuration loaded"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("logs does not show %q:\n%s", want, r)
		}
	}
	r = h.mustRun(0, "logs", "--unit", "gitlab-runner", "--since", "10m")
	if !strings.Contains(r.stdout, "Configuration loaded") || strings.Contains(r.stdout, " boot ") {
		t.Errorf("logs --unit gitlab-runner:\n%s", r)
	}
	r = h.mustRun(1, "logs", "--unit", "docker")
	if !strings.Contains(r.stderr, `--unit "docker" is not a unit the manager ships: use one of gitlab-runner, boot, drain, provision`) {
		t.Errorf("a wrong unit:\n%s", r)
	}
	r = h.mustRun(0, "logs", "--unit", "drain")
	if r.stdout != "" || !strings.Contains(r.stderr, "no drain lines in /provision/net/manager in the last 1h0m0s") {
		t.Errorf("logs of a unit with no lines:\n%s", r)
	}

	// -f prints what is there, then each new line, until Ctrl-C.
	done := make(chan result)
	go func() { done <- h.run("logs", "-f", "--unit", "gitlab-runner") }()
	time.Sleep(1500 * time.Millisecond)
	h.manager.ship("net", "gitlab-runner", id, "Job succeeded  duration_s=4.2 job=7")
	time.Sleep(3 * time.Second)
	h.signal(os.Interrupt)
	select {
	case r = <-done:
	case <-time.After(time.Minute):
		t.Fatal("logs -f did not end on Ctrl-C")
	}
	if r.code != 0 || !strings.Contains(r.stdout, "Configuration loaded") || !strings.Contains(r.stdout, "Job succeeded  duration_s=4.2 job=7") ||
		strings.Count(r.stdout, "Configuration loaded") != 1 {
		t.Errorf("logs -f (the new line, each line once, exit 0 on Ctrl-C):\n%s", r)
	}
	if !strings.Contains(r.stderr, "stopped") || strings.Contains(r.stderr, "saving the state") {
		t.Errorf("Ctrl-C of logs -f says it saves a state it does not have:\n%s", r.stderr)
	}

	// The retention follows the configuration, in place.
	h.writeConfig(baseConfig + "logs:\n  retention_days: 7\n")
	p := h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(p.stdout, "~ logs/manager") || !strings.Contains(p.stdout, "retention_days 30 -> 7") || strings.Contains(p.stdout, "instance/manager") {
		t.Errorf("the plan of a new retention:\n%s", p.stdout)
	}
	h.mustRun(0, "up", "--auto-approve")
	if g := describeLogGroup(t, logs, "/provision/net/manager"); aws.ToInt32(g.RetentionInDays) != 7 {
		t.Errorf("retention %d days after up, want 7", aws.ToInt32(g.RetentionInDays))
	}
	h.mustRun(0, "plan", "--detailed-exitcode")

	// down --keep-logs keeps the group and its lines; the next up takes
	// it up again, and down removes it.
	// The stack's key stays too: the kept lines are encrypted with it.
	keys := h.liveKeys("net")
	d := h.mustRun(0, "down", "--auto-approve", "--keep-logs")
	if !strings.Contains(d.stdout, "kept with its lines (down --keep-logs)") || !strings.Contains(d.stdout, "kept: the kept log lines are encrypted with it") {
		t.Errorf("the destroy plan does not say the log group and the key stay:\n%s", d.stdout)
	}
	if left := h.tagged("net"); len(left) != 2 || !slices.Contains(left, "log-group /provision/net/manager") || len(keys) != 1 || !slices.Contains(left, "kms-key "+aws.ToString(keys[0].KeyId)) {
		t.Errorf("after down --keep-logs: %v, want the log group and the key %v", left, keys)
	}
	if r := h.mustRun(0, "logs", "--unit", "boot"); !strings.Contains(r.stdout, "provision: boot stage online ok") {
		t.Errorf("the kept group's lines:\n%s", r)
	}
	h.mustRun(0, "up", "--auto-approve")
	if r := h.mustRun(0, "logs", "--unit", "boot", "--since", "1h"); strings.Count(r.stdout, "provision: boot stage online ok") != 2 {
		t.Errorf("the kept group holds both managers' boots:\n%s", r)
	}
	if again := h.liveKeys("net"); len(again) != 1 || aws.ToString(again[0].KeyId) != aws.ToString(keys[0].KeyId) {
		t.Errorf("the next up does not take the kept key up again: %v, was %v", again, keys)
	}
	d = h.mustRun(0, "down", "--auto-approve")
	if !strings.Contains(d.stdout, "its lines go with it") {
		t.Errorf("the destroy plan does not say the lines go:\n%s", d.stdout)
	}
	if left := h.tagged("net"); len(left) != 0 {
		t.Errorf("left after down: %v", left)
	}
	if r := h.mustRun(1, "logs"); !strings.Contains(r.stderr, "the stack has no log group /provision/net/manager: run `provision up`") {
		t.Errorf("logs of a stack without its group:\n%s", r)
	}
}

func describeLogGroup(t *testing.T, c *cloudwatchlogs.Client, name string) (g struct {
	RetentionInDays *int32
	KmsKeyId        *string
}) {
	t.Helper()
	out, err := c.DescribeLogGroups(context.Background(), &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	if err != nil || len(out.LogGroups) != 1 {
		t.Fatalf("the log group %s: %v %v", name, out, err)
	}
	return struct {
		RetentionInDays *int32
		KmsKeyId        *string
	}{out.LogGroups[0].RetentionInDays, out.LogGroups[0].KmsKeyId}
}
