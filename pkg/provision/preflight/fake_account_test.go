package preflight

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/provision/stack/stacktest"
)

// runnerToken is the runner authentication token the account's GitLab knows.
const runnerToken = "glrt-fake-runner-token"

// account is a healthy AWS account in eu-west-1 over the fakes, with a
// GitLab that accepts runnerToken. A test changes its fields before the
// call under test: the fakes read them at each call.
type account struct {
	*stacktest.Account
	e    *stack.Env
	c    *awsfake.Clients
	gl   *gitlabtest.Server
	logs *observer.ObservedLogs
}

// newAccount is a healthy account whose Env knows nothing yet (no account,
// zone or images: preflight finds them); change adjusts the configuration.
func newAccount(t *testing.T, change func(*config.Config)) *account {
	t.Helper()
	e, c := stacktest.NewEnv(t, change)
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	gl.AddRunner(runnerToken)
	// localhost reaches the stand-in; the fake resolver says GitLab has a
	// public address, as a real one does.
	e.Cfg.GitLab.URL = strings.Replace(gl.URL, "127.0.0.1", "localhost", 1)
	e.GitLab = gitlab.New(e.Cfg.GitLab.URL)
	e.Resolver = fakeResolver{"203.0.113.5"}
	core, logs := observer.New(zapcore.InfoLevel)
	e.Log = zap.New(core)
	e.Account, e.Zone, e.Images = stack.Identity{}, "", stack.Images{}

	a := &account{Account: stacktest.NewAccount(), e: e, c: c, gl: gl, logs: logs}
	a.Answer(c)
	return a
}

// preflight runs Preflight and returns its problems (nil: it passed).
func (a *account) preflight(t *testing.T) []string {
	t.Helper()
	err := Preflight(context.Background(), a.e)
	if err == nil {
		return nil
	}
	pe, ok := err.(*PreflightError)
	if !ok {
		t.Fatalf("Preflight returned %T %v, want a *PreflightError", err, err)
	}
	return pe.Problems
}

// warnings are the messages logged at warning level so far.
func (a *account) warnings() []string {
	var out []string
	for _, l := range a.logs.FilterLevelExact(zapcore.WarnLevel).All() {
		out = append(out, l.Message)
	}
	return out
}

// noWrites fails the test if any call so far would change the account.
func (a *account) noWrites(t *testing.T) {
	t.Helper()
	for _, m := range a.c.Methods() {
		if awsapi.IsMutatingOperation(m) {
			t.Errorf("preflight called %s, which changes the account", m)
		}
	}
}

// called reports whether a call of method was made.
func (a *account) called(method string) bool { return slices.Contains(a.c.Methods(), method) }

// apiError is an AWS error with the given code.
func apiError(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "fake: " + code}
}

// oneContaining finds the problem holding every part; it fails the test
// (listing the problems) when none does.
func oneContaining(t *testing.T, problems []string, parts ...string) {
	t.Helper()
	for _, p := range problems {
		all := true
		for _, part := range parts {
			all = all && strings.Contains(p, part)
		}
		if all {
			return
		}
	}
	t.Errorf("no problem says %q; problems:\n%s", parts, strings.Join(problems, "\n"))
}
