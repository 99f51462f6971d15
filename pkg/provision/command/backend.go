package command

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/provision-dev/provision/pkg/provision"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/state"
	"github.com/provision-dev/provision/pkg/state/s3state"
)

// openBackend picks where the state lives: --state (a path or
// s3://BUCKET/KEY), else state.s3 in the configuration, else
// .provision/<stack>.json next to the configuration file.
func openBackend(ctx context.Context, o Options, cfg *config.Config) (state.Backend, error) {
	loc := o.StatePath
	if loc == "" && cfg.State.S3 != nil {
		loc = s3state.Location{Bucket: cfg.State.S3.Bucket, Key: cfg.State.S3.Key}.String()
	}
	if loc == "" {
		loc = filepath.Join(filepath.Dir(o.ConfigPath), ".provision", cfg.Stack+".json")
		// A CI job's directory goes with the job: a state there would
		// be lost, and the next job would plan the stack from nothing.
		if o.CI {
			return nil, fmt.Errorf("CI=true: the state would be the local file %s, which goes with the job (the next job would plan the whole stack anew): put it in S3 (state.s3 in the configuration, see docs/state.md) or, to keep a local file on purpose, name it with --state FILE", loc)
		}
	}
	return backendAt(ctx, o, cfg, loc)
}

// backendAt opens the backend of one location.
func backendAt(ctx context.Context, o Options, cfg *config.Config, loc string) (state.Backend, error) {
	if !strings.HasPrefix(loc, "s3://") {
		return state.NewStore(loc), nil
	}
	where, err := s3state.ParseLocation(loc)
	if err != nil {
		return nil, err
	}
	region := cfg.Region
	if cfg.State.S3 != nil && cfg.State.S3.Region != "" {
		region = cfg.State.S3.Region
	}
	awsCfg, err := awsapi.LoadAWSConfig(ctx, awsapi.AWSOptions{Region: region, Profile: o.Profile, Log: o.Log, Interrupt: o.Interrupt})
	if err != nil {
		return nil, err
	}
	ownEndpoint := awsCfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL") != ""
	client := s3.NewFromConfig(awsCfg, func(so *s3.Options) {
		// With an endpoint of one's own (an S3-compatible store, an
		// emulator) buckets are addressed by path, not by host name.
		so.UsePathStyle = ownEndpoint
	})
	owner, err := bucketOwner(ctx, o, awsCfg, ownEndpoint)
	if err != nil {
		return nil, err
	}
	b := s3state.New(ctx, client, where, owner, func(call func() error) error { return awsapi.RetryTransient(ctx, call) })
	warning, err := b.Check()
	if err != nil {
		return nil, err
	}
	if warning != "" && o.Log != nil {
		o.Log.Warn(warning)
	}
	return b, nil
}

// bucketOwner is the account the state bucket must belong to: the
// caller's, which S3 then checks on every call (ExpectedBucketOwner), so
// the state never goes to a bucket of that name in another account. On
// AWS GetCallerIdentity needs no permission, so its failure means the
// credentials do not work and the run stops here. An S3-compatible store
// at an endpoint of one's own may have no STS and no accounts: there the
// check is left out, with a warning, rather than refusing the store.
func bucketOwner(ctx context.Context, o Options, awsCfg aws.Config, ownEndpoint bool) (string, error) {
	var out *sts.GetCallerIdentityOutput
	err := awsapi.RetryTransient(ctx, func() error {
		var err error
		out, err = sts.NewFromConfig(awsCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	})
	switch {
	case err == nil:
		return aws.ToString(out.Account), nil
	case ownEndpoint:
		if o.Log != nil {
			o.Log.Warn(fmt.Sprintf("the endpoint has no STS (%v): the state bucket's owner is not checked", err))
		}
		return "", nil
	default:
		return "", fmt.Errorf("AWS credentials do not work (STS GetCallerIdentity: %w): configure them with `aws configure`, AWS_PROFILE / --profile, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", err)
	}
}

// stateLocation is how the stack's record names a state: an S3 address,
// or a file on one machine.
func stateLocation(b state.Backend) string {
	loc := b.Location()
	if strings.HasPrefix(loc, "s3://") {
		return loc
	}
	abs, err := filepath.Abs(loc)
	if err != nil {
		abs = loc
	}
	host, _ := os.Hostname()
	return "file://" + host + abs
}

// checkStateRecord refuses to change a stack whose state lives somewhere
// else, unless adopt. It returns the record (nil: none yet).
func (s *session) checkStateRecord(ctx context.Context, adopt bool) (*provision.StateRecord, error) {
	rec, err := s.stack.ReadStateRecord(ctx)
	if err != nil || rec == nil || rec.Location == stateLocation(s.store) || adopt {
		return rec, err
	}
	return rec, fmt.Errorf("stack %s keeps its state at %s (lineage %s), not at %s: two states of one stack would fight over it. Run with --state %s (or from that directory), or move the state there with `provision state migrate`; to make this state the stack's on purpose, pass --adopt", s.cfg.Stack, rec.Location, rec.Lineage, stateLocation(s.store), strings.TrimPrefix(rec.Location, "file://"))
}

// recordStale: the record names another state (or none), or, when lineage
// is given, another lineage.
func (s *session) recordStale(rec *provision.StateRecord, lineage string) bool {
	return rec == nil || rec.Location != stateLocation(s.store) || (lineage != "" && rec.Lineage != lineage)
}

// recordState writes where the stack's state lives now.
func (s *session) recordState(ctx context.Context, lineage string) error {
	return s.stack.WriteStateRecord(ctx, provision.StateRecord{Location: stateLocation(s.store), Lineage: lineage})
}
