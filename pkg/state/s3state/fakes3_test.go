package s3state

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// fakeS3 is one versioned bucket speaking S3's REST dialect (path style),
// enforcing what S3 enforces on the calls the backend makes:
//   - conditional writes ("How to prevent object overwrites with
//     conditional writes", S3 User Guide): PutObject with If-None-Match: *
//     fails with 412 when the key exists; with If-Match: ETAG it fails with
//     412 when the ETag differs and 404 when there is no object;
//   - conditional deletes ("How to perform conditional deletes"):
//     DeleteObject with If-Match: ETAG fails with 412 when the current
//     version's ETag differs, 404 when there is none;
//   - bucket owner condition ("Verifying bucket ownership with bucket owner
//     condition"): a call whose x-amz-expected-bucket-owner is not the
//     bucket's account fails with 403 AccessDenied;
//   - 409 ConditionalRequestConflict while another conditional write of the
//     key is in flight (PutObject If-Match/If-None-Match in the API
//     reference), injected here with conflicts.
type fakeS3 struct {
	t      *testing.T
	server *httptest.Server
	bucket string
	owner  string // the bucket's account

	mu      sync.Mutex
	objects map[string][]byte
	calls   []fakeCall
	// conflicts: the next n conditional writes answer 409.
	conflicts int
	// loseAnswers: the next n writes take effect, then answer 500.
	loseAnswers int
	// beforeWrite runs (unlocked) before a write is evaluated.
	beforeWrite func(method, key string)
}

type fakeCall struct {
	Method, Key, Owner string
	Status             int
}

func newFakeS3(t *testing.T) *fakeS3 {
	f := &fakeS3{t: t, bucket: "team-state", owner: "111122223333", objects: map[string][]byte{}}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.server.Close)
	return f
}

// client is an S3 client of the fake, without the SDK's own retries (the
// backend's retry function is under test) and without checksum trailers.
func (f *fakeS3) client() *s3.Client {
	return s3.New(s3.Options{
		Region: "eu-west-1", BaseEndpoint: aws.String(f.server.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		Retryer:     aws.NopRetryer{}, RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

func etagOf(data []byte) string {
	sum := md5.Sum(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func (f *fakeS3) serve(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if (r.Method == http.MethodPut || r.Method == http.MethodDelete) && f.beforeWrite != nil {
		f.beforeWrite(r.Method, key)
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	status := f.answer(w, r, bucket, key, body)
	f.calls = append(f.calls, fakeCall{Method: r.Method, Key: key, Owner: r.Header.Get("X-Amz-Expected-Bucket-Owner"), Status: status})
}

// answer handles one call under the lock and returns its status.
func (f *fakeS3) answer(w http.ResponseWriter, r *http.Request, bucket, key string, body []byte) int {
	if bucket != f.bucket {
		return f.fail(w, http.StatusNotFound, "NoSuchBucket")
	}
	if owner := r.Header.Get("X-Amz-Expected-Bucket-Owner"); owner != "" && owner != f.owner {
		return f.fail(w, http.StatusForbidden, "AccessDenied")
	}
	conditional := r.Header.Get("If-Match") != "" || r.Header.Get("If-None-Match") != ""
	if conditional && r.Method != http.MethodGet && f.conflicts > 0 {
		f.conflicts--
		return f.fail(w, http.StatusConflict, "ConditionalRequestConflict")
	}
	cur, exists := f.objects[key]
	switch {
	case key == "" && r.URL.Query().Has("versioning"):
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, `<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`)
		return http.StatusOK
	case r.Method == http.MethodGet:
		if !exists {
			return f.fail(w, http.StatusNotFound, "NoSuchKey")
		}
		w.Header().Set("ETag", etagOf(cur))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(cur)
		return http.StatusOK
	case r.Method == http.MethodPut:
		if status, code := precondition(r, cur, exists); status != 0 {
			return f.fail(w, status, code)
		}
		f.objects[key] = body
		if f.lose() {
			return f.fail(w, http.StatusInternalServerError, "InternalError")
		}
		w.Header().Set("ETag", etagOf(body))
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	case r.Method == http.MethodDelete:
		if status, code := precondition(r, cur, exists); status != 0 {
			return f.fail(w, status, code)
		}
		delete(f.objects, key)
		if f.lose() {
			return f.fail(w, http.StatusInternalServerError, "InternalError")
		}
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	}
	return f.fail(w, http.StatusNotImplemented, "NotImplemented")
}

// precondition evaluates If-None-Match: * and If-Match: ETAG against the
// current version as S3 does (0: met).
func precondition(r *http.Request, cur []byte, exists bool) (int, string) {
	if r.Header.Get("If-None-Match") == "*" && exists {
		return http.StatusPreconditionFailed, "PreconditionFailed"
	}
	if m := r.Header.Get("If-Match"); m != "" {
		if !exists {
			return http.StatusNotFound, "NoSuchKey"
		}
		if strings.Trim(m, `"`) != strings.Trim(etagOf(cur), `"`) {
			return http.StatusPreconditionFailed, "PreconditionFailed"
		}
	}
	return 0, ""
}

func (f *fakeS3) lose() bool {
	if f.loseAnswers == 0 {
		return false
	}
	f.loseAnswers--
	return true
}

func (f *fakeS3) fail(w http.ResponseWriter, status int, code string) int {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>fake</RequestId></Error>`, code, code)
	return status
}

func (f *fakeS3) object(key string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.objects[key]
}

func (f *fakeS3) setObject(key string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[key] = data
}

func (f *fakeS3) recorded() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCall(nil), f.calls...)
}
