package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/provision-dev/provision/pkg/provision/awstest"
)

const stateURL = "s3://team-state/runners/net.json"

// makeStateBucket makes the team's versioned state bucket in the emulator.
func makeStateBucket(t *testing.T, h *harness) *s3.Client {
	t.Helper()
	ctx := context.Background()
	c := s3.NewFromConfig(awsConfig(h.moto.URL), func(o *s3.Options) { o.UsePathStyle = true })
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("team-state"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}})
	must(t, err)
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("team-state"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	must(t, err)
	return c
}

func objectExists(t *testing.T, c *s3.Client, key string) bool {
	_, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("team-state"), Key: aws.String(key)})
	return err == nil
}

var lockID = regexp.MustCompile(`force-unlock ([0-9a-f-]{36})`)

// Two ups at once on one S3 state: exactly one proceeds, the other names
// the holder. A killed holder leaves its lock: force-unlock, and up
// continues where the killed run stopped.
func TestS3StateLock(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := makeStateBucket(t, h)
	h.writeConfig(baseConfig + "state:\n  s3: {bucket: team-state, key: runners/net.json}\n")

	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = h.run("up", "--auto-approve")
		}()
	}
	wg.Wait()
	ok, locked := 0, 0
	for _, r := range results {
		switch {
		case r.code == 0:
			ok++
		case strings.Contains(r.stderr, "is locked by") && strings.Contains(r.stderr, "force-unlock"):
			locked++
		default:
			t.Errorf("an up neither ran nor was locked out:\n%s", r)
		}
	}
	if ok != 1 || locked != 1 {
		t.Fatalf("%d ups ran and %d were locked out, want 1 and 1", ok, locked)
	}
	if !objectExists(t, c, "runners/net.json") || objectExists(t, c, "runners/net.json.lock") {
		t.Fatalf("after up: the state must be in S3 and the lock gone")
	}

	// A stale serial is refused on S3 as on a local file.
	pulled := h.mustRun(0, "state", "pull")
	var doc map[string]any
	must(t, json.Unmarshal([]byte(pulled.stdout), &doc))
	doc["serial"] = float64(1)
	stale, _ := json.Marshal(doc)
	file := filepath.Join(h.dir, "stale.json")
	must(t, os.WriteFile(file, stale, 0o600))
	if r := h.run("state", "push", file); r.code == 0 || !strings.Contains(r.stderr, "refusing to go back") {
		t.Errorf("a stale serial was pushed to S3:\n%s", r)
	}

	// Killed while holding the lock.
	h.killAfter(3)
	if r := h.run("down", "--auto-approve"); r.code == 0 {
		t.Fatalf("down was not killed")
	}
	h.killAfter(0)
	r := h.run("down", "--auto-approve")
	m := lockID.FindStringSubmatch(r.stderr)
	if r.code == 0 || m == nil {
		t.Fatalf("a second down must be locked out and name the lock id:\n%s", r)
	}
	// The killed run was on this host and its process is gone: the
	// message says so, and that force-unlock is safe.
	if !strings.Contains(r.stderr, "process is gone") || !strings.Contains(r.stderr, "force-unlock "+m[1]+"` is safe") {
		t.Errorf("the lock of the killed run does not say its holder is gone:\n%s", r)
	}
	if bad := h.run("force-unlock", "00000000-0000-0000-0000-000000000000"); bad.code == 0 {
		t.Errorf("force-unlock with the wrong id released the lock")
	}
	h.mustRun(0, "force-unlock", m[1])
	h.mustRun(0, "down", "--auto-approve")
	if objectExists(t, c, "runners/net.json") || len(h.tagged("net")) > 0 {
		t.Fatalf("down left the state or resources behind")
	}
}

// state pull/push refuse a stale serial and another lineage; migrate moves
// a local state to S3 and back.
func TestStateCommandsAndMigration(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := makeStateBucket(t, h)
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")

	pulled := h.mustRun(0, "state", "pull")
	var doc map[string]any
	must(t, json.Unmarshal([]byte(pulled.stdout), &doc))
	file := filepath.Join(h.dir, "pulled.json")
	doc["serial"] = float64(1)
	stale, _ := json.Marshal(doc)
	must(t, os.WriteFile(file, stale, 0o600))
	if r := h.run("state", "push", file); r.code == 0 || !strings.Contains(r.stderr, "refusing to go back") {
		t.Errorf("a stale serial was pushed:\n%s", r)
	}
	doc["lineage"] = "00000000-1111-2222-3333-444444444444"
	doc["serial"] = float64(1000)
	other, _ := json.Marshal(doc)
	must(t, os.WriteFile(file, other, 0o600))
	if r := h.run("state", "push", file); r.code == 0 || !strings.Contains(r.stderr, "different states") {
		t.Errorf("another lineage was pushed:\n%s", r)
	}
	if l := h.mustRun(0, "state", "list"); !strings.Contains(l.stdout, "vpc") || !strings.Contains(l.stdout, "instance/manager") {
		t.Errorf("state list:\n%s", l.stdout)
	}
	if sh := h.mustRun(0, "state", "show", "vpc"); !strings.Contains(sh.stdout, `"id": "vpc-`) {
		t.Errorf("state show vpc:\n%s", sh.stdout)
	}

	// Local to S3: the local file goes, later runs name the S3 state.
	h.mustRun(0, "state", "migrate", "--to", stateURL)
	if _, err := os.Stat(h.statePath("net")); !os.IsNotExist(err) {
		t.Errorf("the local state survives the migration")
	}
	if !objectExists(t, c, "runners/net.json") {
		t.Fatalf("the state is not in S3")
	}
	// The stack now lives in S3: the local default refuses to touch it.
	if r := h.run("up", "--auto-approve"); r.code == 0 || !strings.Contains(r.stderr, "keeps its state at "+stateURL) {
		t.Errorf("an up with the old local state was not refused:\n%s", r)
	}
	h.mustRun(0, "--state", stateURL, "plan", "--detailed-exitcode")
	// And back.
	h.mustRun(0, "--state", stateURL, "state", "migrate", "--to", h.statePath("net"))
	if objectExists(t, c, "runners/net.json") {
		t.Errorf("the S3 state survives the migration back")
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.mustRun(0, "down", "--auto-approve")
}

// A second copy of the configuration in another directory finds the live
// stack, but may not change it: its state lives elsewhere.
func TestSecondStateLocationIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.mustRun(0, "up", "--auto-approve")
	other := filepath.Join(h.dir, "copy")
	must(t, os.MkdirAll(other, 0o755))
	data, err := os.ReadFile(filepath.Join(h.dir, "provision.yaml"))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(other, "provision.yaml"), data, 0o644))
	var r result
	calls := h.countMutating(func() { r = h.run("-c", filepath.Join(other, "provision.yaml"), "up", "--auto-approve") })
	if r.code == 0 || !strings.Contains(r.stderr, "keeps its state at") || !strings.Contains(r.stderr, "--adopt") || len(calls) != 0 {
		t.Fatalf("a second state location was not refused (calls %v):\n%s", calls, r)
	}
	if r := h.run("-c", filepath.Join(other, "provision.yaml"), "down", "--auto-approve"); r.code == 0 {
		t.Fatalf("down from a second state location was not refused:\n%s", r)
	}
	// On purpose: the copy takes the stack over.
	h.mustRun(0, "-c", filepath.Join(other, "provision.yaml"), "up", "--auto-approve", "--adopt")
	if r := h.run("up", "--auto-approve"); r.code == 0 {
		t.Errorf("the first location may no longer change the stack:\n%s", r)
	}
	h.mustRun(0, "-c", filepath.Join(other, "provision.yaml"), "down", "--auto-approve")
}

// A lost answer (the write took effect, the answer was a 500) on the lock
// and on a state write: the run retries, recognises its own lock, and
// finishes.
func TestS3StateLostAnswers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := makeStateBucket(t, h)
	h.writeConfig(baseConfig + "state:\n  s3: {bucket: team-state, key: runners/net.json}\n")
	var lockLost, stateLost atomic.Bool
	h.proxy.SetFault(func(w http.ResponseWriter, r *http.Request, action string, n int) (bool, bool) {
		switch {
		case action == "PutObject" && r.URL.Path == "/team-state/runners/net.json.lock" && lockLost.CompareAndSwap(false, true):
			return false, true
		case action == "PutObject" && r.URL.Path == "/team-state/runners/net.json" && stateLost.CompareAndSwap(false, true):
			return false, true
		}
		return false, false
	})
	h.mustRun(0, "up", "--auto-approve")
	h.proxy.SetFault(nil)
	if !lockLost.Load() || !stateLost.Load() {
		t.Fatalf("the faults did not strike: lock %v, state %v", lockLost.Load(), stateLost.Load())
	}
	if objectExists(t, c, "runners/net.json.lock") {
		t.Errorf("the lock survives the run")
	}
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.mustRun(0, "down", "--auto-approve")
}

// Every S3 call of the state names the caller's account as the bucket's
// owner, and a 409 ConditionalRequestConflict (another conditional write
// in flight) on the lock and on the state is retried.
func TestS3StateBucketOwnerAndConflicts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := makeStateBucket(t, h)
	h.writeConfig(baseConfig + "state:\n  s3: {bucket: team-state, key: runners/net.json}\n")
	lock := awstest.ConditionalConflict("/team-state/runners/net.json.lock", 2)
	doc := awstest.ConditionalConflict("/team-state/runners/net.json", 2)
	h.proxy.SetFault(func(w http.ResponseWriter, r *http.Request, action string, n int) (bool, bool) {
		if handled, _ := lock(w, r, action, n); handled {
			return true, false
		}
		return doc(w, r, action, n)
	})
	h.proxy.Reset()
	h.mustRun(0, "up", "--auto-approve")
	h.proxy.SetFault(nil)
	conflicts, s3Calls := 0, 0
	for _, call := range h.proxy.Calls() {
		if call.Service != "s3" {
			continue // the state is the only S3 this configuration uses
		}
		s3Calls++
		if call.Status == -1 {
			conflicts++
		}
		if call.ExpectedBucketOwner != awstest.EmulatorAccount {
			t.Errorf("%s went without the bucket owner %s (sent %q)", call.Action, awstest.EmulatorAccount, call.ExpectedBucketOwner)
		}
	}
	if conflicts != 4 || s3Calls < 8 {
		t.Fatalf("%d conflicts answered among %d S3 calls, want 4 among many", conflicts, s3Calls)
	}
	if !objectExists(t, c, "runners/net.json") || objectExists(t, c, "runners/net.json.lock") {
		t.Fatalf("after up: the state must be in S3 and the lock gone")
	}
	h.mustRun(0, "down", "--auto-approve")
}

// A state bucket that belongs to another account than the caller's is
// refused before anything is written, naming the account.
func TestS3StateBucketOfAnotherAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c := makeStateBucket(t, h)
	h.writeConfig(baseConfig + "state:\n  s3: {bucket: team-state, key: runners/net.json}\n")
	// Credentials of a role in another account: moto answers
	// GetCallerIdentity with that account, and the bucket is the
	// emulator's.
	out, err := sts.NewFromConfig(awsConfig(h.moto.URL)).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::111111111111:role/ci"), RoleSessionName: aws.String("e2e")})
	must(t, err)
	h.env = append(h.env, "AWS_ACCESS_KEY_ID="+aws.ToString(out.Credentials.AccessKeyId),
		"AWS_SECRET_ACCESS_KEY="+aws.ToString(out.Credentials.SecretAccessKey), "AWS_SESSION_TOKEN="+aws.ToString(out.Credentials.SessionToken))
	r := h.run("up", "--auto-approve")
	if r.code == 0 || !strings.Contains(r.stderr, "another account than 111111111111") {
		t.Fatalf("a state bucket of another account was not refused:\n%s", r)
	}
	if objectExists(t, c, "runners/net.json.lock") || objectExists(t, c, "runners/net.json") {
		t.Fatalf("something was written to a bucket of another account")
	}
}

// The proxy makes the emulator's conditional writes atomic as S3's are:
// of several writers racing to create one object with If-None-Match: *,
// exactly one succeeds. moto alone checks and then writes with no lock
// between: under CI's load two lock takers both got 200 (the state lock
// test failed once so); on an idle machine the window is too small for
// this test to see, so it guards the rule rather than reproducing the race.
func TestS3ConditionalCreateRace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	makeStateBucket(t, h)
	c := s3.NewFromConfig(awsConfig(h.proxy.URL), func(o *s3.Options) { o.UsePathStyle = true })
	for round := range 10 {
		key := "race/" + string(rune('a'+round)) + ".lock"
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("team-state"), Key: aws.String(key),
					Body: strings.NewReader("holder"), IfNoneMatch: aws.String("*")})
				if err == nil {
					won.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := won.Load(); n != 1 {
			t.Fatalf("round %d: %d writers created %s, want exactly 1", round, n, key)
		}
	}
}
