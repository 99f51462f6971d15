package gitlab_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
)

func TestRunnerLifecycleAgainstTestServer(t *testing.T) {
	srv := gitlabtest.New()
	defer srv.Close()
	// The least a token needs for the runner endpoints the tool calls.
	srv.AddUserToken("glpat-admin", gitlabtest.UserToken{Scopes: gitlabtest.RunnerScopes})
	ctx := context.Background()
	api := gitlab.New(srv.URL)

	known := "glrt-known-token-value"
	srv.AddRunner(known)
	if exp, err := api.VerifyRunnerToken(ctx, known); err != nil || !exp.IsZero() {
		t.Fatalf("valid token: %v %v", exp, err)
	}
	_, err := api.VerifyRunnerToken(ctx, "glrt-unknown-secret")
	if !errors.Is(err, gitlab.ErrTokenRejected) || strings.Contains(err.Error(), "glrt-unknown-secret") {
		t.Fatalf("rejected token: %v", err)
	}
	if _, err := api.Token(ctx, "glpat-wrong-secret"); !errors.Is(err, gitlab.ErrUnauthorized) || strings.Contains(err.Error(), "glpat-wrong-secret") {
		t.Fatalf("bad user token: %v", err)
	}
	tok, err := api.Token(ctx, "glpat-admin")
	if err != nil || !tok.Has("create_runner") || !tok.Has("manage_runner") || tok.Has("read_api") {
		t.Fatalf("token scopes: %+v %v", tok, err)
	}
	id, token, err := api.CreateRunner(ctx, "glpat-admin", gitlab.RunnerSpec{RunnerType: "instance_type", Description: "ci", TagList: []string{"aws"}})
	if err != nil || !strings.HasPrefix(token, gitlab.RunnerTokenPrefix) {
		t.Fatalf("create: %d %v", id, err)
	}
	if st, err := api.RunnerStatus(ctx, "glpat-admin", id); err != nil || st != "never_contacted" {
		t.Fatalf("status: %q %v", st, err)
	}
	if err := api.DeleteRunner(ctx, "glpat-admin", id); err != nil {
		t.Fatal(err)
	}
	if err := api.DeleteRunner(ctx, "glpat-admin", id); err != nil {
		t.Fatalf("deleting a deleted runner must succeed: %v", err)
	}
	if err := api.DeleteRunnerByToken(ctx, known); err != nil {
		t.Fatal(err)
	}
	if len(srv.Runners()) != 0 {
		t.Fatalf("runners left: %+v", srv.Runners())
	}
	if n := srv.TokensInURL(); n != 0 {
		t.Errorf("%d request(s) carried a token in the URL", n)
	}
}

// A token with create_runner only may create runners but not read or
// delete them: the error says a scope is missing, not that the token is bad.
func TestMissingScopeIsNamed(t *testing.T) {
	srv := gitlabtest.New()
	defer srv.Close()
	srv.AddUserToken("glpat-create-only", gitlabtest.UserToken{Scopes: []string{"create_runner"}})
	ctx := context.Background()
	api := gitlab.New(srv.URL)
	id, _, err := api.CreateRunner(ctx, "glpat-create-only", gitlab.RunnerSpec{RunnerType: "instance_type", TagList: []string{"aws"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = api.RunnerStatus(ctx, "glpat-create-only", id)
	if !errors.Is(err, gitlab.ErrInsufficientScope) || errors.Is(err, gitlab.ErrUnauthorized) {
		t.Fatalf("status with create_runner only: %v", err)
	}
	if tok, err := api.Token(ctx, "glpat-create-only"); err != nil || tok.Has("manage_runner") {
		t.Fatalf("self: %+v %v", tok, err)
	}
}

// GitLab's own words reach the person: "HTTP 400" alone says nothing.
func TestGitLabMessageIsShown(t *testing.T) {
	srv := gitlabtest.New()
	defer srv.Close()
	srv.AddUserToken("glpat-admin", gitlabtest.UserToken{Scopes: []string{"api"}})
	untagged := false
	_, _, err := gitlab.New(srv.URL).CreateRunner(context.Background(), "glpat-admin", gitlab.RunnerSpec{RunnerType: "instance_type", RunUntagged: &untagged})
	if err == nil || !strings.Contains(err.Error(), "Tags list can not be empty when runner is not allowed to pick untagged jobs") || strings.Contains(err.Error(), "glpat-admin") {
		t.Fatalf("err = %v", err)
	}
}

func TestVerifyReturnsExpiry(t *testing.T) {
	srv := gitlabtest.New()
	defer srv.Close()
	at := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	srv.SetRunnerTokenExpiry(at)
	srv.AddRunner("glrt-expiring-token-value")
	exp, err := gitlab.New(srv.URL).VerifyRunnerToken(context.Background(), "glrt-expiring-token-value")
	if err != nil || !exp.Equal(at) {
		t.Fatalf("expiry %v %v, want %v", exp, err, at)
	}
}

func TestUnreachable(t *testing.T) {
	srv := gitlabtest.New()
	addr := srv.URL
	srv.Close()
	_, err := gitlab.New(addr).VerifyRunnerToken(context.Background(), "glrt-secret-value")
	if !errors.Is(err, gitlab.ErrUnreachable) || strings.Contains(err.Error(), "glrt-secret-value") {
		t.Fatalf("err = %v", err)
	}
}

// Something in front of GitLab answering 403 to the delete is not GitLab
// saying the runner is gone: the token still verifies, so it is an error.
func TestDeleteRefusedByAProxyIsNotADelete(t *testing.T) {
	srv := gitlabtest.New()
	defer srv.Close()
	srv.AddRunner("glrt-still-valid-token-1")
	target, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("<html>Request blocked</html>"))
			return
		}
		rp.ServeHTTP(w, r)
	}))
	defer front.Close()
	err := gitlab.New(front.URL).DeleteRunnerByToken(context.Background(), "glrt-still-valid-token-1")
	if err == nil || !strings.Contains(err.Error(), "still accepts the token") || strings.Contains(err.Error(), "glrt-still-valid-token-1") {
		t.Fatalf("err = %v", err)
	}
	if len(srv.Runners()) != 1 {
		t.Fatalf("the runner is gone")
	}
	// GitLab itself rejecting the token: already deleted.
	if err := gitlab.New(srv.URL).DeleteRunnerByToken(context.Background(), "glrt-never-existed-token"); err != nil {
		t.Fatalf("an unknown token must count as deleted: %v", err)
	}
}

// A GitLab that answers with a redirect gets no token sent on: every call
// fails with an error that names where the redirect points, and the
// stand-in the redirect names receives nothing, for each redirect status
// Go's client would otherwise follow (307 and 308 would send the body,
// with the runner token in it, again).
func TestRedirectIsNeverFollowed(t *testing.T) {
	const userToken, runnerToken = "glpat-redirect-user-secret", "glrt-redirect-runner-secret"
	calls := map[string]func(context.Context, *gitlab.API) error{
		"verify": func(ctx context.Context, api *gitlab.API) error {
			_, err := api.Verify(ctx, runnerToken)
			return err
		},
		"token": func(ctx context.Context, api *gitlab.API) error {
			_, err := api.Token(ctx, userToken)
			return err
		},
		"create": func(ctx context.Context, api *gitlab.API) error {
			_, _, err := api.CreateRunner(ctx, userToken, gitlab.RunnerSpec{RunnerType: "instance_type", TagList: []string{"aws"}})
			return err
		},
		"status": func(ctx context.Context, api *gitlab.API) error {
			_, err := api.RunnerStatus(ctx, userToken, 101)
			return err
		},
		"delete by id": func(ctx context.Context, api *gitlab.API) error {
			return api.DeleteRunner(ctx, userToken, 101)
		},
		"delete by token": func(ctx context.Context, api *gitlab.API) error {
			return api.DeleteRunnerByToken(ctx, runnerToken)
		},
	}
	for _, status := range []int{301, 302, 303, 307, 308} {
		for name, call := range calls {
			t.Run(fmt.Sprintf("%d %s", status, name), func(t *testing.T) {
				target := gitlabtest.New()
				defer target.Close()
				target.AddUserToken(userToken, gitlabtest.UserToken{Scopes: []string{"api"}})
				target.AddRunner(runnerToken)
				front := gitlabtest.New()
				defer front.Close()
				front.RedirectTo(target.URL, status)

				err := call(context.Background(), gitlab.New(front.URL))

				if len(front.Requests()) == 0 {
					t.Fatal("the redirecting stand-in received no request: the test proves nothing")
				}
				if leaked := requestsCarrying(target.Requests(), userToken, runnerToken); len(leaked) > 0 {
					t.Errorf("the redirect target received tokens: %+v", leaked)
				}
				if n := len(target.Requests()); n != 0 {
					t.Errorf("the redirect target received %d request(s); a redirect must not be followed", n)
				}
				var redirect *gitlab.RedirectError
				if !errors.As(err, &redirect) {
					t.Fatalf("err = %v, want a RedirectError", err)
				}
				msg := err.Error()
				for _, want := range []string{front.URL, target.URL + "/api/v4/", "set gitlab.url", "(probably " + target.URL + ")"} {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q does not say %q", msg, want)
					}
				}
				for _, secret := range []string{userToken, runnerToken} {
					if strings.Contains(msg, secret) {
						t.Errorf("error %q contains a token", msg)
					}
				}
			})
		}
	}
}

// requestsCarrying returns the requests with any of secrets in a header
// value, the URL or the body.
func requestsCarrying(reqs []gitlabtest.Request, secrets ...string) []gitlabtest.Request {
	var out []gitlabtest.Request
	for _, r := range reqs {
		seen := r.URL + "\n" + r.Body
		for _, values := range r.Header {
			seen += "\n" + strings.Join(values, "\n")
		}
		for _, s := range secrets {
			if strings.Contains(seen, s) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// The stand-in's request record must see tokens where the client sends
// them, or TestRedirectIsNeverFollowed could pass on a blind record.
func TestRequestRecordSeesTokens(t *testing.T) {
	srv := gitlabtest.New()
	defer srv.Close()
	srv.AddUserToken("glpat-recorded-secret", gitlabtest.UserToken{Scopes: []string{"api"}})
	api := gitlab.New(srv.URL)
	ctx := context.Background()
	_, _ = api.Token(ctx, "glpat-recorded-secret")
	_, _ = api.Verify(ctx, "glrt-recorded-secret")
	if n := len(requestsCarrying(srv.Requests(), "glpat-recorded-secret")); n != 1 {
		t.Errorf("PRIVATE-TOKEN seen in %d request(s), want 1", n)
	}
	if n := len(requestsCarrying(srv.Requests(), "glrt-recorded-secret")); n != 1 {
		t.Errorf("runner token seen in %d request body(ies), want 1", n)
	}
}
