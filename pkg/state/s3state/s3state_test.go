package s3state

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/provision-dev/provision/pkg/state"
)

func TestParseLocation(t *testing.T) {
	good := map[string]Location{
		"s3://ci-state/runners/ci.json": {Bucket: "ci-state", Key: "runners/ci.json"},
		"s3://b/k":                      {Bucket: "b", Key: "k"},
	}
	for in, want := range good {
		got, err := ParseLocation(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("%s: %+v %v", in, got, err)
		}
	}
	for _, bad := range []string{"s3://bucket", "s3://bucket/", "https://b/k", "ci-state/k", "s3:///k"} {
		if _, err := ParseLocation(bad); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
}

// backendOf is a backend of the fake's state object with the given
// expected owner; it retries a 5xx as the tool's retry does.
func backendOf(f *fakeS3, owner string) *Backend {
	loc := Location{Bucket: f.bucket, Key: "runners/ci.json"}
	return New(context.Background(), f.client(), loc, owner, retryServerErrors)
}

func retryServerErrors(call func() error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var re *smithyhttp.ResponseError
		if err = call(); !errors.As(err, &re) || re.HTTPStatusCode() < 500 {
			return err
		}
	}
	return err
}

func savedSerial(t *testing.T, f *fakeS3) int64 {
	t.Helper()
	d, err := state.Decode("fake", "", f.object("runners/ci.json"))
	if err != nil {
		t.Fatal(err)
	}
	return d.Serial
}

// Two runs read the same version; the first write wins and the second,
// whose ETag is stale now, is refused with an error naming the problem and
// the fix, leaving the first run's document in place.
func TestSecondWriterWithAStaleVersionIsRefused(t *testing.T) {
	f := newFakeS3(t)
	first, second := backendOf(f, f.owner), backendOf(f, f.owner)
	doc := state.New("ci", "eu-west-1")
	doc.Serial = 1
	must(t, first.Save(doc))

	a, err := first.Load()
	must(t, err)
	b, err := second.Load()
	must(t, err)
	a.Serial, b.Serial = 2, 2
	a.Facts = map[string]string{"writer": "first"}
	b.Facts = map[string]string{"writer": "second"}
	must(t, first.Save(a))
	err = second.Save(b)
	var changed *ChangedError
	if !errors.As(err, &changed) || !strings.Contains(err.Error(), "changed by someone else") || !strings.Contains(err.Error(), "provision plan") {
		t.Fatalf("a stale write was not refused clearly: %v", err)
	}
	if got, _ := state.Decode("fake", "", f.object("runners/ci.json")); got.Facts["writer"] != "first" {
		t.Fatalf("the object holds %v, want the first writer's document", got.Facts)
	}
	if err := second.Remove(); !errors.As(err, &changed) || f.object("runners/ci.json") == nil {
		t.Fatalf("a stale remove was not refused: %v", err)
	}
	// The first writer goes on from its own version.
	a.Serial = 3
	must(t, first.Save(a))
	must(t, first.Remove())
	if f.object("runners/ci.json") != nil {
		t.Fatal("the state survives its remove")
	}
}

// Two runs that both found no state: the first creates it, the second may
// not overwrite it (If-None-Match: *).
func TestFirstWriteDoesNotOverwriteAStateMadeMeanwhile(t *testing.T) {
	f := newFakeS3(t)
	first, second := backendOf(f, f.owner), backendOf(f, f.owner)
	for _, b := range []*Backend{first, second} {
		if d, err := b.Load(); d != nil || err != nil {
			t.Fatalf("empty bucket: %v %v", d, err)
		}
	}
	a, b := state.New("ci", "eu-west-1"), state.New("ci", "eu-west-1")
	a.Serial, b.Serial = 1, 1
	must(t, first.Save(a))
	var changed *ChangedError
	if err := second.Save(b); !errors.As(err, &changed) || !strings.Contains(err.Error(), "no state object") {
		t.Fatalf("a second first write was not refused: %v", err)
	}
	if got, _ := state.Decode("fake", "", f.object("runners/ci.json")); got.Lineage != a.Lineage {
		t.Fatalf("the object holds lineage %s, want the first writer's %s", got.Lineage, a.Lineage)
	}
}

// A run whose lock was forced away and taken by another run may not
// release that other run's lock.
func TestUnlockLeavesALockSomeoneElseTook(t *testing.T) {
	f := newFakeS3(t)
	slow, admin, next := backendOf(f, f.owner), backendOf(f, f.owner), backendOf(f, f.owner)
	must(t, slow.Lock("up"))
	must(t, admin.ForceUnlock(slow.lock.id))
	must(t, next.Lock("up"))
	nextID := next.lock.id
	err := slow.Unlock()
	if err == nil || !strings.Contains(err.Error(), "no longer this run's") || !strings.Contains(err.Error(), nextID) {
		t.Fatalf("releasing a lock someone else took: %v", err)
	}
	if h, _ := next.holder(); h == nil || h.ID != nextID {
		t.Fatalf("the other run's lock is gone: %+v", h)
	}
	must(t, next.Unlock())
	if f.object("runners/ci.json.lock") != nil {
		t.Fatal("the lock survives its holder's unlock")
	}
}

// force-unlock removes only the lock it read: one that changed hands
// meanwhile stays.
func TestForceUnlockLeavesALockThatChangedHands(t *testing.T) {
	f := newFakeS3(t)
	dead, admin := backendOf(f, f.owner), backendOf(f, f.owner)
	must(t, dead.Lock("up"))
	taken := []byte(`{"id":"22222222-2222-2222-2222-222222222222","pid":1,"host":"elsewhere","command":"up","since":"2024-01-01T00:00:00Z"}`)
	f.beforeWrite = func(method, key string) {
		if method == http.MethodDelete {
			f.beforeWrite = nil
			f.setObject(key, taken)
		}
	}
	err := admin.ForceUnlock(dead.lock.id)
	if err == nil || !strings.Contains(err.Error(), "changed while it was being released") {
		t.Fatalf("force-unlock of a lock that changed hands: %v", err)
	}
	if got := f.object("runners/ci.json.lock"); string(got) != string(taken) {
		t.Fatalf("the new lock was removed: %q", got)
	}
}

// 409 ConditionalRequestConflict is retried a few times, then reported.
func TestConditionalRequestConflictIsRetried(t *testing.T) {
	f := newFakeS3(t)
	b := backendOf(f, f.owner)
	f.conflicts = conflictAttempts - 1
	must(t, b.Lock("up"))
	doc := state.New("ci", "eu-west-1")
	doc.Serial = 1
	f.conflicts = conflictAttempts - 1
	must(t, b.Save(doc))
	if savedSerial(t, f) != 1 {
		t.Fatal("the retried write did not land")
	}
	f.conflicts = conflictAttempts
	doc.Serial = 2
	if err := b.Save(doc); err == nil || !strings.Contains(err.Error(), "ConditionalRequestConflict") {
		t.Fatalf("a conflict that outlasts the retries: %v", err)
	}
	if savedSerial(t, f) != 1 {
		t.Fatal("a refused write changed the object")
	}
	f.conflicts = conflictAttempts - 1
	must(t, b.Unlock())
	if f.object("runners/ci.json.lock") != nil {
		t.Fatal("the lock survives its unlock")
	}
}

// Every call names the account expected to own the bucket; a bucket of
// another account is refused before anything is written.
func TestEveryCallNamesTheBucketOwner(t *testing.T) {
	f := newFakeS3(t)
	b := backendOf(f, f.owner)
	if _, err := b.Check(); err != nil {
		t.Fatal(err)
	}
	must(t, b.Lock("up"))
	doc := state.New("ci", "eu-west-1")
	doc.Serial = 1
	must(t, b.Save(doc))
	_, err := b.Load()
	must(t, err)
	must(t, b.Remove())
	must(t, b.Unlock())
	must(t, b.Lock("up"))
	must(t, backendOf(f, f.owner).ForceUnlock(b.lock.id))
	calls := f.recorded()
	if len(calls) < 8 {
		t.Fatalf("only %d calls recorded", len(calls))
	}
	for _, c := range calls {
		if c.Owner != f.owner {
			t.Errorf("%s %s went without ExpectedBucketOwner %s (sent %q)", c.Method, c.Key, f.owner, c.Owner)
		}
	}

	other := backendOf(f, "999999999999")
	if _, err := other.Check(); err == nil || !strings.Contains(err.Error(), "another account than 999999999999") {
		t.Fatalf("a bucket of another account: %v", err)
	}
	if err := other.Lock("up"); err == nil || f.object("runners/ci.json.lock") != nil {
		t.Fatalf("a lock was written to a bucket of another account: %v", err)
	}
}

// A write whose answer was lost is recognised by the retry: the object
// holds exactly what this run wrote.
func TestLostAnswersAreThisRunsOwnWrites(t *testing.T) {
	f := newFakeS3(t)
	b := backendOf(f, f.owner)
	f.loseAnswers = 1
	must(t, b.Lock("up"))
	doc := state.New("ci", "eu-west-1")
	for serial := int64(1); serial <= 2; serial++ {
		doc.Serial = serial
		f.loseAnswers = 1
		must(t, b.Save(doc))
	}
	if savedSerial(t, f) != 2 {
		t.Fatal("the state is not at serial 2")
	}
	f.loseAnswers = 1
	must(t, b.Unlock())
	if f.object("runners/ci.json.lock") != nil {
		t.Fatal("the lock survives its unlock")
	}
}

// A lock left by a process of this host that no longer exists says so,
// and that force-unlock is safe.
func TestLockOfADeadProcessSaysSo(t *testing.T) {
	f := newFakeS3(t)
	host, _ := os.Hostname()
	gone := exec.Command("true")
	must(t, gone.Run())
	holder, _ := json.Marshal(state.LockHolder{ID: "33333333-3333-3333-3333-333333333333", PID: gone.Process.Pid, Host: host, Command: "up"})
	f.setObject("runners/ci.json.lock", holder)
	err := backendOf(f, f.owner).Lock("down")
	var locked *state.LockedError
	if !errors.As(err, &locked) || !locked.HolderGone || !strings.Contains(err.Error(), "process is gone") ||
		!strings.Contains(err.Error(), "`provision force-unlock 33333333-3333-3333-3333-333333333333` is safe") {
		t.Fatalf("the lock of a dead process: %v", err)
	}
	// A live holder is never called gone.
	live, _ := json.Marshal(state.LockHolder{ID: "44444444-4444-4444-4444-444444444444", PID: os.Getpid(), Host: host, Command: "up"})
	f.setObject("runners/ci.json.lock", live)
	if err := backendOf(f, f.owner).Lock("down"); !errors.As(err, &locked) || locked.HolderGone || strings.Contains(err.Error(), "gone") {
		t.Fatalf("the lock of a live process: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
