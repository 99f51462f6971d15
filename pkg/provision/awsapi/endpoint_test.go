package awsapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The EC2 query protocol's answers: a success, and an error with its code.
const (
	ec2OK   = `<Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>1</requestId></Response>`
	ec2Fail = `<Response><Errors><Error><Code>%s</Code><Message>from the test</Message></Error></Errors><RequestID>1</RequestID></Response>`
)

// fakeEndpoint stands in for AWS and counts the calls of each action (an
// EC2 Action, or "METHOD /path" for REST services such as S3).
type fakeEndpoint struct {
	mu     sync.Mutex
	calls  map[string]int
	agents map[string]string // the last User-Agent of each action
}

func (f *fakeEndpoint) count(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[action]
}

func (f *fakeEndpoint) agent(action string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.agents[action]
}

// newEndpoint starts the fake and returns the configuration LoadAWSConfig
// builds against it (static credentials, no shared files). answer writes
// each reply, given the action and how many of it came before (0 first).
func newEndpoint(t *testing.T, o AWSOptions, answer func(w http.ResponseWriter, action string, n int)) (*fakeEndpoint, aws.Config) {
	t.Helper()
	f := &fakeEndpoint{calls: map[string]int{}, agents: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		action := r.Form.Get("Action")
		if action == "" {
			action = r.Method + " " + r.URL.Path
		}
		f.mu.Lock()
		n := f.calls[action]
		f.calls[action]++
		f.agents[action] = r.Header.Get("User-Agent")
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		answer(w, action, n)
	}))
	t.Cleanup(srv.Close)
	isolateAWSEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	if o.Region == "" {
		o.Region = "eu-west-1"
	}
	cfg, err := LoadAWSConfig(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return f, cfg
}

// isolateAWSEnv keeps the machine's AWS settings out of a test.
func isolateAWSEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
