package awsapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/provision-dev/provision/pkg/plan"
)

func httpErr(status int) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: errors.New("answer")}
}

// Throttling, 5xx, dropped connections and timeouts are transient; refusals and cancellation are not.
func TestIsTransient(t *testing.T) {
	transient := []error{
		apiErr("Throttling"), apiErr("RequestLimitExceeded"), apiErr("InternalError"), apiErr("ServiceUnavailable"), apiErr("TooManyRequestsException"),
		httpErr(503),
		&smithyhttp.RequestSendError{Err: errors.New("dial")},
		fmt.Errorf("call: %w", &net.DNSError{Err: "timeout", IsTimeout: true}),
		ratelimit.QuotaExceededError{Available: 0, Requested: 5},
		fmt.Errorf("read: %w", io.ErrUnexpectedEOF), io.EOF,
		fmt.Errorf("write: %w", syscall.ECONNRESET), syscall.ECONNREFUSED,
	}
	for _, err := range transient {
		if !IsTransient(err) {
			t.Errorf("IsTransient(%v) = false", err)
		}
	}
	for _, err := range []error{nil, context.Canceled, fmt.Errorf("x: %w", context.Canceled), apiErr("AccessDenied"), httpErr(400), errors.New("plain")} {
		if IsTransient(err) {
			t.Errorf("IsTransient(%v) = true", err)
		}
	}
}

// Every phase of a wrapped step makes transient errors "try again" and passes others through.
func TestTransientRetryEveryPhase(t *testing.T) {
	var fail error
	s := WithTransientRetry(funcStep{id: "vpc", do: func(context.Context, string) error { return fail }})
	ctx := context.Background()
	phases := map[string]func() error{
		"plan":        func() error { _, err := s.Plan(ctx); return err },
		"apply":       func() error { return s.Apply(ctx, plan.Change{}) },
		"plan-delete": func() error { _, err := s.PlanDelete(ctx); return err },
		"delete":      func() error { return s.Delete(ctx, plan.Change{}) },
	}
	for name, run := range phases {
		fail = apiErr("Throttling")
		if err := run(); !plan.IsTryAgain(err) || ErrorCode(err) != "Throttling" {
			t.Errorf("%s with throttling: %v, want a try-again", name, err)
		}
		fail = apiErr("AccessDenied")
		if err := run(); plan.IsTryAgain(err) || err != fail {
			t.Errorf("%s refused: %v, want the error unchanged", name, err)
		}
		fail = nil
		if err := run(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if s.ID() != "vpc" {
		t.Errorf("the wrapped step's id is %q", s.ID())
	}
}

// After maxTransientRetries transient failures in a row the error shows; a success resets the count.
func TestTransientRetryGivesUp(t *testing.T) {
	fail := apiErr("ServiceUnavailable")
	s := WithTransientRetry(funcStep{id: "vpc", do: func(context.Context, string) error { return fail }})
	ctx := context.Background()
	for i := 1; i <= maxTransientRetries; i++ {
		if err := s.Apply(ctx, plan.Change{}); !plan.IsTryAgain(err) {
			t.Fatalf("failure %d: %v, want a try-again", i, err)
		}
	}
	if err := s.Apply(ctx, plan.Change{}); plan.IsTryAgain(err) || err != fail {
		t.Fatalf("failure %d: %v, want the error itself", maxTransientRetries+1, err)
	}
	fail = nil
	if err := s.Apply(ctx, plan.Change{}); err != nil {
		t.Fatal(err)
	}
	fail = apiErr("ServiceUnavailable")
	if err := s.Apply(ctx, plan.Change{}); !plan.IsTryAgain(err) {
		t.Fatalf("after a success: %v, want a try-again", err)
	}
}

// A step's own "try again" is passed on unchanged and resets the count of transient failures.
func TestTransientRetryKeepsTryAgain(t *testing.T) {
	var fail error
	s := WithTransientRetry(funcStep{id: "vpc", do: func(context.Context, string) error { return fail }})
	ctx := context.Background()
	for i := 0; i < maxTransientRetries; i++ {
		fail = apiErr("InternalError")
		_ = s.Delete(ctx, plan.Change{})
	}
	fail = plan.TryAgain(errors.New("still in use"))
	if err := s.Delete(ctx, plan.Change{}); err != fail {
		t.Fatalf("the step's try-again became %v", err)
	}
	fail = apiErr("InternalError")
	if err := s.Delete(ctx, plan.Change{}); !plan.IsTryAgain(err) {
		t.Fatalf("a transient error after the reset: %v, want a try-again", err)
	}
}

// RetryTransient calls again after a transient error, and stops at once on any other.
func TestRetryTransient(t *testing.T) {
	ctx := context.Background()
	calls := 0
	err := RetryTransient(ctx, func() error {
		calls++
		if calls == 1 {
			return apiErr("Throttling")
		}
		return nil
	})
	if err != nil || calls != 2 {
		t.Errorf("after a throttle: err %v, %d calls, want success on the 2nd", err, calls)
	}
	calls = 0
	refused := apiErr("AccessDenied")
	if err := RetryTransient(ctx, func() error { calls++; return refused }); err != refused || calls != 1 {
		t.Errorf("refused: err %v, %d calls, want the error after 1 call", err, calls)
	}
}

// A cancelled context ends RetryTransient's wait with the last error.
func TestRetryTransientStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	fail := apiErr("Throttling")
	if err := RetryTransient(ctx, func() error { calls++; return fail }); err != fail || calls != 1 {
		t.Errorf("err %v, %d calls, want the throttle after 1 call", err, calls)
	}
}
