package ops

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// runnerAsked is the runner ids whose details gl was asked for.
func runnerAsked(gl *gitlabtest.Server) []string {
	var out []string
	for _, r := range gl.Requests() {
		if r.Method == "GET" {
			out = append(out, r.URL)
		}
	}
	return out
}

// RunnerOnline asks nothing without GITLAB_TOKEN, else about gitlab/runner, the recorded id, or the token's.
func TestRunnerOnlineAsksAboutTheStacksRunner(t *testing.T) {
	l := upLive(t, nil)
	gl := l.gitlabWith(t, true, time.Time{}) // the parameter's token: runner 101
	other := gl.AddRunner("glrt-another")
	gl.AddUserToken("glpat-reader", gitlabtest.UserToken{Scopes: gitlabtest.RunnerScopes})
	ctx := context.Background()

	if st, err := RunnerOnline(ctx, l.e); st != "" || err != nil || len(gl.Requests()) != 0 {
		t.Errorf("without GITLAB_TOKEN: %q %v, %d requests", st, err, len(gl.Requests()))
	}
	l.e.Secrets.GitLabToken = stack.NewSecret("glpat-reader")

	st, err := RunnerOnline(ctx, l.e)
	if err != nil || st != "never_contacted" || fmt.Sprint(runnerAsked(gl)) != "[/api/v4/runners/101]" {
		t.Errorf("from the parameter's token: %q %v, asked %v", st, err, runnerAsked(gl))
	}

	tok := l.e.Ledger.Get(string(stack.StepToken))
	tok.Attributes["gitlab_runner_id"] = fmt.Sprint(other)
	if err := l.e.Ledger.Put(string(stack.StepToken), tok); err != nil {
		t.Fatal(err)
	}
	if _, err := RunnerOnline(ctx, l.e); err != nil || fmt.Sprint(runnerAsked(gl)[1:]) != fmt.Sprintf("[/api/v4/runners/%d]", other) {
		t.Errorf("recorded at preflight: %v, asked %v", err, runnerAsked(gl))
	}

	if err := l.e.Ledger.Put(string(stack.StepGitLabRunner), &state.Resource{Type: "gitlab_runner", ID: "101", Status: state.StatusCreated}); err != nil {
		t.Fatal(err)
	}
	if _, err := RunnerOnline(ctx, l.e); err != nil || fmt.Sprint(runnerAsked(gl)[2:]) != "[/api/v4/runners/101]" {
		t.Errorf("created by gitlab/runner: %v, asked %v", err, runnerAsked(gl))
	}
}

// RunnerOnline with a parameter token GitLab rejects is an error, not a status.
func TestRunnerOnlineRejectedToken(t *testing.T) {
	l := upLive(t, nil)
	gl := l.gitlabWith(t, false, time.Time{})
	gl.AddUserToken("glpat-reader", gitlabtest.UserToken{Scopes: gitlabtest.RunnerScopes})
	l.e.Secrets.GitLabToken = stack.NewSecret("glpat-reader")
	if st, err := RunnerOnline(context.Background(), l.e); err == nil || st != "" {
		t.Errorf("rejected token: %q %v", st, err)
	}
}
