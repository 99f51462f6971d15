package preflight

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// Only a whole glrt- token passes the format check; registration and short tokens are refused with why.
func TestCheckRunnerTokenFormat(t *testing.T) {
	cases := []struct {
		token string
		want  string // "" : accepted
	}{
		{"glrt-fake-runner-token", ""},
		{"glrt-t1_abcdefghijklmnop", ""},
		{"GR1348941abcdefghijklmnop", "looks like a registration token"},
		{"abcdefghijklmnopqrstuvwxyz", `does not start with "glrt-"`},
		{"glrt-abc", "too short to be a runner authentication token"},
	}
	for _, c := range cases {
		err := CheckRunnerTokenFormat(c.token)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.token, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error saying %q", c.token, err, c.want)
		}
	}
}

// unreachable is the address of a GitLab that drops every connection
// without an answer.
func unreachable(t *testing.T) string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// redirecting makes the account's GitLab answer every request with a
// redirect, which provision refuses to follow.
func redirecting(a *account) { a.gl.RedirectTo("https://gitlab.example.net", http.StatusFound) }

// pointGitLabAt makes the environment talk to the GitLab at url.
func pointGitLabAt(a *account, url string) {
	a.e.Cfg.GitLab.URL = url
	a.e.GitLab = gitlab.New(url)
}

// Each way GITLAB_RUNNER_TOKEN can be unusable is an error saying what is wrong and how to fix it.
func TestRunnerTokenProblems(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*account)
		want  []string
	}{
		{"not set", func(a *account) { a.e.Secrets.RunnerToken = stack.Secret{} },
			[]string{"GITLAB_RUNNER_TOKEN is not set", "export the runner authentication token", "gitlab.create_runner"}},
		{"registration token", func(a *account) { a.e.Secrets.RunnerToken = stack.NewSecret("GR1348941abcdefghijklmnop") },
			[]string{"GITLAB_RUNNER_TOKEN is not a runner authentication token"}},
		{"rejected", func(a *account) { a.e.Secrets.RunnerToken = stack.NewSecret("glrt-deleted-runner-token") },
			[]string{"rejected GITLAB_RUNNER_TOKEN", "export the new glrt-... token"}},
		{"GitLab unreachable", func(a *account) { pointGitLabAt(a, unreachable(t)) },
			[]string{"cannot be reached from here to check GITLAB_RUNNER_TOKEN", "check gitlab.url, DNS"}},
		{"GitLab redirects", redirecting,
			[]string{"check GITLAB_RUNNER_TOKEN with GitLab"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAccount(t, nil)
			c.setup(a)
			err := checkToken(context.Background(), a.e)
			if err == nil {
				t.Fatal("accepted")
			}
			oneContaining(t, []string{err.Error()}, c.want...)
			if strings.Contains(err.Error(), a.e.Secrets.RunnerToken.Reveal()) && !a.e.Secrets.RunnerToken.Empty() {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}

// Without gitlab.url the runner token is not checked and GitLab is not asked.
func TestRunnerTokenNotCheckedWithoutGitLab(t *testing.T) {
	a := newAccount(t, nil)
	a.e.Cfg.GitLab.URL = ""
	if err := checkToken(context.Background(), a.e); err != nil {
		t.Fatal(err)
	}
	if verify, _ := a.gl.Counts(); verify != 0 {
		t.Errorf("GitLab asked %d times", verify)
	}
}

// A runner token expiring within two weeks warns with its expiry; expiry and runner id are kept.
func TestRunnerTokenExpiryWarning(t *testing.T) {
	for _, c := range []struct {
		in   time.Duration
		warn bool
	}{{3 * 24 * time.Hour, true}, {60 * 24 * time.Hour, false}} {
		a := newAccount(t, nil)
		expires := time.Now().Add(c.in).Truncate(time.Second)
		a.gl.SetRunnerTokenExpiry(expires)
		id := a.gl.AddRunner("glrt-expiring-runner-token")
		a.e.Secrets.RunnerToken = stack.NewSecret("glrt-expiring-runner-token")
		if err := checkToken(context.Background(), a.e); err != nil {
			t.Fatal(err)
		}
		if !a.e.RunnerTokenExpiresAt.Equal(expires) || a.e.RunnerID != id {
			t.Errorf("expiry %v and id %d kept, want %v and %d", a.e.RunnerTokenExpiresAt, a.e.RunnerID, expires, id)
		}
		w := a.warnings()
		if got := len(w) == 1 && strings.Contains(w[0], "GITLAB_RUNNER_TOKEN expires "+expires.UTC().Format(time.RFC3339)); got != c.warn {
			t.Errorf("expiry in %v: warnings %q, want a warning: %v", c.in, w, c.warn)
		}
	}
}

// storeToken makes the stack's token parameter hold token.
func storeToken(a *account, token string) {
	a.c.SSM.GetParameterFn = func(_ context.Context, in *ssm.GetParameterInput) (*ssm.GetParameterOutput, error) {
		if aws.ToString(in.Name) != a.e.Names().TokenParameter("default") {
			return nil, apiError("ParameterNotFound")
		}
		return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String(token)}}, nil
	}
}

// A renewed token in SSM that GitLab accepts stands in for an outdated GITLAB_RUNNER_TOKEN.
func TestRenewedStoredTokenIsKept(t *testing.T) {
	t.Run("renewed", func(t *testing.T) {
		a := newAccount(t, nil)
		a.gl.ResetToken(runnerToken, "glrt-renewed-runner-token")
		storeToken(a, "glrt-renewed-runner-token")
		if err := checkToken(context.Background(), a.e); err != nil {
			t.Fatal(err)
		}
		if !a.e.StoredTokenRenewed || a.e.RunnerID == 0 {
			t.Errorf("renewed %v, runner id %d: want the stored token kept", a.e.StoredTokenRenewed, a.e.RunnerID)
		}
		if verify, _ := a.gl.Counts(); verify != 2 {
			t.Errorf("%d verifications, want the exported token's and the stored one's", verify)
		}
	})
	for name, stored := range map[string]string{"stored is the exported one": "glrt-deleted-runner-token", "stored rejected too": "glrt-also-deleted-token"} {
		t.Run(name, func(t *testing.T) {
			a := newAccount(t, nil)
			a.e.Secrets.RunnerToken = stack.NewSecret("glrt-deleted-runner-token")
			storeToken(a, stored)
			err := checkToken(context.Background(), a.e)
			if err == nil || !strings.Contains(err.Error(), "rejected GITLAB_RUNNER_TOKEN") || a.e.StoredTokenRenewed {
				t.Errorf("%v (renewed %v), want the exported token rejected", err, a.e.StoredTokenRenewed)
			}
		})
	}
}

// withCreateRunner is a configuration where provision creates the runner.
func withCreateRunner(c *config.Config) {
	c.GitLab.CreateRunner = &config.CreateRunnerConfig{RunnerType: "instance_type"}
}

// With create_runner, GITLAB_TOKEN must be set, accepted and hold both runner scopes; expiry warns.
func TestGitLabTokenForCreateRunner(t *testing.T) {
	soon := time.Now().UTC().Add(3 * 24 * time.Hour).Format("2006-01-02")
	later := time.Now().UTC().Add(90 * 24 * time.Hour).Format("2006-01-02")
	cases := []struct {
		name   string
		token  string
		record *gitlabtest.UserToken
		setup  func(*account)
		want   []string // parts of the error; nil: accepted
		warn   string   // part of the one warning; "": none
	}{
		{name: "not set", want: []string{"gitlab.create_runner is set but GITLAB_TOKEN is not", "create_runner and manage_runner scopes"}},
		{name: "not set, runner made already", setup: func(a *account) { storeToken(a, "glrt-created-runner-token") }},
		{name: "unknown", token: "glpat-revoked", want: []string{"rejected GITLAB_TOKEN: it is revoked, expired or mistyped"}},
		{name: "create_runner only", token: "glpat-narrow", record: &gitlabtest.UserToken{Scopes: []string{"create_runner"}},
			want: []string{"GITLAB_TOKEN lacks the manage_runner scope(s) (it has: create_runner)"}},
		{name: "read_api only", token: "glpat-read", record: &gitlabtest.UserToken{Scopes: []string{"read_api"}},
			want: []string{"lacks the create_runner, manage_runner scope(s)"}},
		{name: "both scopes", token: "glpat-good", record: &gitlabtest.UserToken{Scopes: gitlabtest.RunnerScopes, ExpiresAt: later}},
		{name: "api", token: "glpat-api", record: &gitlabtest.UserToken{Scopes: []string{"api"}}},
		{name: "expiring", token: "glpat-soon", record: &gitlabtest.UserToken{Scopes: gitlabtest.RunnerScopes, ExpiresAt: soon},
			warn: "GITLAB_TOKEN expires " + soon},
		{name: "GitLab unreachable", token: "glpat-good", setup: func(a *account) { pointGitLabAt(a, unreachable(t)) },
			want: []string{"cannot be reached from here: check gitlab.url"}},
		{name: "GitLab redirects", token: "glpat-good", setup: redirecting, want: []string{"check GITLAB_TOKEN with GitLab"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := newAccount(t, withCreateRunner)
			a.e.Secrets = stack.Secrets{GitLabToken: stack.NewSecret(c.token)}
			if c.record != nil {
				a.gl.AddUserToken(c.token, *c.record)
			}
			if c.setup != nil {
				c.setup(a)
			}
			err := checkToken(context.Background(), a.e)
			switch {
			case c.want == nil && err != nil:
				t.Fatal(err)
			case c.want != nil && err == nil:
				t.Fatalf("accepted, want %q", c.want)
			case c.want != nil:
				oneContaining(t, []string{err.Error()}, c.want...)
			}
			w := a.warnings()
			if c.warn == "" && len(w) > 0 || c.warn != "" && (len(w) != 1 || !strings.Contains(w[0], c.warn) || !strings.Contains(w[0], "`provision down` needs it")) {
				t.Errorf("warnings %q, want one saying %q", w, c.warn)
			}
			if verify, create := a.gl.Counts(); verify != 0 || create != 0 {
				t.Errorf("GitLab saw %d verifications and %d creations: the check must create nothing", verify, create)
			}
		})
	}
}
