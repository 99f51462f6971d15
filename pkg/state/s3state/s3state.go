// Package s3state keeps a stack's state document in S3, with a lock that
// holds across machines: a conditional write of KEY.lock that only one run
// can make. Every write and delete is conditional on the ETag of the
// version this run knows, and every call names the account expected to
// own the bucket.
package s3state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/uuid"

	"github.com/provision-dev/provision/pkg/state"
)

// Location is an s3://BUCKET/KEY address.
type Location struct{ Bucket, Key string }

func (l Location) String() string { return "s3://" + l.Bucket + "/" + l.Key }

// ParseLocation reads s3://BUCKET/KEY.
func ParseLocation(s string) (Location, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return Location{}, fmt.Errorf("%q is not an S3 state location: write it as s3://BUCKET/KEY, e.g. s3://ci-state/runners/ci-runners.json", s)
	}
	return Location{Bucket: u.Host, Key: strings.TrimPrefix(u.Path, "/")}, nil
}

// Backend is the state in one S3 object.
type Backend struct {
	ctx    context.Context
	client *s3.Client
	loc    Location
	// owner is the account that must own the bucket, sent with every call
	// as ExpectedBucketOwner: S3 refuses the call (403) when another
	// account owns a bucket of that name. "" sends none.
	owner string
	// lock is the lock this run holds (zero when none): its id and the
	// ETag of the lock object it wrote.
	lock held
	// seen is the version of the state object this run last read or
	// wrote (nil before the first Load). Save and Remove are conditional
	// on its ETag, so a version someone else wrote since is never
	// overwritten or deleted.
	seen *version
	// retry runs an idempotent call again after a transient failure (the
	// SDK resends writes only when throttled).
	retry func(call func() error) error
}

// held is a lock this run took: its holder id and the lock object's ETag.
type held struct{ id, etag string }

// version is what this run knows of one version of the state object.
type version struct {
	etag    string // "" when there was no object
	lineage string
	serial  int64
}

// New returns the backend; nothing is read until Lock or Load. owner is
// the account id expected to own the bucket ("" checks none); retry is
// the caller's policy for transient failures.
func New(ctx context.Context, client *s3.Client, loc Location, owner string, retry func(call func() error) error) *Backend {
	return &Backend{ctx: ctx, client: client, loc: loc, owner: owner, retry: retry}
}

func (b *Backend) Location() string { return b.loc.String() }
func (b *Backend) lockKey() string  { return b.loc.Key + ".lock" }

// Lock writes KEY.lock only if it does not exist (If-None-Match: *); S3
// answers 412 to every other writer, so exactly one run holds it, on any
// machine. A lock outlives a killed holder: `provision force-unlock` ends it.
// A retry whose first attempt took the lock but lost its answer finds this
// run's own holder (unique id) there, which put counts as taken.
func (b *Backend) Lock(command string) error {
	host, _ := os.Hostname()
	who := ""
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	h := state.LockHolder{ID: uuid.NewString(), Who: who, PID: os.Getpid(), Host: host, Command: command, Since: time.Now().UTC()}
	body, _ := json.Marshal(h)
	etag, err := b.put(b.lockKey(), body, "")
	if isCode(err, "PreconditionFailed", "ConditionalRequestConflict") {
		holder, _ := b.holder()
		return state.NewLockedError(b.Location(), holder, true)
	}
	if err != nil {
		return fmt.Errorf("lock state %s: %w", b.Location(), err)
	}
	b.lock = held{id: h.ID, etag: etag}
	return nil
}

// Unlock removes the lock this run holds, only if it is still the version
// this run wrote (If-Match): a lock someone else took after a
// force-unlock stays theirs.
func (b *Backend) Unlock() error {
	if b.lock.id == "" {
		return nil
	}
	mine := b.lock
	b.lock = held{}
	err := b.delete(b.lockKey(), mine.etag)
	switch {
	case err == nil, isCode(err, "NoSuchKey", "NotFound"):
		// Gone already: forced away, or an earlier attempt removed it and
		// its answer was lost.
		return nil
	case isCode(err, "PreconditionFailed"):
		holder, _ := b.holder()
		return fmt.Errorf("the lock of state %s is no longer this run's (lock %s): it was released with force-unlock and is now held by %s, so it was left in place. Both runs may have changed the stack: when that run has finished, run `provision plan` to see where it stands", b.Location(), mine.id, describe(holder))
	default:
		return fmt.Errorf("release the lock of state %s: %w", b.Location(), err)
	}
}

// ForceUnlock removes a lock whose holder died; id must be the lock's. The
// delete is conditional on the version read, so a lock that changed hands
// meanwhile is not removed.
func (b *Backend) ForceUnlock(id string) error {
	h, etag := b.holder()
	switch {
	case h == nil:
		return fmt.Errorf("state %s is not locked", b.Location())
	case h.ID != id:
		return fmt.Errorf("state %s is locked with id %s, not %s: check the id the locked run printed", b.Location(), h.ID, id)
	}
	err := b.delete(b.lockKey(), etag)
	switch {
	case err == nil, isCode(err, "NoSuchKey", "NotFound"):
		return nil
	case isCode(err, "PreconditionFailed"):
		now, _ := b.holder()
		return fmt.Errorf("the lock of state %s changed while it was being released (now held by %s): nothing was removed; check who holds it before forcing it", b.Location(), describe(now))
	default:
		return fmt.Errorf("remove the lock of %s: %w", b.Location(), err)
	}
}

// holder reads the lock: its holder and ETag (nil when there is none or it
// cannot be read).
func (b *Backend) holder() (*state.LockHolder, string) {
	data, etag, err := b.get(b.lockKey())
	if err != nil || data == nil {
		return nil, ""
	}
	var h state.LockHolder
	if json.Unmarshal(data, &h) != nil {
		return nil, ""
	}
	return &h, etag
}

func describe(h *state.LockHolder) string {
	if h == nil {
		return "nobody"
	}
	return fmt.Sprintf("lock %s, pid %d on %s (%q, since %s)", h.ID, h.PID, h.Host, h.Command, h.Since.Format(time.RFC3339))
}

// Load reads the document; no object gives (nil, nil). What it read is
// the version later writes are conditional on.
func (b *Backend) Load() (*state.Document, error) {
	data, etag, err := b.get(b.loc.Key)
	if err != nil {
		return nil, err
	}
	if data == nil {
		b.seen = &version{}
		return nil, nil
	}
	d, err := state.Decode(b.Location(), "the previous version of the object (bucket versioning)", data)
	if err != nil {
		return nil, err
	}
	b.seen = &version{etag: etag, lineage: d.Lineage, serial: d.Serial}
	return d, nil
}

// Save writes the whole document over the version this run last read or
// wrote (If-Match its ETag; If-None-Match: * when there was none), and
// only over the same lineage at an older serial. A version someone else
// wrote meanwhile makes S3 refuse the write (412): a *ChangedError.
func (b *Backend) Save(d *state.Document) error {
	if b.seen == nil {
		if _, err := b.Load(); err != nil {
			return err
		}
	}
	if b.seen.etag != "" && b.seen.lineage != d.Lineage {
		return fmt.Errorf("state %s holds lineage %s, not this run's %s: refusing to overwrite another state", b.Location(), b.seen.lineage, d.Lineage)
	}
	if b.seen.etag != "" && b.seen.serial >= d.Serial {
		return fmt.Errorf("state %s is at serial %d, not older than this run's %d: refusing to overwrite a newer state", b.Location(), b.seen.serial, d.Serial)
	}
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	etag, err := b.put(b.loc.Key, append(data, '\n'), b.seen.etag)
	if isCode(err, "PreconditionFailed", "NoSuchKey") {
		// If-Match on an object deleted meanwhile answers 404.
		return b.changed("write")
	}
	if err != nil {
		return fmt.Errorf("write state %s: %w", b.Location(), err)
	}
	b.seen = &version{etag: etag, lineage: d.Lineage, serial: d.Serial}
	return nil
}

// Remove deletes the state object, only if it is still the version this
// run last read or wrote.
func (b *Backend) Remove() error {
	if b.seen == nil {
		if _, err := b.Load(); err != nil {
			return err
		}
	}
	if b.seen.etag == "" {
		return nil // there was none; one made since is not this run's
	}
	err := b.delete(b.loc.Key, b.seen.etag)
	switch {
	case err == nil, isCode(err, "NoSuchKey", "NotFound"):
		// NoSuchKey: removed already (a retry after a lost answer).
		b.seen = &version{}
		return nil
	case isCode(err, "PreconditionFailed"):
		return b.changed("removal")
	default:
		return fmt.Errorf("remove state %s: %w", b.Location(), err)
	}
}

// ChangedError says the state object is no longer the version this run
// read or wrote: someone else wrote or deleted it, and S3 refused to let
// this run overwrite or delete that version.
type ChangedError struct {
	Location string
	Action   string // write, removal
	Knew     string // the version this run knew
	Now      string // what the object holds now
}

func (e *ChangedError) Error() string {
	return fmt.Sprintf("state %s was changed by someone else since this run read it (this run knew %s; %s): this run's %s was refused so as not to overwrite it. Another run wrote it although this run held the lock: was the lock released with `provision force-unlock` while this run was still going? Let the other run finish, then run `provision plan`: what this run made carries the stack's ownership tags and `provision up` adopts it", e.Location, e.Knew, e.Now, e.Action)
}

// changed builds the ChangedError of a refused write, naming what the
// object holds now.
func (b *Backend) changed(action string) error {
	now := "it could not be read again"
	if data, _, err := b.get(b.loc.Key); err == nil && data == nil {
		now = "it has been deleted"
	} else if err == nil {
		if d, err := state.Decode(b.Location(), "", data); err == nil {
			now = fmt.Sprintf("it now holds serial %d of lineage %s", d.Serial, d.Lineage)
		}
	}
	knew := "no state object"
	if b.seen.etag != "" {
		knew = fmt.Sprintf("serial %d", b.seen.serial)
	}
	return &ChangedError{Location: b.Location(), Action: action, Knew: knew, Now: now}
}

// Check reports what the bucket lacks: it must exist; versioning is
// recommended (every state version kept) and its absence is a warning.
func (b *Backend) Check() (warning string, err error) {
	v, err := b.client.GetBucketVersioning(b.ctx, &s3.GetBucketVersioningInput{Bucket: &b.loc.Bucket, ExpectedBucketOwner: b.expectedOwner()})
	if isCode(err, "NoSuchBucket", "NotFound") {
		return "", fmt.Errorf("state bucket %s does not exist: create it (with versioning: aws s3api create-bucket --bucket %s, then put-bucket-versioning --versioning-configuration Status=Enabled)", b.loc.Bucket, b.loc.Bucket)
	}
	if isCode(err, "AccessDenied") && b.owner != "" {
		return "", fmt.Errorf("state bucket %s refused access (%w): either it belongs to another account than %s (these credentials' account, which provision asks S3 to check with every call) or these credentials lack s3:GetBucketVersioning on it; use a bucket of this account, or grant the permission", b.loc.Bucket, err, b.owner)
	}
	if err != nil {
		return "", fmt.Errorf("read the versioning of state bucket %s: %w", b.loc.Bucket, err)
	}
	if v.Status != s3types.BucketVersioningStatusEnabled {
		return fmt.Sprintf("state bucket %s has no versioning: a bad write cannot be undone; turn it on (aws s3api put-bucket-versioning --bucket %s --versioning-configuration Status=Enabled)", b.loc.Bucket, b.loc.Bucket), nil
	}
	return "", nil
}

// get reads an object and its ETag; no object gives (nil, "", nil).
func (b *Backend) get(key string) ([]byte, string, error) {
	out, err := b.client.GetObject(b.ctx, &s3.GetObjectInput{Bucket: &b.loc.Bucket, Key: &key, ExpectedBucketOwner: b.expectedOwner()})
	if isCode(err, "NoSuchKey", "NotFound") {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read s3://%s/%s: %w", b.loc.Bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, "", fmt.Errorf("read s3://%s/%s: %w", b.loc.Bucket, key, err)
	}
	return data, aws.ToString(out.ETag), nil
}

// put writes body to key only over the version with the given ETag
// (If-Match), or only where there is no object when etag is "" (If-None-
// Match: *), and returns the new ETag. A refusal (412) whose object holds
// exactly body is this write's own, made by an attempt whose answer was
// lost: success.
func (b *Backend) put(key string, body []byte, etag string) (string, error) {
	var out *s3.PutObjectOutput
	err := b.send(func() error {
		in := &s3.PutObjectInput{
			Bucket: &b.loc.Bucket, Key: &key, Body: bytes.NewReader(body), ExpectedBucketOwner: b.expectedOwner(),
			ServerSideEncryption: s3types.ServerSideEncryptionAes256, ContentType: aws.String("application/json"),
		}
		if etag == "" {
			in.IfNoneMatch = aws.String("*")
		} else {
			in.IfMatch = &etag
		}
		var err error
		out, err = b.client.PutObject(b.ctx, in)
		return err
	})
	if isCode(err, "PreconditionFailed") {
		if now, nowETag, rerr := b.get(key); rerr == nil && bytes.Equal(now, body) {
			return nowETag, nil
		}
	}
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// delete removes key only while it is the version with the given ETag.
// S3 evaluates If-Match on the current version; with versioning the
// removed version stays recoverable behind a delete marker.
func (b *Backend) delete(key, etag string) error {
	in := &s3.DeleteObjectInput{Bucket: &b.loc.Bucket, Key: &key, ExpectedBucketOwner: b.expectedOwner()}
	if etag != "" {
		// AWS always answers a write with an ETag; an S3-compatible store
		// that does not gets an unconditional delete.
		in.IfMatch = &etag
	}
	return b.send(func() error {
		_, err := b.client.DeleteObject(b.ctx, in)
		return err
	})
}

// Conditional writes that meet another conditional write of the same key
// in flight get 409 ConditionalRequestConflict, and S3's API reference
// (PutObject If-Match/If-None-Match, conditional deletes) asks the caller
// to retry: a few times, with a short growing pause.
const (
	conflictAttempts = 4
	conflictPause    = 100 * time.Millisecond
)

// send makes a write with the caller's retry of transient failures, and
// again after a 409 ConditionalRequestConflict.
func (b *Backend) send(call func() error) error {
	for attempt := 1; ; attempt++ {
		err := b.retry(call)
		if attempt == conflictAttempts || !isCode(err, "ConditionalRequestConflict") {
			return err
		}
		select {
		case <-b.ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * conflictPause):
		}
	}
}

// expectedOwner is the ExpectedBucketOwner of every call (nil: none).
func (b *Backend) expectedOwner() *string {
	if b.owner == "" {
		return nil
	}
	return &b.owner
}

func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}
