package ops

import (
	"strings"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// Each failure the bootstrap reports is named in words, with the address
// or parameter the person must check.
func TestFailedStageCause(t *testing.T) {
	e := &stack.Env{Cfg: &config.Config{Stack: "ci"}}
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
		got := failedStageCause(e, &stack.BootReport{Stage: c.stage, Status: "failed", Detail: c.detail}, eip, "the manager reaches the internet ...")
		if !strings.Contains(got, c.want) {
			t.Errorf("%s / %q:\n got %s\nwant %s", c.stage, c.detail, got, c.want)
		}
	}
}
