package command

import (
	"bytes"
	"strings"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/ops"
)

// hostile is outside text with what a terminal would act on.
const hostile = "\x1b[31mred\x1b[0m \x1b]8;;https://evil.example/\x07link\x1b]8;;\x07 fail\rok \u009b2J \u202Eexe \u2028end"

func checkNoControls(t *testing.T, out string) {
	t.Helper()
	for _, c := range []string{"\x1b", "\r", "\x07", "\u009b", "\u202E", "\u2028"} {
		if strings.Contains(out, c) {
			t.Errorf("the output contains %q:\n%q", c, out)
		}
	}
	if !strings.Contains(out, "[31mred[0m") {
		t.Errorf("the outside text is not shown:\n%q", out)
	}
}

// status shows drift reasons (which quote tag values anyone may set),
// GitLab's runner status and token expiry without their escapes.
func TestStatusCleansOutsideText(t *testing.T) {
	rep := StatusReport{Stack: "ci", Region: "eu-west-1",
		Resources: []StatusEntry{{Step: "vpc", Kind: "vpc", ID: "vpc-0abc", Status: HealthDrifted, Reasons: []string{"tag team is " + hostile}}},
		Facts:     ops.Facts{RunnerID: "101", RunnerStatus: hostile, RunnerTokenExpiresAt: "unknown (" + hostile + ")"}}
	var out bytes.Buffer
	if err := renderStatus(&out, rep); err != nil {
		t.Fatal(err)
	}
	checkNoControls(t, out.String())
}

// doctor shows AWS's and GitLab's error messages without their escapes.
func TestDoctorCleansOutsideText(t *testing.T) {
	var out bytes.Buffer
	flows := []ops.Flow{{Name: "manager -> GitLab", Blocked: "verify: GitLab says " + hostile}, {Name: "boot", OK: true, Note: hostile}}
	renderFlows(Options{Stdout: &out}, "ci", "eu-west-1", flows, 1)
	checkNoControls(t, out.String())
}
