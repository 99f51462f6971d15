package stack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/resource"
)

// cacheBucketKind is the jobs' shared cache (cache.s3): a bucket of the stack,
// encrypted (SSE-S3), with every kind of public access blocked and object
// ownership enforced for the bucket owner (ACLs off), whose objects expire
// after cache.expire_days. gitlab-runner on the manager signs the cache's
// URLs with its instance role (AuthenticationType iam), which may read and
// write this bucket's objects and nothing else; down empties and deletes it.
type cacheBucketKind struct{ env *Env }

// bucket is what find read of the bucket.
type bucket struct {
	name       string
	tags       map[string]string
	blocked    bool // all four public access blocks on
	encrypted  bool
	ownerOnly  bool // BucketOwnerEnforced
	expireDays int  // 0: no expiry rule of ours
}

// bucketFix: the settings to put back.
type bucketFix struct{ block, encrypt, owner, lifecycle bool }

func newCacheBucketStep(env *Env) plan.Step {
	return resource.NewStep[*bucket, bucketFix](env.shared(), "s3-bucket", cacheBucketKind{env})
}

func (k cacheBucketKind) StepID() plan.ID  { return StepCache }
func (k cacheBucketKind) Needs() []plan.ID { return nil }

// CacheBucketName is the bucket's name: bucket names are global, so the
// account and region are in it, hashed to keep it under 63 characters.
func (e *Env) CacheBucketName() string {
	sum := sha256.Sum256([]byte(e.Account.Account + "/" + e.Region + "/" + e.Cfg.Stack))
	return e.Cfg.Stack + "-cache-" + hex.EncodeToString(sum[:])[:12]
}

// Hooks names the optional parts of resource.Step this kind has.
func (k cacheBucketKind) Hooks() resource.Hooks[*bucket, bucketFix] {
	return resource.Hooks[*bucket, bucketFix]{Tags: k.tagsOf, Retag: k.retag}
}

func (k cacheBucketKind) Describe() plan.Change {
	return plan.Change{Step: StepCache, Kind: "s3-bucket", Name: k.env.CacheBucketName(), Attrs: []plan.Attr{
		{Key: "encryption", Value: "SSE-S3"}, {Key: "public_access", Value: "blocked"},
		{Key: "expire_days", Value: fmt.Sprint(k.env.Cfg.Cache.ExpireDays)},
	}}
}

// Find reads the bucket by its name. A bucket of that name the stack did
// not make is a conflict, except one this stack began to create (a crash
// between CreateBucket and its tags).
func (k cacheBucketKind) Find(ctx context.Context) (resource.Found[*bucket], error) {
	name := k.env.CacheBucketName()
	_, err := k.env.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(name)})
	switch {
	case s3Code(err) == "NotFound" || s3Code(err) == "NoSuchBucket":
		return resource.Found[*bucket]{}, nil
	case s3Code(err) == "Forbidden":
		return resource.Found[*bucket]{}, fmt.Errorf("%s: the bucket name %s belongs to another account: choose another stack name", StepCache, name)
	case err != nil:
		return resource.Found[*bucket]{}, fmt.Errorf("read bucket %s: %w", name, err)
	}
	b := &bucket{name: name, tags: map[string]string{}}
	tags, err := k.env.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(name)})
	if err != nil && s3Code(err) != "NoSuchTagSet" {
		return resource.Found[*bucket]{}, fmt.Errorf("read the tags of bucket %s: %w", name, err)
	}
	if err == nil {
		for _, t := range tags.TagSet {
			b.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	creating := k.env.Ledger.Get(string(StepCache)) != nil
	if (b.tags[TagStack] != k.env.Cfg.Stack || b.tags[TagStep] != string(StepCache)) && !creating {
		return resource.Found[*bucket]{}, fmt.Errorf("%s: a bucket named %s exists that stack %s did not create: delete it, or choose another stack name", StepCache, name, k.env.Cfg.Stack)
	}
	if err := k.readSettings(ctx, b); err != nil {
		return resource.Found[*bucket]{}, err
	}
	return resource.Found[*bucket]{Cur: b, Exists: true}, nil
}

// readSettings reads what diff compares; a setting never made reads as
// off (S3 answers such reads with an error code of its own).
func (k cacheBucketKind) readSettings(ctx context.Context, b *bucket) error {
	name := aws.String(b.name)
	pab, err := k.env.S3.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: name})
	if err != nil && s3Code(err) != "NoSuchPublicAccessBlockConfiguration" {
		return fmt.Errorf("read the public access block of %s: %w", b.name, err)
	}
	if c := pabConfig(pab); c != nil {
		b.blocked = aws.ToBool(c.BlockPublicAcls) && aws.ToBool(c.BlockPublicPolicy) && aws.ToBool(c.IgnorePublicAcls) && aws.ToBool(c.RestrictPublicBuckets)
	}
	enc, err := k.env.S3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: name})
	if err != nil && s3Code(err) != "ServerSideEncryptionConfigurationNotFoundError" {
		return fmt.Errorf("read the encryption of %s: %w", b.name, err)
	}
	b.encrypted = err == nil && enc.ServerSideEncryptionConfiguration != nil && len(enc.ServerSideEncryptionConfiguration.Rules) > 0
	own, err := k.env.S3.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: name})
	if err != nil && s3Code(err) != "OwnershipControlsNotFoundError" {
		return fmt.Errorf("read the object ownership of %s: %w", b.name, err)
	}
	if err == nil && own.OwnershipControls != nil {
		for _, r := range own.OwnershipControls.Rules {
			b.ownerOnly = b.ownerOnly || r.ObjectOwnership == s3types.ObjectOwnershipBucketOwnerEnforced
		}
	}
	lc, err := k.env.S3.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: name})
	if err != nil && s3Code(err) != "NoSuchLifecycleConfiguration" {
		return fmt.Errorf("read the lifecycle of %s: %w", b.name, err)
	}
	if err == nil {
		for _, r := range lc.Rules {
			if aws.ToString(r.ID) == expiryRule && r.Status == s3types.ExpirationStatusEnabled && r.Expiration != nil {
				b.expireDays = int(aws.ToInt32(r.Expiration.Days))
			}
		}
	}
	return nil
}

func pabConfig(out *s3.GetPublicAccessBlockOutput) *s3types.PublicAccessBlockConfiguration {
	if out == nil {
		return nil
	}
	return out.PublicAccessBlockConfiguration
}

// expiryRule names the stack's lifecycle rule.
const expiryRule = "provision-expire-cache"

func (k cacheBucketKind) Record(b *bucket) resource.Recorded { return resource.Recorded{ID: b.name} }

func (k cacheBucketKind) Diff(_ context.Context, b *bucket) (bucketFix, []string, error) {
	var f bucketFix
	var rs []string
	if !b.blocked {
		f.block = true
		rs = append(rs, "block every kind of public access")
	}
	if !b.encrypted {
		f.encrypt = true
		rs = append(rs, "encrypt objects (SSE-S3)")
	}
	if !b.ownerOnly {
		f.owner = true
		rs = append(rs, "enforce the bucket owner's ownership (no ACLs)")
	}
	if want := k.env.Cfg.Cache.ExpireDays; b.expireDays != want {
		f.lifecycle = true
		rs = append(rs, fmt.Sprintf("expire objects after %d days", want))
	}
	return f, rs, nil
}

func (k cacheBucketKind) Create(ctx context.Context, _ string, _ resource.Found[*bucket]) (*bucket, bucketFix, error) {
	name := k.env.CacheBucketName()
	in := &s3.CreateBucketInput{Bucket: aws.String(name), ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}
	// us-east-1 takes no location constraint; every other region must be named.
	if k.env.Region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(k.env.Region)}
	}
	_, err := k.env.S3.CreateBucket(ctx, in)
	if err != nil && s3Code(err) != "BucketAlreadyOwnedByYou" {
		return nil, bucketFix{}, awsapi.RetryableCreate(fmt.Errorf("create bucket %s: %w", name, err))
	}
	b := &bucket{name: name, tags: map[string]string{}}
	// Tags first: they are how down --discover finds the bucket.
	if err := k.putTags(ctx, b, k.env.tagMap(StepCache, "cache")); err != nil {
		return nil, bucketFix{}, err
	}
	return b, bucketFix{block: true, encrypt: true, owner: true, lifecycle: true}, nil
}

func (k cacheBucketKind) Update(ctx context.Context, b *bucket, f bucketFix) error {
	name := aws.String(b.name)
	if f.block {
		on := aws.Bool(true)
		if _, err := k.env.S3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: name, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: on, BlockPublicPolicy: on, IgnorePublicAcls: on, RestrictPublicBuckets: on}}); err != nil {
			return fmt.Errorf("block public access to %s: %w", b.name, err)
		}
	}
	if f.encrypt {
		if _, err := k.env.S3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: name, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
			Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}}); err != nil {
			return fmt.Errorf("encrypt %s: %w", b.name, err)
		}
	}
	if f.owner {
		if _, err := k.env.S3.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: name, OwnershipControls: &s3types.OwnershipControls{
			Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}}); err != nil {
			return fmt.Errorf("enforce the owner of %s: %w", b.name, err)
		}
	}
	if f.lifecycle {
		// Incomplete uploads (an interrupted job's) are removed after a day.
		if _, err := k.env.S3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: name, LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{
			Rules: []s3types.LifecycleRule{{
				ID: aws.String(expiryRule), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
				Expiration:                     &s3types.LifecycleExpiration{Days: aws.Int32(int32(k.env.Cfg.Cache.ExpireDays))},
				AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)},
			}}}}); err != nil {
			return fmt.Errorf("set the expiry of %s: %w", b.name, err)
		}
	}
	return nil
}

// Remove empties the bucket (in batches of 1000, the most DeleteObjects
// takes; the bucket is never versioned, so deleting a key deletes it) and
// deletes it.
func (k cacheBucketKind) Remove(ctx context.Context, b *bucket) error {
	name := aws.String(b.name)
	p := s3.NewListObjectsV2Paginator(k.env.S3, &s3.ListObjectsV2Input{Bucket: name})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if s3Code(err) == "NoSuchBucket" {
			return nil
		}
		if err != nil {
			return awsapi.RetryableDelete(fmt.Errorf("list the objects of %s: %w", b.name, err))
		}
		var ids []s3types.ObjectIdentifier
		for _, o := range page.Contents {
			ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
		}
		if len(ids) == 0 {
			continue
		}
		if _, err := k.env.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: name, Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}}); err != nil {
			return awsapi.RetryableDelete(fmt.Errorf("empty %s: %w", b.name, err))
		}
	}
	if _, err := k.env.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: name}); err != nil && s3Code(err) != "NoSuchBucket" {
		return awsapi.RetryableDelete(fmt.Errorf("delete bucket %s: %w", b.name, err))
	}
	return nil
}

func (k cacheBucketKind) tagsOf(_ context.Context, b *bucket) (map[string]string, error) {
	return maps.Clone(b.tags), nil
}

// retag: S3 replaces a bucket's whole tag set, so the others' tags are
// written back with the change.
func (k cacheBucketKind) retag(ctx context.Context, b *bucket, c resource.TagChange) error {
	tags := maps.Clone(b.tags)
	maps.Copy(tags, c.Set)
	for _, key := range c.Remove {
		delete(tags, key)
	}
	return k.putTags(ctx, b, tags)
}

func (k cacheBucketKind) putTags(ctx context.Context, b *bucket, tags map[string]string) error {
	set := tagList(tags, func(k, v string) s3types.Tag { return s3types.Tag{Key: aws.String(k), Value: aws.String(v)} })
	if _, err := k.env.S3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String(b.name), Tagging: &s3types.Tagging{TagSet: set}}); err != nil {
		return awsapi.RetryableCreate(fmt.Errorf("tag bucket %s: %w", b.name, err))
	}
	b.tags = tags
	return nil
}

// s3Code is an S3 error's code ("" for none); HeadBucket's errors have no
// body, so its codes are NotFound and Forbidden.
func s3Code(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
