package stack

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/config"
)

// Each failure the bootstrap reports is named in words, with the address
// or parameter the person must check.
func TestFailedStageCause(t *testing.T) {
	e := &Env{Cfg: &config.Config{Stack: "ci"}}
	const eip = "203.0.113.41"
	cases := []struct {
		stage, detail, want string
	}{
		{bootstrap.StagePackages, "Error: Failed to download metadata for repo 'amazonlinux': Cannot download repomd.xml: Curl error (28): Timeout was reached", "a package repository is not reachable from the manager"},
		{bootstrap.StageRunner, "curl: (6) Could not resolve host: packages.gitlab.com", "a package repository is not reachable"},
		{bootstrap.StageTokenRead, "Unable to locate credentials. You can configure credentials by running \"aws configure\".", "has no instance profile"},
		{bootstrap.StageTokenRead, "An error occurred (AccessDeniedException) when calling the GetParameter operation: User: arn:aws:sts::1:assumed-role/x is not authorized to perform: ssm:GetParameter", "is not readable with the manager's role"},
		{bootstrap.StageTokenRead, "/provision/ci/runner-token does not hold a runner authentication token (glrt-...): ", "holds no runner authentication token"},
		{bootstrap.StageTokenRead, "Connect timeout on endpoint URL: \"https://ssm.eu-west-1.amazonaws.com/\"", "is not readable from the manager"},
		{bootstrap.StageTokenVerified, `GitLab rejected the runner token (HTTP 403): {"message":"403 Forbidden"}`, "GitLab rejected the runner token"},
		{bootstrap.StageTokenVerified, "GitLab https://gitlab.example.com not reachable from this machine on 443 (HTTP 000): curl: (28) Connection timed out", "GitLab is not reachable on 443 from the manager's address " + eip},
		{bootstrap.StageServiceRunning, "Job for gitlab-runner.service failed", "gitlab-runner did not start"},
	}
	for _, c := range cases {
		got := e.failedStageCause(&BootReport{Stage: c.stage, Status: "failed", Detail: c.detail}, eip, "the manager reaches the internet ...")
		if !strings.Contains(got, c.want) {
			t.Errorf("%s / %q:\n got %s\nwant %s", c.stage, c.detail, got, c.want)
		}
	}
}

// What the manager wrote is shown without terminal controls and without
// runner tokens, whichever way they are hidden.
func TestFromManager(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "curl: (28) Connection timed out", "curl: (28) Connection timed out"},
		{"console CR LF", "[ 1.0] boot\r\n[ 2.0] done\r\n", "[ 1.0] boot\n[ 2.0] done\n"},
		{"colour", "\x1b[31mfailed\x1b[0m", "[31mfailed[0m"},
		{"OSC 8 hyperlink", "\x1b]8;;https://evil.example/\x1b\\here\x1b]8;;\x1b\\", "]8;;https://evil.example/\\here]8;;\\"},
		{"CR overwrite", "token-verified failed\rtoken-verified ok    ", "token-verified failedtoken-verified ok    "},
		{"C1 CSI", "\u009b2Jcleared", "2Jcleared"},
		{"bidi override", "stage \u202Edeliaf", "stage deliaf"},
		{"line separator", "a\u2028b", "ab"},
		{"token", "token=glrt-abcdef123456", "token=glrt-[redacted]"},
		{"token split by an escape", "glrt-abc\x1bdef123", "glrt-[redacted]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := fromManager(c.in); got != c.want {
				t.Errorf("fromManager(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// Everything that prints the boot report reads it cleaned.
func TestParsedBootReportIsClean(t *testing.T) {
	e := &Env{Cfg: &config.Config{Stack: "ci"}}
	raw := `{"stage":"token-verified\u001b[2J","status":"failed\r","detail":"\u001b[31mGitLab rejected glrt-secretvalue1\u001b[0m \u202Eok","time":"2026-01-02T03:04:05Z"}`
	r, err := e.parseBootReport(&ssmtypes.Parameter{Value: aws.String(raw)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := BootReport{Stage: "token-verified[2J", Status: "failed", Detail: "[31mGitLab rejected glrt-[redacted][0m ok", Time: r.Time}
	if *r != want {
		t.Errorf("report %+v\nwant   %+v", *r, want)
	}
	if !r.Failed() {
		t.Errorf("a cleaned status %q is not failed", r.Status)
	}
}
