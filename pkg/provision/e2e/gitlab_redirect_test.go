package e2e

import (
	"strings"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
)

// gitlab.url pointing at an address that redirects (an old host name, http
// to https behind a proxy) stops up before anything is built, with an
// error naming where the redirect points; the GitLab it points at never
// sees GITLAB_RUNNER_TOKEN (in a body) nor GITLAB_TOKEN (PRIVATE-TOKEN).
func TestGitLabRedirectStopsUpWithoutSendingTokens(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		config string
		env    []string
	}{
		{name: "runner token", config: baseConfig},
		{name: "GITLAB_TOKEN", config: baseConfig + "  create_runner:\n    runner_type: instance_type\n", env: []string{"GITLAB_TOKEN=" + userToken}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			front := gitlabtest.New()
			t.Cleanup(front.Close)
			front.RedirectTo(h.gitlab.URL, 308)
			h.writeConfig(strings.Replace(c.config, "url: GITLAB_URL", "url: "+front.URL, 1))
			h.env = append(h.env, c.env...)

			var r result
			calls := h.countMutating(func() { r = h.mustRun(1, "up", "--auto-approve") })

			for _, want := range []string{"GitLab at " + front.URL + " answered with a redirect", h.gitlab.URL + "/api/v4/", "set gitlab.url to the address GitLab answers on"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("the error does not say %q:\n%s", want, r.stderr)
				}
			}
			if len(calls) != 0 {
				t.Errorf("mutating calls: %v", calls)
			}
			if left := h.tagged("net"); len(left) > 0 {
				t.Errorf("created: %v", left)
			}
			if len(front.Requests()) == 0 {
				t.Fatal("provision never asked the redirecting GitLab: the test proves nothing")
			}
			if n := len(h.gitlab.Requests()); n != 0 {
				t.Errorf("the redirect was followed: the GitLab it points at got %d request(s)", n)
			}
		})
	}
}
