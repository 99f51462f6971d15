package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/provision-dev/provision/pkg/provision/stack"
)

// up follows the manager's boot report: each stage as it arrives, then
// GitLab's word that the runner is online. A failed stage and a boot that
// never reports end up with the detail, the likely cause and the console
// output, and exit 1. down removes the report.
func TestManagerBootReport(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.env = append(h.env, "GITLAB_TOKEN="+userToken)
	h.manager.gap = 300 * time.Millisecond

	up := h.mustRun(0, "up", "--auto-approve")
	for _, want := range []string{
		"Waiting for the manager to report its boot",
		"manager: boot stage packages",
		"manager: boot stage token-verified           ok",
		"manager: boot stage online                   ok",
		"gitlab: the runner is online",
	} {
		if !strings.Contains(up.stdout, want) {
			t.Errorf("up does not show %q:\n%s", want, up.stdout)
		}
	}
	if i, j := strings.Index(up.stdout, "Apply complete!"), strings.Index(up.stdout, "boot stage online"); i < 0 || j < i {
		t.Errorf("the boot is not followed after the apply:\n%s", up.stdout)
	}
	st := h.mustRun(0, "status")
	if !strings.Contains(st.stdout, "online") {
		t.Errorf("status does not show the boot report:\n%s", st.stdout)
	}

	// A new manager whose token GitLab rejects (a changed instance type
	// replaces the manager). The detail carries what a hostile GitLab or
	// a job on the manager could put there: a screen clear, a hidden
	// hyperlink, a carriage return and a bidi override, none of which may
	// reach the terminal.
	h.manager.boot = func(string) []stack.BootReport {
		return append(okBoot("")[:4], stack.BootReport{Stage: "token-verified", Status: "failed",
			Detail: "GitLab rejected the runner token (HTTP 403): \x1b[2J\x1b]8;;https://evil.example/\x07{\"message\":\"403 Forbidden\"}\x1b]8;;\x07\rall good \u202Eok"})
	}
	h.writeConfig(baseConfig + "manager: {instance_type: t3.small}\n")
	failed := h.mustRun(1, "up", "--auto-approve")
	for _, want := range []string{
		`The manager's boot failed at stage "token-verified"`,
		"Detail: GitLab rejected the runner token (HTTP 403)",
		"Likely cause: GitLab rejected the runner token",
		// The failing unit's last lines, from the log group.
		"Log of boot (last lines; `provision logs --unit boot` shows more):",
		"| provision: boot stage token-read ok\n    | GitLab rejected the runner token (HTTP 403)",
		"| provision: boot stage token-verified failed",
	} {
		if !strings.Contains(failed.stdout, want) {
			t.Errorf("a failed boot does not show %q:\n%s", want, failed.stdout)
		}
	}
	// The console is the fallback for a manager that shipped nothing.
	if strings.Contains(failed.stdout, "Console output") {
		t.Errorf("a failed boot with its log shows the console too:\n%s", failed.stdout)
	}
	if !strings.Contains(failed.stderr, "token-verified") {
		t.Errorf("the error does not name the stage:\n%s", failed.stderr)
	}
	if !strings.Contains(failed.stdout, `]8;;https://evil.example/{"message":"403 Forbidden"}]8;;all good ok`) {
		t.Errorf("the detail is not shown whole, without its controls:\n%q", failed.stdout)
	}
	checkNoTerminalControls(t, "a failed boot", failed.stdout+failed.stderr)
	// The cause fixed, the next up replaces the manager that stopped.
	h.manager.boot = nil
	p := h.mustRun(2, "plan", "--detailed-exitcode")
	if !strings.Contains(p.stdout, "-/+ instance/manager") || !strings.Contains(p.stdout, "must be replaced: its boot failed at stage token-verified") {
		t.Errorf("a manager whose boot failed is not replaced:\n%s", p.stdout)
	}
	checkNoTerminalControls(t, "the plan", p.stdout+p.stderr)
	st = h.mustRun(2, "status")
	checkNoTerminalControls(t, "status", st.stdout+st.stderr)
	again := h.mustRun(0, "up", "--auto-approve")
	if !strings.Contains(again.stdout, "manager: boot stage online") {
		t.Errorf("the new manager's boot is not followed:\n%s", again.stdout)
	}

	// A manager that never reports: the timeout names what was awaited.
	h.manager.boot = noBoot
	h.writeConfig(baseConfig + "manager: {instance_type: t3.medium}\n")
	silent := h.mustRun(1, "up", "--auto-approve", "--wait-timeout", "3s")
	for _, want := range []string{`did not report "online" within 3s`, "Likely cause: the manager wrote no boot report", "| Linux version"} {
		if !strings.Contains(silent.stdout, want) {
			t.Errorf("a silent boot does not show %q:\n%s", want, silent.stdout)
		}
	}
	// --no-wait ends when everything is built.
	h.mustRun(0, "up", "--auto-approve", "--no-wait")

	h.mustRun(0, "down", "--auto-approve")
	_, err := ssm.NewFromConfig(awsConfig(h.moto.URL)).GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(stack.BootParameterName("net"))})
	if err == nil || !strings.Contains(err.Error(), "ParameterNotFound") {
		t.Errorf("down left the boot report: %v", err)
	}
}

// checkNoTerminalControls fails the test if output not written to a
// terminal (so without the tool's own colours) holds anything a terminal
// would act on.
func checkNoTerminalControls(t *testing.T, what, out string) {
	t.Helper()
	for _, c := range []string{"\x1b", "\r", "\x07", "\u009b", "\u202E", "\u2028"} {
		if strings.Contains(out, c) {
			t.Errorf("%s shows %q:\n%q", what, c, out)
		}
	}
}
