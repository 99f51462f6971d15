// Package gitlabtest is a small GitLab API server for tests: the endpoints
// provision calls, with their success and failure answers. It is as strict
// as GitLab where GitLab refuses things: each endpoint asks for the token
// scopes GitLab's API documentation lists for it (403 insufficient_scope
// otherwise), a runner with no tags must be allowed to run untagged jobs,
// and errors come back in GitLab's JSON shapes.
package gitlabtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Runner is a runner record the server knows.
type Runner struct {
	ID          int64
	Token       string
	Description string
	Status      string
	RunnerType  string
	TagList     []string
	ExpiresAt   time.Time // zero: the token does not expire
}

// Server is the fake GitLab.
type Server struct {
	*httptest.Server

	mu           sync.Mutex
	userTokens   map[string]UserToken
	runners      map[int64]*Runner
	nextID       int64
	verifyCalls  int
	createCalls  int
	deletedByID  []int64
	deletedByTok int
	runnerExpiry time.Time // given to runners created from now on
	tokensInURL  int
	requests     []Request
	redirect     redirect
}

// Request is one request the server received, as it arrived.
type Request struct {
	Method string
	URL    string // path and query
	Header http.Header
	Body   string
}

// redirect is how the server answers every request when RedirectTo was
// called: with status and a Location under target.
type redirect struct {
	target string
	status int
}

// UserToken is a personal (or group/project) access token GitLab knows.
type UserToken struct {
	Scopes    []string
	ExpiresAt string // YYYY-MM-DD; empty: never
}

// Scopes a test token commonly holds.
var (
	// RunnerScopes is the least a token needs to create, read and delete runners.
	RunnerScopes = []string{"create_runner", "manage_runner"}
)

// New starts a server that knows no user tokens; AddUserToken adds them.
func New() *Server {
	s := &Server{userTokens: map[string]UserToken{}, runners: map[int64]*Runner{}, nextID: 100}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v4/runners/verify", s.verify)
	mux.HandleFunc("DELETE /api/v4/runners", s.deleteByToken)
	mux.HandleFunc("POST /api/v4/user/runners", s.createRunner)
	mux.HandleFunc("GET /api/v4/runners/{id}", s.getRunner)
	mux.HandleFunc("DELETE /api/v4/runners/{id}", s.deleteRunner)
	mux.HandleFunc("GET /api/v4/user", s.currentUser)
	mux.HandleFunc("GET /api/v4/personal_access_tokens/self", s.tokenSelf)
	s.Server = httptest.NewServer(s.record(s.redirectIfAsked(s.noticeTokensInURL(mux))))
	return s
}

// record keeps every request, headers and body included, before anything
// answers it, so that a test can look for tokens in what arrived.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		s.mu.Lock()
		s.requests = append(s.requests, Request{Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), Body: string(body)})
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// RedirectTo makes the server answer every request from now on with
// status (301, 302, 303, 307 or 308) and a Location of target followed by
// the request's path and query, as a GitLab moved to another address
// does. target is often another Server, whose Requests show what a
// client that followed the redirect sent it.
func (s *Server) RedirectTo(target string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.redirect = redirect{target: strings.TrimRight(target, "/"), status: status}
}

func (s *Server) redirectIfAsked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		to := s.redirect
		s.mu.Unlock()
		if to.target == "" {
			next.ServeHTTP(w, r)
			return
		}
		http.Redirect(w, r, to.target+r.URL.RequestURI(), to.status)
	})
}

// noticeTokensInURL counts requests that carry a token in the query
// string, where proxies and load balancers log it.
func (s *Server) noticeTokensInURL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(strings.ToLower(r.URL.RawQuery), "token") {
			s.mu.Lock()
			s.tokensInURL++
			s.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// TokensInURL reports how many requests carried a token in their URL.
func (s *Server) TokensInURL() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokensInURL
}

// SetRunnerTokenExpiry makes the tokens of runners created from now on
// expire at t, as an instance's runner token expiration setting does.
func (s *Server) SetRunnerTokenExpiry(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runnerExpiry = t
}

// expiry is a token expiry as GitLab writes it: RFC 3339, or null.
func expiry(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

// AddUserToken makes GitLab accept token with the given scopes.
func (s *Server) AddUserToken(token string, t UserToken) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userTokens[token] = t
}

// AddRunner registers a runner with a known token (as if created in the UI).
func (s *Server) AddRunner(token string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.runners[s.nextID] = &Runner{ID: s.nextID, Token: token, Status: "never_contacted", RunnerType: "instance_type", ExpiresAt: s.runnerExpiry}
	return s.nextID
}

// ResetToken gives the runner holding old the token renewed, as
// gitlab-runner's token renewal does: old stops working.
func (s *Server) ResetToken(old, renewed string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.runnerByToken(old); r != nil {
		r.Token = renewed
	}
}

// Runners returns a copy of the runner records.
func (s *Server) Runners() []Runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Runner
	for _, r := range s.runners {
		out = append(out, *r)
	}
	return out
}

// Counts reports how often runners were verified and created.
func (s *Server) Counts() (verify, create int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.verifyCalls, s.createCalls
}

// auth answers as GitLab does for a user-token endpoint: 401 for a token
// it does not know, 403 insufficient_scope when the token has none of the
// scopes the endpoint accepts (an empty list: any valid token). It returns
// the token's record when the request may go on.
func (s *Server) auth(w http.ResponseWriter, r *http.Request, scopes ...string) (UserToken, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := r.Header.Get("PRIVATE-TOKEN")
	if t == "" {
		t = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	ut, ok := s.userTokens[t]
	if !ok {
		reply(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		return ut, false
	}
	if len(scopes) == 0 {
		return ut, true
	}
	for _, want := range scopes {
		if slices.Contains(ut.Scopes, want) {
			return ut, true
		}
	}
	reply(w, http.StatusForbidden, map[string]string{
		"error":             "insufficient_scope",
		"error_description": "The request requires higher privileges than provided by the access token.",
		"scope":             strings.Join(scopes, " "),
	})
	return ut, false
}

// param reads a field from a JSON or form body.
func param(r *http.Request, name string) string {
	body, _ := io.ReadAll(r.Body)
	// Put the body back, so that the next param reads it too.
	r.Body = io.NopCloser(bytes.NewReader(body))
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		if v, ok := m[name]; ok {
			return fmt.Sprint(v)
		}
		return ""
	}
	v, _ := url.ParseQuery(string(body))
	if x := v.Get(name); x != "" {
		return x
	}
	return r.URL.Query().Get(name)
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

func (s *Server) runnerByToken(token string) *Runner {
	for _, r := range s.runners {
		if r.Token == token {
			return r
		}
	}
	return nil
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	token := param(r, "token")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verifyCalls++
	if rr := s.runnerByToken(token); rr != nil {
		// With a system_id, as gitlab-runner sends it, GitLab records the
		// runner manager's contact: the runner shows as online.
		if param(r, "system_id") != "" {
			rr.Status = "online"
		}
		reply(w, http.StatusOK, map[string]any{"id": rr.ID, "token": token, "token_expires_at": expiry(rr.ExpiresAt)})
		return
	}
	reply(w, http.StatusForbidden, map[string]string{"message": "403 Forbidden"})
}

func (s *Server) deleteByToken(w http.ResponseWriter, r *http.Request) {
	token := param(r, "token")
	s.mu.Lock()
	defer s.mu.Unlock()
	if rr := s.runnerByToken(token); rr != nil {
		delete(s.runners, rr.ID)
		s.deletedByTok++
		w.WriteHeader(http.StatusNoContent)
		return
	}
	reply(w, http.StatusForbidden, map[string]string{"message": "403 Forbidden"})
}

// createRunner is POST /user/runners: scope create_runner (or api). Like
// GitLab, run_untagged defaults to true, and a runner with no tags that may
// not run untagged jobs is refused with 400.
func (s *Server) createRunner(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.auth(w, r, "create_runner", "api"); !ok {
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req struct {
		RunnerType  string   `json:"runner_type"`
		GroupID     int64    `json:"group_id"`
		ProjectID   int64    `json:"project_id"`
		Description string   `json:"description"`
		TagList     []string `json:"tag_list"`
		RunUntagged *bool    `json:"run_untagged"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.RunnerType == "" {
		reply(w, http.StatusBadRequest, map[string]string{"error": "runner_type is missing, runner_type does not have a valid value"})
		return
	}
	switch {
	case req.RunnerType == "group_type" && req.GroupID == 0:
		reply(w, http.StatusBadRequest, map[string]string{"message": "400 Bad request - group_id is missing"})
		return
	case req.RunnerType == "project_type" && req.ProjectID == 0:
		reply(w, http.StatusBadRequest, map[string]string{"message": "400 Bad request - project_id is missing"})
		return
	case len(req.TagList) == 0 && req.RunUntagged != nil && !*req.RunUntagged:
		reply(w, http.StatusBadRequest, map[string]string{"message": "Tags list can not be empty when runner is not allowed to pick untagged jobs"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.createCalls++
	s.nextID++
	rr := &Runner{ID: s.nextID, Token: fmt.Sprintf("glrt-created%dsecretvalue", s.nextID), Description: req.Description, Status: "never_contacted", RunnerType: req.RunnerType, TagList: req.TagList, ExpiresAt: s.runnerExpiry}
	s.runners[rr.ID] = rr
	reply(w, http.StatusCreated, map[string]any{"id": rr.ID, "token": rr.Token, "token_expires_at": expiry(rr.ExpiresAt)})
}

// getRunner is GET /runners/:id: manage_runner, read_api or api.
func (s *Server) getRunner(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.auth(w, r, "manage_runner", "read_api", "api"); !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	rr, ok := s.runners[id]
	if !ok {
		reply(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
		return
	}
	reply(w, http.StatusOK, map[string]any{"id": rr.ID, "description": rr.Description, "status": rr.Status, "runner_type": rr.RunnerType})
}

// deleteRunner is DELETE /runners/:id: manage_runner or api.
func (s *Server) deleteRunner(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.auth(w, r, "manage_runner", "api"); !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.runners[id]; !ok {
		reply(w, http.StatusNotFound, map[string]string{"message": "404 Not found"})
		return
	}
	delete(s.runners, id)
	s.deletedByID = append(s.deletedByID, id)
	w.WriteHeader(http.StatusNoContent)
}

// currentUser is GET /user: read_user, read_api or api.
func (s *Server) currentUser(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.auth(w, r, "read_user", "read_api", "api"); !ok {
		return
	}
	reply(w, http.StatusOK, map[string]any{"id": 1, "username": "admin"})
}

// tokenSelf is GET /personal_access_tokens/self: any valid token.
func (s *Server) tokenSelf(w http.ResponseWriter, r *http.Request) {
	ut, ok := s.auth(w, r)
	if !ok {
		return
	}
	var exp any
	if ut.ExpiresAt != "" {
		exp = ut.ExpiresAt
	}
	reply(w, http.StatusOK, map[string]any{"id": 7, "name": "provision", "revoked": false, "active": true, "scopes": ut.Scopes, "expires_at": exp})
}
