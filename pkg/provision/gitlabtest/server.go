// Package gitlabtest is a small GitLab API server for tests: the endpoints
// provision calls, with their success and failure answers.
package gitlabtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// Runner is a runner record the server knows.
type Runner struct {
	ID          int64
	Token       string
	Description string
	Status      string
	RunnerType  string
	TagList     []string
}

// Server is the fake GitLab.
type Server struct {
	*httptest.Server

	mu           sync.Mutex
	userTokens   map[string]bool
	runners      map[int64]*Runner
	nextID       int64
	verifyCalls  int
	createCalls  int
	deletedByID  []int64
	deletedByTok int
}

// New starts a server that accepts the given user (personal access) tokens.
func New(userTokens ...string) *Server {
	s := &Server{userTokens: map[string]bool{}, runners: map[int64]*Runner{}, nextID: 100}
	for _, t := range userTokens {
		s.userTokens[t] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v4/runners/verify", s.verify)
	mux.HandleFunc("DELETE /api/v4/runners", s.deleteByToken)
	mux.HandleFunc("POST /api/v4/user/runners", s.createRunner)
	mux.HandleFunc("GET /api/v4/runners/{id}", s.getRunner)
	mux.HandleFunc("DELETE /api/v4/runners/{id}", s.deleteRunner)
	mux.HandleFunc("GET /api/v4/user", s.currentUser)
	s.Server = httptest.NewServer(mux)
	return s
}

// AddRunner registers a runner with a known token (as if created in the UI).
func (s *Server) AddRunner(token string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.runners[s.nextID] = &Runner{ID: s.nextID, Token: token, Status: "never_contacted", RunnerType: "instance_type"}
	return s.nextID
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

func (s *Server) userOK(r *http.Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := r.Header.Get("PRIVATE-TOKEN")
	if t == "" {
		t = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	return s.userTokens[t]
}

// param reads a field from a JSON or form body.
func param(r *http.Request, name string) string {
	body, _ := io.ReadAll(r.Body)
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
		reply(w, http.StatusOK, map[string]any{"id": rr.ID, "token": token})
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

func (s *Server) createRunner(w http.ResponseWriter, r *http.Request) {
	if !s.userOK(r) {
		reply(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req struct {
		RunnerType  string   `json:"runner_type"`
		Description string   `json:"description"`
		TagList     []string `json:"tag_list"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.RunnerType == "" {
		reply(w, http.StatusBadRequest, map[string]string{"error": "runner_type is missing"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.createCalls++
	s.nextID++
	rr := &Runner{ID: s.nextID, Token: fmt.Sprintf("glrt-created%dsecretvalue", s.nextID), Description: req.Description, Status: "never_contacted", RunnerType: req.RunnerType, TagList: req.TagList}
	s.runners[rr.ID] = rr
	reply(w, http.StatusCreated, map[string]any{"id": rr.ID, "token": rr.Token, "token_expires_at": nil})
}

func (s *Server) getRunner(w http.ResponseWriter, r *http.Request) {
	if !s.userOK(r) {
		reply(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
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

func (s *Server) deleteRunner(w http.ResponseWriter, r *http.Request) {
	if !s.userOK(r) {
		reply(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
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

func (s *Server) currentUser(w http.ResponseWriter, r *http.Request) {
	if !s.userOK(r) {
		reply(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		return
	}
	reply(w, http.StatusOK, map[string]any{"id": 1, "username": "admin"})
}
