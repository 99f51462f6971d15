package gitlab_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
)

func TestRunnerLifecycleAgainstTestServer(t *testing.T) {
	srv := gitlabtest.New("glpat-admin")
	defer srv.Close()
	ctx := context.Background()
	api := gitlab.New(srv.URL)

	known := "glrt-known-token-value"
	srv.AddRunner(known)
	if err := api.VerifyRunnerToken(ctx, known); err != nil {
		t.Fatalf("valid token: %v", err)
	}
	err := api.VerifyRunnerToken(ctx, "glrt-unknown-secret")
	if !errors.Is(err, gitlab.ErrTokenRejected) || strings.Contains(err.Error(), "glrt-unknown-secret") {
		t.Fatalf("rejected token: %v", err)
	}
	if _, err := api.CurrentUser(ctx, "glpat-wrong-secret"); !errors.Is(err, gitlab.ErrUnauthorized) || strings.Contains(err.Error(), "glpat-wrong-secret") {
		t.Fatalf("bad user token: %v", err)
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
}

func TestUnreachable(t *testing.T) {
	srv := gitlabtest.New()
	url := srv.URL
	srv.Close()
	err := gitlab.New(url).VerifyRunnerToken(context.Background(), "glrt-secret-value")
	if !errors.Is(err, gitlab.ErrUnreachable) || strings.Contains(err.Error(), "glrt-secret-value") {
		t.Fatalf("err = %v", err)
	}
}
