package command

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// fakeStateAWS answers what opening an S3 state asks: STS for the
// caller's account, the bucket's versioning, and the state object (none).
type fakeStateAWS struct {
	noSTS, versioningOff bool
	mu                   sync.Mutex
	owners               []string // ExpectedBucketOwner of each S3 call
}

func (f *fakeStateAWS) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	w.Header().Set("Content-Type", "text/xml")
	if r.Form.Get("Action") == "GetCallerIdentity" {
		if f.noSTS {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>no</Message></Error></ErrorResponse>`))
			return
		}
		_, _ = w.Write([]byte(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`))
		return
	}
	f.mu.Lock()
	f.owners = append(f.owners, r.Header.Get("X-Amz-Expected-Bucket-Owner"))
	f.mu.Unlock()
	switch {
	case strings.HasPrefix(r.URL.Path, "/missing"):
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`<Error><Code>NoSuchBucket</Code><Message>no bucket</Message></Error>`))
	case r.Form.Has("versioning") && f.versioningOff:
		_, _ = w.Write([]byte(`<VersioningConfiguration/>`))
	case r.Form.Has("versioning"):
		_, _ = w.Write([]byte(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`))
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`<Error><Code>NoSuchKey</Code><Message>no key</Message></Error>`))
	}
}

// s3Options points the commands at the fake, with the state at loc.
func (ct *commandTest) s3Options(f *fakeStateAWS, loc string) (Options, *observer.ObservedLogs) {
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	ct.t.Cleanup(srv.Close)
	ct.t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	ct.t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	ct.t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	core, logs := observer.New(zapcore.WarnLevel)
	o := ct.options(false, "")
	o.StatePath, o.Log = loc, zap.New(core)
	return o, logs
}

// Every S3 call of the state asks S3 to check the bucket belongs to the caller's account.
func TestS3StateChecksBucketOwner(t *testing.T) {
	ct := newCommandTest(t)
	f := &fakeStateAWS{}
	o, logs := ct.s3Options(f, "s3://state/unit.json")
	code, err := Output(context.Background(), o, OutputOptions{})
	ct.want("output", code, 1, err, `stack "unit" has no state (s3://state/unit.json)`)
	if len(f.owners) < 2 {
		t.Fatalf("S3 was asked %d times, want the versioning and the object", len(f.owners))
	}
	for i, owner := range f.owners {
		if owner != "123456789012" {
			t.Errorf("S3 call %d: expected bucket owner %q, want the caller's account", i, owner)
		}
	}
	if logs.Len() != 0 {
		t.Errorf("warnings: %v", logs.All())
	}
}

// A missing state bucket is an error that says how to create it.
func TestS3StateMissingBucket(t *testing.T) {
	ct := newCommandTest(t)
	o, _ := ct.s3Options(&fakeStateAWS{}, "s3://missing/unit.json")
	code, err := Output(context.Background(), o, OutputOptions{})
	ct.want("output", code, 1, err, "state bucket missing does not exist: create it", "put-bucket-versioning")
}

// An endpoint without STS skips the owner check, and a bucket without versioning, with warnings.
func TestS3StateWarnings(t *testing.T) {
	ct := newCommandTest(t)
	f := &fakeStateAWS{noSTS: true, versioningOff: true}
	o, logs := ct.s3Options(f, "s3://state/unit.json")
	code, err := Output(context.Background(), o, OutputOptions{})
	ct.want("output", code, 1, err, "has no state (s3://state/unit.json)")
	for _, owner := range f.owners {
		if owner != "" {
			t.Errorf("an owner %q was sent without STS", owner)
		}
	}
	for _, want := range []string{"the endpoint has no STS", "state bucket state has no versioning"} {
		if logs.FilterMessageSnippet(want).Len() != 1 {
			t.Errorf("no warning %q among %v", want, logs.All())
		}
	}
}

// A malformed S3 location is refused with the form it takes.
func TestS3StateBadLocation(t *testing.T) {
	ct := newCommandTest(t)
	o := ct.options(false, "")
	o.StatePath = "s3://bucket-only"
	code, err := Plan(context.Background(), o, PlanOptions{})
	ct.want("plan", code, 1, err, "is not an S3 state location: write it as s3://BUCKET/KEY")
}
