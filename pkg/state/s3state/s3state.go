// Package s3state keeps a stack's state document in S3, with a lock that
// holds across machines: a conditional write of KEY.lock that only one run
// can make.
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
	lockID string // the lock this run holds, "" when none
	// retry runs an idempotent call again after a transient failure (the
	// SDK resends writes only when throttled).
	retry func(call func() error) error
}

// New returns the backend; nothing is read until Lock or Load. retry is
// the caller's policy for transient failures of the idempotent writes.
func New(ctx context.Context, client *s3.Client, loc Location, retry func(call func() error) error) *Backend {
	return &Backend{ctx: ctx, client: client, loc: loc, retry: retry}
}

func (b *Backend) Location() string { return b.loc.String() }
func (b *Backend) lockKey() string  { return b.loc.Key + ".lock" }

// Lock writes KEY.lock only if it does not exist (If-None-Match: *); S3
// answers 412 to every other writer, so exactly one run holds it, on any
// machine. A lock outlives a killed holder: `provision force-unlock` ends it.
func (b *Backend) Lock(command string) error {
	host, _ := os.Hostname()
	who := ""
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	h := state.LockHolder{ID: uuid.NewString(), Who: who, PID: os.Getpid(), Host: host, Command: command, Since: time.Now().UTC()}
	body, _ := json.Marshal(h)
	err := b.retry(func() error {
		_, err := b.client.PutObject(b.ctx, &s3.PutObjectInput{
			Bucket: &b.loc.Bucket, Key: aws.String(b.lockKey()), Body: bytes.NewReader(body),
			IfNoneMatch: aws.String("*"), ServerSideEncryption: s3types.ServerSideEncryptionAes256, ContentType: aws.String("application/json"),
		})
		return err
	})
	if isCode(err, "PreconditionFailed", "ConditionalRequestConflict") {
		holder := b.holder()
		if holder != nil && holder.ID == h.ID {
			// An earlier attempt took the lock and its answer was lost.
			b.lockID = h.ID
			return nil
		}
		return &state.LockedError{Path: b.Location(), Holder: holder, Shared: true}
	}
	if err != nil {
		return fmt.Errorf("lock state %s: %w", b.Location(), err)
	}
	b.lockID = h.ID
	return nil
}

// Unlock removes the lock this run holds.
func (b *Backend) Unlock() error {
	if b.lockID == "" {
		return nil
	}
	id := b.lockID
	b.lockID = ""
	if h := b.holder(); h == nil || h.ID != id {
		return nil // someone forced it away
	}
	return b.retry(func() error {
		_, err := b.client.DeleteObject(b.ctx, &s3.DeleteObjectInput{Bucket: &b.loc.Bucket, Key: aws.String(b.lockKey())})
		return err
	})
}

// ForceUnlock removes a lock whose holder died; id must be the lock's.
func (b *Backend) ForceUnlock(id string) error {
	h := b.holder()
	switch {
	case h == nil:
		return fmt.Errorf("state %s is not locked", b.Location())
	case h.ID != id:
		return fmt.Errorf("state %s is locked with id %s, not %s: check the id the locked run printed", b.Location(), h.ID, id)
	}
	_, err := b.client.DeleteObject(b.ctx, &s3.DeleteObjectInput{Bucket: &b.loc.Bucket, Key: aws.String(b.lockKey())})
	if err != nil {
		return fmt.Errorf("remove the lock of %s: %w", b.Location(), err)
	}
	return nil
}

func (b *Backend) holder() *state.LockHolder {
	data, err := b.get(b.lockKey())
	if err != nil || data == nil {
		return nil
	}
	var h state.LockHolder
	if json.Unmarshal(data, &h) != nil {
		return nil
	}
	return &h
}

// Load reads the document; no object gives (nil, nil).
func (b *Backend) Load() (*state.Document, error) {
	data, err := b.get(b.loc.Key)
	if err != nil || data == nil {
		return nil, err
	}
	return state.Decode(b.Location(), "the previous version of the object (bucket versioning)", data)
}

// Save writes the whole document, after checking that the object holds
// the same lineage at an older serial: never overwrite a newer serial or
// another lineage (another run, or another stack's state).
func (b *Backend) Save(d *state.Document) error {
	cur, err := b.Load()
	if err != nil {
		return err
	}
	if cur != nil && cur.Lineage != d.Lineage {
		return fmt.Errorf("state %s holds lineage %s, not this run's %s: refusing to overwrite another state", b.Location(), cur.Lineage, d.Lineage)
	}
	if cur != nil && cur.Serial >= d.Serial {
		return fmt.Errorf("state %s is at serial %d, not older than this run's %d: another run wrote it; refusing to overwrite a newer state", b.Location(), cur.Serial, d.Serial)
	}
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	// The same whole document again after a lost answer is harmless.
	err = b.retry(func() error {
		_, err := b.client.PutObject(b.ctx, &s3.PutObjectInput{
			Bucket: &b.loc.Bucket, Key: &b.loc.Key, Body: bytes.NewReader(append(data, '\n')),
			ServerSideEncryption: s3types.ServerSideEncryptionAes256, ContentType: aws.String("application/json"),
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("write state %s: %w", b.Location(), err)
	}
	return nil
}

// Remove deletes the state object.
func (b *Backend) Remove() error {
	err := b.retry(func() error {
		_, err := b.client.DeleteObject(b.ctx, &s3.DeleteObjectInput{Bucket: &b.loc.Bucket, Key: &b.loc.Key})
		return err
	})
	if err != nil && !isCode(err, "NoSuchKey", "NotFound") {
		return fmt.Errorf("remove state %s: %w", b.Location(), err)
	}
	return nil
}

// Check reports what the bucket lacks: it must exist; versioning is
// recommended (every state version kept) and its absence is a warning.
func (b *Backend) Check() (warning string, err error) {
	v, err := b.client.GetBucketVersioning(b.ctx, &s3.GetBucketVersioningInput{Bucket: &b.loc.Bucket})
	if isCode(err, "NoSuchBucket", "NotFound") {
		return "", fmt.Errorf("state bucket %s does not exist: create it (with versioning: aws s3api create-bucket --bucket %s, then put-bucket-versioning --versioning-configuration Status=Enabled)", b.loc.Bucket, b.loc.Bucket)
	}
	if err != nil {
		return "", fmt.Errorf("read the versioning of state bucket %s: %w", b.loc.Bucket, err)
	}
	if v.Status != s3types.BucketVersioningStatusEnabled {
		return fmt.Sprintf("state bucket %s has no versioning: a bad write cannot be undone; turn it on (aws s3api put-bucket-versioning --bucket %s --versioning-configuration Status=Enabled)", b.loc.Bucket, b.loc.Bucket), nil
	}
	return "", nil
}

func (b *Backend) get(key string) ([]byte, error) {
	out, err := b.client.GetObject(b.ctx, &s3.GetObjectInput{Bucket: &b.loc.Bucket, Key: &key})
	if isCode(err, "NoSuchKey", "NotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", b.loc.Bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", b.loc.Bucket, key, err)
	}
	return data, nil
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
