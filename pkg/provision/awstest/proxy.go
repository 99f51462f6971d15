package awstest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Call is one AWS API call seen by the proxy.
type Call struct {
	Action string // e.g. CreateVpc, AmazonSSM.PutParameter
	Status int
}

// Mutating reports whether the call changes something: every action that
// is not a Describe, Get or List.
func (c Call) Mutating() bool { return IsMutating(c.Action) }

// IsMutating classifies an action name.
func IsMutating(action string) bool {
	if i := strings.LastIndexByte(action, '.'); i >= 0 {
		action = action[i+1:]
	}
	for _, p := range []string{"Describe", "Get", "List"} {
		if strings.HasPrefix(action, p) {
			return false
		}
	}
	return action != ""
}

// Fault decides, per call, whether to answer it differently. Returning
// handled=true means the fault wrote the answer (or dropped the connection)
// and the call never reaches moto.
type Fault func(w http.ResponseWriter, r *http.Request, action string, n int) (handled bool)

// Proxy sits between the tool and moto: it records every call and can
// inject faults.
type Proxy struct {
	URL    string
	server *httptest.Server

	mu    sync.Mutex
	calls []Call
	fault Fault
}

// NewProxy starts a proxy in front of target.
func NewProxy(target string) *Proxy {
	u, _ := url.Parse(target)
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &Proxy{}
	p.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		action := actionOf(r, body)
		p.mu.Lock()
		n := len(p.calls) + 1
		fault := p.fault
		p.mu.Unlock()
		if fault != nil && fault(w, r, action, n) {
			p.record(Call{Action: action, Status: -1})
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		rp.ServeHTTP(rec, r)
		p.record(Call{Action: action, Status: rec.status})
	}))
	p.URL = p.server.URL
	return p
}

func (p *Proxy) record(c Call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, c)
}

// SetFault installs (or with nil removes) a fault.
func (p *Proxy) SetFault(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
}

// Reset forgets the recorded calls.
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = nil
}

// Calls returns the recorded calls.
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// Mutating returns the mutating actions, in call order.
func (p *Proxy) Mutating() []string {
	var out []string
	for _, c := range p.Calls() {
		if c.Mutating() {
			out = append(out, c.Action)
		}
	}
	return out
}

// Counts returns calls per action, sorted by name, for reports.
func (p *Proxy) Counts() map[string]int {
	m := map[string]int{}
	for _, c := range p.Calls() {
		m[c.Action]++
	}
	return m
}

// SortedActions lists the distinct actions seen.
func (p *Proxy) SortedActions() []string {
	var out []string
	for a := range p.Counts() {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Close stops the proxy.
func (p *Proxy) Close() { p.server.Close() }

// actionOf reads the action from a query-protocol form body or from the
// X-Amz-Target header of JSON protocols.
func actionOf(r *http.Request, body []byte) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t
	}
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	if v, err := url.ParseQuery(string(body)); err == nil {
		if a := v.Get("Action"); a != "" {
			return a
		}
	}
	return r.Method + " " + r.URL.Path
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
