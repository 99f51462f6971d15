// Package gitlab is the small part of GitLab's REST API the tool uses:
// checking a runner authentication token, creating and deleting the runner
// record, and reading its status. Errors never contain a token.
package gitlab

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
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
	// ErrInsufficientScope: GitLab knows the token but it lacks the scope
	// the endpoint needs (403 with "insufficient_scope").
	ErrInsufficientScope = errors.New("the GitLab token lacks a required scope")
)

// API talks to one GitLab instance.
type API struct {
	baseURL string
	http    *http.Client
}

// New returns an API for the GitLab at baseURL (e.g. https://gitlab.example.com).
func New(baseURL string) *API {
	return &API{baseURL: strings.TrimRight(baseURL, "/"), http: newHTTPClient()}
}

// newHTTPClient is the HTTP client every request to GitLab goes through.
//
// It follows no redirect. Go's client drops Authorization on a redirect to
// another host but keeps custom headers such as PRIVATE-TOKEN, and on 307
// and 308 it sends the body (with a runner token in it) again: a redirect
// would hand both tokens to whoever the Location names. The 3xx answer is
// returned as it is instead (http.ErrUseLastResponse), classify turns it
// into a RedirectError, and the retry policy does not retry it since it
// is neither a transport error nor a 429 or 5xx.
//
// TLS below 1.2 is refused: the tokens must not cross a connection that
// can be downgraded to a broken protocol version.
func newHTTPClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	return &http.Client{
		Timeout:   20 * time.Second,
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
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
// valid and returns when it expires (zero: it does not). No system_id is
// sent: with one, GitLab would register a runner manager as a side effect.
func (a *API) VerifyRunnerToken(ctx context.Context, token string) (time.Time, error) {
	v, err := a.Verify(ctx, token)
	return v.ExpiresAt, err
}

// VerifiedRunner is GitLab's answer to /runners/verify.
type VerifiedRunner struct {
	ID        int64
	ExpiresAt time.Time // zero: never
}

// Verify is VerifyRunnerToken with the runner's id as well.
func (a *API) Verify(ctx context.Context, token string) (VerifiedRunner, error) {
	c, err := a.client("", true)
	if err != nil {
		return VerifiedRunner{}, err
	}
	req, err := c.NewRequest(http.MethodPost, "runners/verify", &gl.VerifyRegisteredRunnerOptions{Token: &token}, []gl.RequestOptionFunc{gl.WithContext(ctx)})
	if err != nil {
		return VerifiedRunner{}, fmt.Errorf("verify the runner token: %w", err)
	}
	var out struct {
		ID             int64      `json:"id"`
		TokenExpiresAt *time.Time `json:"token_expires_at"`
	}
	resp, err := c.Do(req, &out)
	if err := a.classify("verify the runner token", resp, err, ErrTokenRejected); err != nil {
		return VerifiedRunner{}, err
	}
	v := VerifiedRunner{ID: out.ID}
	if out.TokenExpiresAt != nil {
		v.ExpiresAt = *out.TokenExpiresAt
	}
	return v, nil
}

// AccessToken describes a personal, group or project access token.
type AccessToken struct {
	Scopes    []string
	ExpiresAt time.Time // zero: never
}

// Has reports whether the token holds scope, directly or through api,
// which GitLab accepts in place of every narrower scope.
func (t AccessToken) Has(scope string) bool {
	return slices.Contains(t.Scopes, scope) || slices.Contains(t.Scopes, "api")
}

// Token reads GET /personal_access_tokens/self, which GitLab answers for
// any valid token whatever its scopes ("Personal access tokens API", get
// details of the token used in the request). GET /user would need
// read_user, read_api or api, which a create_runner token does not have.
func (a *API) Token(ctx context.Context, token string) (AccessToken, error) {
	c, err := a.client(token, false)
	if err != nil {
		return AccessToken{}, err
	}
	t, resp, err := c.PersonalAccessTokens.GetSinglePersonalAccessToken(gl.WithContext(ctx))
	if err := a.classify("check GITLAB_TOKEN", resp, err, ErrUnauthorized); err != nil {
		return AccessToken{}, err
	}
	out := AccessToken{Scopes: t.Scopes}
	if t.ExpiresAt != nil {
		out.ExpiresAt = time.Time(*t.ExpiresAt)
	}
	return out, nil
}

// RunnerSpec is what a new runner record looks like.
type RunnerSpec struct {
	RunnerType  string
	GroupID     int64
	ProjectID   int64
	Description string
	TagList     []string
	RunUntagged *bool // nil: GitLab's default (true)
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
		RunUntagged: spec.RunUntagged,
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
// (it rejects it at /runners/verify too) counts as deleted. The token goes in the JSON body: the client library
// would put a DELETE's parameters in the query string, which proxies and
// load balancers write to their logs.
func (a *API) DeleteRunnerByToken(ctx context.Context, token string) error {
	c, err := a.client("", true)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]string{"token": token})
	if err != nil {
		return err
	}
	req, err := c.NewRequest(http.MethodDelete, "runners", nil, []gl.RequestOptionFunc{gl.WithContext(ctx), func(r *retryablehttp.Request) error {
		r.Header.Set("Content-Type", "application/json")
		return r.SetBody(body)
	}})
	if err != nil {
		return fmt.Errorf("delete the runner: %w", err)
	}
	resp, err := c.Do(req, nil)
	err = a.classify("delete the runner", resp, err, ErrTokenRejected)
	switch {
	case err == nil || errors.Is(err, ErrNotFound):
		return nil
	case !errors.Is(err, ErrTokenRejected):
		return err
	}
	// 401/403 may be GitLab saying the token is unknown (the runner is
	// gone) or something in front of GitLab refusing the request. Only
	// GitLab's own verdict on the token counts: it must reject it too.
	if _, verr := a.VerifyRunnerToken(ctx, token); !errors.Is(verr, ErrTokenRejected) {
		if verr == nil {
			return fmt.Errorf("%w, yet GitLab still accepts the token: the runner was not deleted", err)
		}
		return fmt.Errorf("%w; checking the token again failed too: %w", err, verr)
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
// happened, with GitLab's own message (GitLab's messages name fields and
// rules, never the token sent) and never a request body.
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
	if isRedirect(resp.StatusCode) {
		return a.redirectError(what, resp)
	}
	msg := gitlabMessage(err)
	said := ""
	if msg != "" {
		said = fmt.Sprintf(", GitLab says %q", msg)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusForbidden && strings.Contains(msg, "insufficient_scope"):
		return fmt.Errorf("%s: HTTP 403%s: %w", what, said, ErrInsufficientScope)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%s: HTTP %d%s: %w", what, code, said, forbidden)
	case code == http.StatusNotFound:
		return fmt.Errorf("%s: HTTP 404: %w", what, ErrNotFound)
	case code == http.StatusGone:
		return fmt.Errorf("%s: HTTP 410 (expired)%s: %w", what, said, forbidden)
	default:
		return &Error{What: what, URL: a.baseURL, Status: code, Message: msg}
	}
}

// isRedirect reports whether code is one Go's client would follow.
func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// RedirectError is a redirect GitLab (or something in front of it)
// answered with; the tool does not follow it, see newHTTPClient.
type RedirectError struct {
	What, URL string
	Status    int
	// Location is where the redirect points, with no user info, query or
	// fragment: those may carry secrets and are no part of gitlab.url.
	Location string
	// Suggested is the gitlab.url the Location implies (the part before
	// /api/v4/); empty when the Location is not a GitLab API address.
	Suggested string
}

func (e *RedirectError) Error() string {
	fix := "set gitlab.url to the address GitLab answers on"
	if e.Suggested != "" {
		fix += fmt.Sprintf(" (probably %s)", e.Suggested)
	}
	return fmt.Sprintf("%s: GitLab at %s answered with a redirect (HTTP %d) to %s, which provision does not follow because it would send the token there: %s", e.What, e.URL, e.Status, e.Location, fix)
}

// redirectError describes a 3xx answer. A missing or unreadable Location
// still makes an error: the request was not answered either way.
func (a *API) redirectError(what string, resp *gl.Response) error {
	e := &RedirectError{What: what, URL: a.baseURL, Status: resp.StatusCode, Location: "an address it did not give"}
	loc, err := resp.Location()
	if err != nil {
		return e
	}
	loc.User, loc.RawQuery, loc.ForceQuery, loc.Fragment, loc.RawFragment = nil, "", false, "", ""
	e.Location = tokenShape.ReplaceAllString(loc.String(), "[redacted]")
	if base, _, found := strings.Cut(loc.Path, "/api/v4/"); found {
		suggested := url.URL{Scheme: loc.Scheme, Host: loc.Host, Path: base}
		e.Suggested = tokenShape.ReplaceAllString(suggested.String(), "[redacted]")
	}
	return e
}

// Error is an answer GitLab gave that the tool has no name for; it carries
// GitLab's message, which usually says what to change.
type Error struct {
	What, URL string
	Status    int
	Message   string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s at %s: HTTP %d", e.What, e.URL, e.Status)
	}
	return fmt.Sprintf("%s at %s: HTTP %d, GitLab says %q", e.What, e.URL, e.Status, e.Message)
}

// gitlabMessage is GitLab's message from an error body, shortened, and
// with anything shaped like a token blanked out in case a proxy in front
// of GitLab echoes the request.
func gitlabMessage(err error) string {
	var er *gl.ErrorResponse
	if !errors.As(err, &er) || er.Message == "" {
		return ""
	}
	m := tokenShape.ReplaceAllString(er.Message, "[redacted]")
	if len(m) > 300 {
		m = m[:300] + "..."
	}
	return m
}

var tokenShape = regexp.MustCompile(`gl[a-z]{2,4}-[A-Za-z0-9_.-]{8,}`)
