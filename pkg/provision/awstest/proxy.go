package awstest

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/provision-dev/provision/pkg/provision/awsapi"
)

// Call is one AWS API call seen by the proxy.
type Call struct {
	Action  string // e.g. CreateVpc, AmazonSSM.PutParameter
	Service string // the signing name: ec2, ssm, iam, s3, ...
	Status  int    // -1: a fault answered, the call never reached moto
	// Step is the walk and step that made the call, from the User-Agent
	// ("apply=nat"); "" for calls outside a walk (preflight, the wait
	// for the boot).
	Step string
	// Start is when the call arrived, Took how long it took to answer.
	Start time.Time
	Took  time.Duration
	// NotReady: a rewrite changed the answer to show a resource that is
	// not ready yet (a wait's poll that found nothing to do).
	NotReady bool
	// ExpectedBucketOwner is the account an S3 call named as the bucket's
	// owner ("" when it named none).
	ExpectedBucketOwner string
	// StackTag is the provision:stack tag an EC2 or Auto Scaling call
	// gives what it makes ("" for none): the operator policy allows a
	// creation only with it (aws:RequestTag), which the emulator does not
	// check.
	StackTag string
}

// IAMAction is the call as an IAM policy names it: ssm:PutParameter.
func (c Call) IAMAction() string {
	action := c.Action
	if i := strings.LastIndexByte(action, '.'); i >= 0 {
		action = action[i+1:]
	}
	if a, ok := s3IAMActions[action]; ok && c.Service == "s3" {
		action = a
	}
	return c.Service + ":" + action
}

// s3IAMActions are the S3 operations whose permission has another name
// ("Actions, resources, and condition keys for Amazon S3" in the Service
// Authorization Reference).
var s3IAMActions = map[string]string{
	"HeadBucket":                      "ListBucket",
	"ListObjectsV2":                   "ListBucket",
	"HeadObject":                      "GetObject",
	"DeleteObjects":                   "DeleteObject",
	"GetPublicAccessBlock":            "GetBucketPublicAccessBlock",
	"PutPublicAccessBlock":            "PutBucketPublicAccessBlock",
	"GetBucketEncryption":             "GetEncryptionConfiguration",
	"PutBucketEncryption":             "PutEncryptionConfiguration",
	"GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
	"PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
}

// Mutating reports whether the call changes something: every action that
// is not a Describe, Get or List.
func (c Call) Mutating() bool { return IsMutating(c.Action) }

// IsMutating classifies an action name, e.g. CreateVpc or
// AmazonSSM.PutParameter, as provision itself does.
func IsMutating(action string) bool {
	if i := strings.LastIndexByte(action, '.'); i >= 0 {
		action = action[i+1:]
	}
	return awsapi.IsMutatingOperation(action)
}

// Fault decides, per call, whether to answer it differently. handled: the
// fault wrote the answer (or dropped the connection) and the call never
// reaches moto. loseAnswer: the call reaches moto, and its answer is
// replaced by a 500.
type Fault func(w http.ResponseWriter, r *http.Request, action string, n int) (handled, loseAnswer bool)

// AfterAnswer runs once moto has answered a call, before the answer goes
// back; mutating counts the mutating calls answered so far (this one
// included, when it is one).
type AfterAnswer func(c Call, mutating int)

// Proxy sits between the tool and moto: it records every call and can
// inject faults.
type Proxy struct {
	URL    string
	server *httptest.Server

	mu       sync.Mutex
	calls    []Call
	mutating int
	fault    Fault
	after    AfterAnswer
	rewrite  Rewrite
	// actions are the IAM actions of every call since the start (Reset
	// does not forget them).
	actions map[string]bool
	// untagged counts, by IAM action, the calls since the start that gave
	// no provision:stack tag (Reset does not forget them either).
	untagged map[string]int
	// objects serialises conditional writes of one S3 object (see
	// conditionalWrite).
	objects sync.Map
	// terminateOnShutdown are the instances set to terminate when they
	// power off (see shutdownBehavior).
	terminateOnShutdown sync.Map
	// logKeys are the log groups' keys (see logKeys).
	logKeys logKeys
}

// shutdownBehavior notes an instance set to terminate on power-off:
// moto accepts ModifyInstanceAttribute's InstanceInitiatedShutdownBehavior
// but keeps answering "stop", so the proxy remembers it for the stand-in
// of the manager (which powers off after a drain) to act as EC2 would.
func (p *Proxy) shutdownBehavior(action string, body []byte) {
	if action != "ModifyInstanceAttribute" {
		return
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return
	}
	if id := v.Get("InstanceId"); id != "" && v.Get("InstanceInitiatedShutdownBehavior.Value") == "terminate" {
		p.terminateOnShutdown.Store(id, true)
	}
}

// TerminatesOnShutdown reports whether the instance was set (through the
// proxy) to terminate when it powers off.
func (p *Proxy) TerminatesOnShutdown(id string) bool {
	_, ok := p.terminateOnShutdown.Load(id)
	return ok
}

// conditionalWrite holds, for a conditional S3 write (If-Match or
// If-None-Match on a PUT or DELETE of an object), the lock of that object
// until moto has answered, and returns its release; other calls get a
// no-op. S3 makes a conditional write atomic: of two writers racing with
// If-None-Match: *, one gets 200 and the other 412 (the S3 user guide,
// "conditional writes"). moto checks the condition and then writes with
// no lock between, so two racing lock takers both got 200 and the state
// lock test failed now and then; serialising them here gives the answers
// S3 gives.
func (p *Proxy) conditionalWrite(r *http.Request) func() {
	if r.Method != http.MethodPut && r.Method != http.MethodDelete {
		return func() {}
	}
	if r.Header.Get("If-Match") == "" && r.Header.Get("If-None-Match") == "" {
		return func() {}
	}
	m, _ := p.objects.LoadOrStore(r.URL.Path, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// Untagged counts, by IAM action, every call since the start that gave
// no provision:stack tag to what it made.
func (p *Proxy) Untagged() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.untagged)
}

// Actions lists the IAM actions of every call the proxy has seen.
func (p *Proxy) Actions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.actions))
	for a := range p.actions {
		out = append(out, a)
	}
	return out
}

// Rewrite changes moto's answer to a call before it goes back, to show
// what AWS would (a resource that takes its time, say).
type Rewrite func(c Call, body []byte) []byte

// SetRewrite installs (or with nil removes) a rewrite of answers.
func (p *Proxy) SetRewrite(f Rewrite) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rewrite = f
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
		stackTag := ""
		if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Version") != "" {
			r.Header.Set("X-Provision-Version", v.Get("Version"))
			stackTag = requestStackTag(v)
		} else {
			stackTag = jsonStackTag(body)
		}
		start := time.Now()
		step := stepOf(r)
		owner := r.Header.Get(expectedOwnerHeader)
		if refuseForeignBucket(w, r) {
			p.record(Call{Action: action, Service: serviceOf(r), Status: http.StatusForbidden, Step: step, Start: start, Took: time.Since(start), ExpectedBucketOwner: owner})
			return
		}
		p.mu.Lock()
		n := len(p.calls) + 1
		fault, after, rewrite := p.fault, p.after, p.rewrite
		p.mu.Unlock()
		lose := false
		if fault != nil {
			var handled bool
			if handled, lose = fault(w, r, action, n); handled {
				p.record(Call{Action: action, Service: serviceOf(r), Status: -1, Step: step, Start: start, Took: time.Since(start), ExpectedBucketOwner: owner})
				return
			}
		}
		r.Header.Del("X-Provision-Version")
		if refuseLargeUserData(w, r, action, body) || refuseLargeParameter(w, r, action, body) {
			p.record(Call{Action: action, Service: serviceOf(r), Status: http.StatusBadRequest, Step: step, Start: start, Took: time.Since(start), StackTag: stackTag})
			return
		}
		if p.logKeys.answer(w, action, body) || answerPriceList(w, r, action, body) {
			p.record(Call{Action: action, Service: serviceOf(r), Status: http.StatusOK, Step: step, Start: start, Took: time.Since(start), StackTag: stackTag})
			return
		}
		buf := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		release := p.conditionalWrite(r)
		rp.ServeHTTP(buf, r)
		release()
		if action == "DescribeLaunchTemplates" && buf.status == http.StatusOK {
			fixed := fixLaunchTemplateTags(target, regionOf(r), buf.body.Bytes())
			buf.body.Reset()
			buf.body.Write(fixed)
			fixContentLength(buf)
		}
		notReady := false
		if rewrite != nil && buf.status == http.StatusOK {
			changed := rewrite(Call{Action: action, Service: serviceOf(r), Step: step, Start: start}, buf.body.Bytes())
			notReady = !bytes.Equal(changed, buf.body.Bytes())
			buf.body.Reset()
			buf.body.Write(changed)
			fixContentLength(buf)
		}
		if buf.status == http.StatusOK {
			p.shutdownBehavior(action, body)
			p.logKeys.seen(action, body)
			if fixed := p.logKeys.rewrite(action, buf.body.Bytes()); !bytes.Equal(fixed, buf.body.Bytes()) {
				buf.body.Reset()
				buf.body.Write(fixed)
				fixContentLength(buf)
			}
		}
		c := Call{Action: action, Service: serviceOf(r), Status: buf.status, Step: step, Start: start, Took: time.Since(start), NotReady: notReady, ExpectedBucketOwner: owner, StackTag: stackTag}
		count := p.record(c)
		if after != nil {
			after(c, count)
		}
		if lose {
			writeError(w, r, http.StatusInternalServerError, "InternalError", "An internal error has occurred")
			return
		}
		buf.copyTo(w)
	}))
	p.URL = p.server.URL
	return p
}

// requestStackTag finds the provision:stack tag a query-protocol call
// gives: EC2's TagSpecification.N.Tag.M.Key/Value, Auto Scaling's
// Tags.member.N.Key/Value.
func requestStackTag(v url.Values) string {
	for key, vals := range v {
		if len(vals) == 0 || vals[0] != "provision:stack" {
			continue
		}
		switch {
		case strings.HasPrefix(key, "TagSpecification.") && strings.HasSuffix(key, ".Key"),
			strings.HasPrefix(key, "Tags.member.") && strings.HasSuffix(key, ".Key"):
			return v.Get(strings.TrimSuffix(key, ".Key") + ".Value")
		}
	}
	return ""
}

// jsonStackTag finds the provision:stack tag a JSON-protocol call gives
// (KMS's Tags: [{TagKey, TagValue}], CloudWatch Logs' tags: {KEY: VALUE}).
func jsonStackTag(body []byte) string {
	var logs struct {
		Tags map[string]string `json:"tags"`
	}
	if json.Unmarshal(body, &logs) == nil && logs.Tags["provision:stack"] != "" {
		return logs.Tags["provision:stack"]
	}
	var in struct {
		Tags []struct{ TagKey, TagValue string }
	}
	if json.Unmarshal(body, &in) != nil {
		return ""
	}
	for _, t := range in.Tags {
		if t.TagKey == "provision:stack" {
			return t.TagValue
		}
	}
	return ""
}

// record stores a call and returns the number of mutating calls so far.
func (p *Proxy) record(c Call) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, c)
	if p.actions == nil {
		p.actions = map[string]bool{}
	}
	p.actions[c.IAMAction()] = true
	if c.StackTag == "" && c.Status != -1 {
		if p.untagged == nil {
			p.untagged = map[string]int{}
		}
		p.untagged[c.IAMAction()]++
	}
	if c.Mutating() && c.Status != -1 {
		p.mutating++
	}
	return p.mutating
}

// SetAfterAnswer installs (or with nil removes) the hook run after moto
// answered a call.
func (p *Proxy) SetAfterAnswer(f AfterAnswer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.after = f
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
	p.mutating = 0
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
	return s3Operation(r)
}

// s3Operation names an S3 REST call (path-style, as the tool sends it to
// the emulator) as the S3 API reference does: by method, whether a key is
// given, and the bucket subresource in the query.
func s3Operation(r *http.Request) string {
	_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	if key != "" {
		switch r.Method {
		case http.MethodGet:
			return "GetObject"
		case http.MethodPut:
			return "PutObject"
		case http.MethodDelete:
			return "DeleteObject"
		case http.MethodHead:
			return "HeadObject"
		}
		return r.Method + " " + r.URL.Path
	}
	for _, sub := range []struct{ query, get, put string }{
		{"versioning", "GetBucketVersioning", "PutBucketVersioning"},
		{"tagging", "GetBucketTagging", "PutBucketTagging"},
		{"publicAccessBlock", "GetPublicAccessBlock", "PutPublicAccessBlock"},
		{"encryption", "GetBucketEncryption", "PutBucketEncryption"},
		{"ownershipControls", "GetBucketOwnershipControls", "PutBucketOwnershipControls"},
		{"lifecycle", "GetBucketLifecycleConfiguration", "PutBucketLifecycleConfiguration"},
	} {
		if q.Has(sub.query) {
			if r.Method == http.MethodGet {
				return sub.get
			}
			return sub.put
		}
	}
	switch {
	case r.Method == http.MethodPost && q.Has("delete"):
		return "DeleteObjects"
	case r.Method == http.MethodHead:
		return "HeadBucket"
	case r.Method == http.MethodGet:
		return "ListObjectsV2"
	case r.Method == http.MethodPut:
		return "CreateBucket"
	case r.Method == http.MethodDelete:
		return "DeleteBucket"
	}
	return r.Method + " " + r.URL.Path
}

// serviceOf reads the service from a request's SigV4 credential scope.
func serviceOf(r *http.Request) string {
	if scope := credentialScope(r); len(scope) > 3 {
		return scope[3]
	}
	return ""
}

// stepOf reads the step field the tool appends to its User-Agent.
func stepOf(r *http.Request) string {
	for _, f := range strings.Fields(r.Header.Get("User-Agent")) {
		if s, ok := strings.CutPrefix(f, awsapi.StepAgentPrefix); ok {
			return s
		}
	}
	return ""
}

// credentialScope splits Credential=KEY/DATE/REGION/SERVICE/aws4_request.
func credentialScope(r *http.Request) []string {
	auth := r.Header.Get("Authorization")
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return nil
	}
	cred, _, _ := strings.Cut(auth[i+len("Credential="):], ",")
	return strings.Split(cred, "/")
}

// bufferedResponse holds moto's answer until the hooks have run.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(code int)        { b.status = code }

func (b *bufferedResponse) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes())
}

// regionOf reads the region from a request's SigV4 credential scope.
func regionOf(r *http.Request) string {
	if scope := credentialScope(r); len(scope) > 2 {
		return scope[2]
	}
	return "us-east-1"
}
