// Package gitlab is the small part of GitLab's REST API the tool uses:
// checking a runner authentication token, creating and deleting the runner
// record, and reading its status. Errors never contain a token.
package gitlab

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// RunnerTokenPrefix starts every runner authentication token.
const RunnerTokenPrefix = "glrt-"

// Errors the caller tells the person about.
var (
	ErrTokenRejected = errors.New("GitLab rejected the runner authentication token")
	ErrUnreachable   = errors.New("GitLab cannot be reached")
	ErrUnauthorized  = errors.New("GitLab rejected GITLAB_TOKEN")
	ErrNotFound      = errors.New("not found in GitLab")
)

// API talks to one GitLab instance.
type API struct {
	baseURL string
	http    *http.Client
}

// New returns an API for the GitLab at baseURL (e.g. https://gitlab.example.com).
func New(baseURL string) *API {
	return &API{baseURL: strings.TrimRight(baseURL, "/"), http: &http.Client{Timeout: 20 * time.Second}}
}

func (a *API) client(token string, runnerAuth bool) (*gl.Client, error) {
	opts := []gl.ClientOptionFunc{gl.WithBaseURL(a.baseURL + "/api/v4"), gl.WithHTTPClient(a.http), gl.WithCustomRetryMax(2)}
	if runnerAuth {
		// Runner endpoints authenticate with the token in the body.
		token = ""
	}
	c, err := gl.NewClient(token, opts...)
	if err != nil {
		return nil, fmt.Errorf("GitLab client for %s: %w", a.baseURL, err)
	}
	return c, nil
}

// VerifyRunnerToken asks GitLab whether a runner authentication token is
// valid. No system_id is sent: with one, GitLab would register a runner
// manager as a side effect.
func (a *API) VerifyRunnerToken(ctx context.Context, token string) error {
	c, err := a.client("", true)
	if err != nil {
		return err
	}
	resp, err := c.Runners.VerifyRegisteredRunner(&gl.VerifyRegisteredRunnerOptions{Token: &token}, gl.WithContext(ctx))
	return a.classify("verify the runner token", resp, err, ErrTokenRejected)
}

// CurrentUser checks that a personal/project/group access token works.
func (a *API) CurrentUser(ctx context.Context, token string) (string, error) {
	c, err := a.client(token, false)
	if err != nil {
		return "", err
	}
	u, resp, err := c.Users.CurrentUser(gl.WithContext(ctx))
	if err := a.classify("check GITLAB_TOKEN", resp, err, ErrUnauthorized); err != nil {
		return "", err
	}
	return u.Username, nil
}

// RunnerSpec is what a new runner record looks like.
type RunnerSpec struct {
	RunnerType  string
	GroupID     int64
	ProjectID   int64
	Description string
	TagList     []string
	RunUntagged bool
}

// CreateRunner creates a runner record (POST /user/runners) and returns its
// id and authentication token, which GitLab shows only this once.
func (a *API) CreateRunner(ctx context.Context, token string, spec RunnerSpec) (int64, string, error) {
	c, err := a.client(token, false)
	if err != nil {
		return 0, "", err
	}
	opt := &gl.CreateUserRunnerOptions{
		RunnerType:  &spec.RunnerType,
		Description: &spec.Description,
		RunUntagged: &spec.RunUntagged,
		TagList:     &spec.TagList,
	}
	switch spec.RunnerType {
	case "group_type":
		opt.GroupID = &spec.GroupID
	case "project_type":
		opt.ProjectID = &spec.ProjectID
	}
	r, resp, err := c.Users.CreateUserRunner(opt, gl.WithContext(ctx))
	if err := a.classify("create the runner", resp, err, ErrUnauthorized); err != nil {
		return 0, "", err
	}
	return r.ID, r.Token, nil
}

// DeleteRunner deletes a runner record by id with a user token; a runner
// that is already gone counts as deleted.
func (a *API) DeleteRunner(ctx context.Context, token string, id int64) error {
	c, err := a.client(token, false)
	if err != nil {
		return err
	}
	resp, err := c.Runners.DeleteRegisteredRunnerByID(id, gl.WithContext(ctx))
	if err := a.classify(fmt.Sprintf("delete runner %d", id), resp, err, ErrUnauthorized); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// DeleteRunnerByToken deletes the runner a runner authentication token
// belongs to; no user token is needed. A token GitLab no longer knows
// counts as deleted.
func (a *API) DeleteRunnerByToken(ctx context.Context, token string) error {
	c, err := a.client("", true)
	if err != nil {
		return err
	}
	resp, err := c.Runners.DeleteRegisteredRunner(&gl.DeleteRegisteredRunnerOptions{Token: &token}, gl.WithContext(ctx))
	if err := a.classify("delete the runner", resp, err, ErrTokenRejected); err != nil && !errors.Is(err, ErrTokenRejected) && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// RunnerStatus returns online, offline, never_contacted or stale.
func (a *API) RunnerStatus(ctx context.Context, token string, id int64) (string, error) {
	c, err := a.client(token, false)
	if err != nil {
		return "", err
	}
	r, resp, err := c.Runners.GetRunnerDetails(id, gl.WithContext(ctx))
	if err := a.classify(fmt.Sprintf("read runner %d", id), resp, err, ErrUnauthorized); err != nil {
		return "", err
	}
	return r.Status, nil
}

// classify turns transport and HTTP failures into errors that say what
// happened and never echo a request body.
func (a *API) classify(what string, resp *gl.Response, err error, forbidden error) error {
	if err == nil {
		return nil
	}
	if resp == nil || resp.Response == nil {
		var uerr interface{ Timeout() bool }
		kind := "connection failed"
		if errors.As(err, &uerr) && uerr.Timeout() {
			kind = "timed out"
		}
		return fmt.Errorf("%s at %s (%s): %w", what, a.baseURL, kind, ErrUnreachable)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%s: HTTP %d: %w", what, code, forbidden)
	case code == http.StatusNotFound:
		return fmt.Errorf("%s: HTTP 404: %w", what, ErrNotFound)
	case code == http.StatusGone:
		return fmt.Errorf("%s: HTTP 410 (expired): %w", what, forbidden)
	default:
		return fmt.Errorf("%s at %s: HTTP %d", what, a.baseURL, code)
	}
}
