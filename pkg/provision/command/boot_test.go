package command

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/ops"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

func report(stage, status string) *stack.BootReport {
	return &stack.BootReport{Stage: stage, Status: status, Time: time.Now()}
}

// bootStack answers BootReport with reports[n], then the last one.
func bootStack(ct *commandTest, reports ...*stack.BootReport) *scriptedStack {
	return &scriptedStack{fakeStack: fakeStack{ct.world}, bootReport: func(n int) (*stack.BootReport, error) {
		return reports[min(n, len(reports)-1)], nil
	}}
}

// up prints each boot stage once, in order, until online; only the first look reuses the plan's read.
func TestUpWaitsForBoot(t *testing.T) {
	ct := newCommandTest(t)
	st := bootStack(ct, report(bootstrap.StageDocker, "ok"), report(bootstrap.StageOnline, "ok"))
	code, err := Up(context.Background(), st.use(ct.options(false, "")), UpOptions{AutoApprove: true})
	ct.want("up", code, 0, err, "Waiting for the manager to report its boot (up to 15m0s")
	stages := regexp.MustCompile(`manager: boot stage (\S+)\s+(\S+)`).FindAllStringSubmatch(ct.out.String(), -1)
	if len(stages) != len(bootstrap.Stages) {
		t.Fatalf("%d stages printed, want %d:\n%s", len(stages), len(bootstrap.Stages), ct.out.String())
	}
	for i, m := range stages {
		if m[1] != bootstrap.Stages[i] || m[2] != "ok" {
			t.Errorf("line %d: stage %s %s, want %s ok", i, m[1], m[2], bootstrap.Stages[i])
		}
	}
	if len(st.fresh) != 2 || st.fresh[0] || !st.fresh[1] {
		t.Errorf("the reads were fresh: %v, want [false true]", st.fresh)
	}
}

// A failed boot stage ends up with the detail, the likely cause and the console lines.
func TestUpBootFailed(t *testing.T) {
	ct := newCommandTest(t)
	failed := report(bootstrap.StageTokenVerified, "failed")
	failed.Detail = "401 Unauthorized\nfrom GitLab"
	st := bootStack(ct, failed)
	st.diagnosis = ops.BootDiagnosis{Cause: "the token was revoked", Console: "cloud-init: one\ncloud-init: two"}
	code, err := Up(context.Background(), st.use(ct.options(false, "")), UpOptions{AutoApprove: true})
	ct.want("up", code, 1, err,
		"manager: boot stage token-verified           failed",
		`The manager's boot failed at stage "token-verified".`,
		"  Detail: 401 Unauthorized\n          from GitLab",
		"  Likely cause: the token was revoked",
		"    | cloud-init: one\n    | cloud-init: two",
		"the token was revoked Everything else is built and saved")
	if st.bootCalls != 1 {
		t.Errorf("up read the report %d times after it failed", st.bootCalls)
	}
}

// A boot that does not reach "online" in time ends up with the timeout.
func TestUpBootTimeout(t *testing.T) {
	ct := newCommandTest(t)
	st := bootStack(ct, report(bootstrap.StagePackages, "ok"))
	code, err := Up(context.Background(), st.use(ct.options(false, "")), UpOptions{AutoApprove: true, WaitTimeout: time.Nanosecond})
	ct.want("up", code, 1, err, `The manager did not report "online" within 1ns.`, "Likely cause:")
}

// Without a manager up does not wait for a boot, and --no-wait does not look at all.
func TestUpWithoutBootWait(t *testing.T) {
	ct := newCommandTest(t)
	st := &scriptedStack{fakeStack: fakeStack{ct.world}, bootReport: func(int) (*stack.BootReport, error) { return nil, stack.ErrNoManager }}
	code, err := Up(context.Background(), st.use(ct.options(false, "")), UpOptions{AutoApprove: true})
	ct.want("up", code, 0, err)
	if strings.Contains(ct.out.String(), "Waiting") {
		t.Errorf("up waited for a manager the stack does not have:\n%s", ct.out.String())
	}
	st = bootStack(ct, report(bootstrap.StagePackages, "ok"))
	code, err = Up(context.Background(), st.use(ct.options(false, "")), UpOptions{AutoApprove: true, NoWait: true})
	ct.want("up --no-wait", code, 0, err)
	if st.bootCalls != 0 {
		t.Errorf("up --no-wait read the boot report")
	}
}

// The first Ctrl-C ends the wait, saying everything is built and saved.
func TestUpBootWaitInterrupted(t *testing.T) {
	ct := newCommandTest(t)
	interrupt := make(chan struct{})
	st := &scriptedStack{fakeStack: fakeStack{ct.world}, bootReport: func(int) (*stack.BootReport, error) {
		select {
		case <-interrupt:
		default:
			close(interrupt)
		}
		return report(bootstrap.StageDocker, "ok"), nil
	}}
	o := st.use(ct.options(false, ""))
	o.Interrupt = interrupt
	// The timeout only bounds the test should the interrupt be ignored.
	code, err := Up(context.Background(), o, UpOptions{AutoApprove: true, WaitTimeout: 5 * time.Second})
	ct.want("up", code, 1, err, "stopped waiting for the manager's boot report (last stage docker ok); everything is built and saved")
	if st.bootCalls != 1 {
		t.Errorf("the report was read %d times after the interrupt", st.bootCalls)
	}
}

// With GITLAB_TOKEN up then waits until GitLab shows the runner online.
func TestUpWaitsForRunnerOnline(t *testing.T) {
	ct := newCommandTest(t)
	st := bootStack(ct, report(bootstrap.StageOnline, "ok"))
	st.runnerOnline = func(n int) (string, error) {
		if n == 0 {
			return "offline", nil
		}
		return "online", nil
	}
	code, err := Up(context.Background(), st.use(ct.options(false, "")), UpOptions{AutoApprove: true})
	ct.want("up", code, 0, err, "gitlab: the runner is online")
	if st.runnerCalls != 2 {
		t.Errorf("GitLab was asked %d times, want 2", st.runnerCalls)
	}
}

// A runner GitLab does not show online in time fails up, with its status or the error.
func TestUpRunnerNotOnline(t *testing.T) {
	for _, c := range []struct {
		status string
		err    error
		want   string
	}{
		{status: "offline", want: "(its status is offline)"},
		{err: errors.New("GitLab answered 500"), want: "(GitLab answered 500)"},
	} {
		ct := newCommandTest(t)
		st := bootStack(ct, report(bootstrap.StageOnline, "ok"))
		st.runnerOnline = func(int) (string, error) { return c.status, c.err }
		code, err := Up(context.Background(), st.use(ct.options(false, "")), UpOptions{AutoApprove: true, WaitTimeout: time.Nanosecond})
		ct.want("up", code, 1, err, "the manager is online but GitLab does not show the runner online "+c.want)
	}
}

// A boot that stays at one stage is not silent: the wait says where the
// manager is and how long it has waited at least every heartbeat.
func TestUpBootWaitSaysWhereItIs(t *testing.T) {
	ct := newCommandTest(t)
	st := bootStack(ct, nil, nil, report(bootstrap.StagePackages, "ok"), report(bootstrap.StagePackages, "ok"), report(bootstrap.StagePackages, "ok"), report(bootstrap.StageOnline, "ok"))
	code, err := Up(context.Background(), st.use(ct.options(false, "")), UpOptions{AutoApprove: true, Heartbeat: time.Millisecond})
	ct.want("up", code, 0, err,
		"manager: no boot report yet (cloud-init installs packages first); waited",
		"manager: stage packages passed, now at docker; waited")
}
