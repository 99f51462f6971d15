package awsapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/provision-dev/provision/pkg/plan"
)

// How AWS calls are retried:
//   - Reads: the SDK's standard retryer (throttling, 5xx, dropped
//     connections), up to 8 attempts.
//   - Writes: the SDK resends only throttled calls, which AWS refused
//     before doing anything. A 5xx or a dropped connection may come after
//     the call took effect; resending a create blindly would make a second
//     resource. Such an error goes back to the step as "try again", and
//     the step's next attempt first looks for the resource by its tags.

func readRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 8
		o.MaxBackoff = 20 * time.Second
	})
}

func writeRetryer() aws.Retryer {
	throttles := retry.IsErrorThrottles(retry.DefaultThrottles)
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 8
		o.MaxBackoff = 20 * time.Second
		o.Retryables = []retry.IsErrorRetryable{
			retry.NoRetryCanceledError{},
			retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				return throttles.IsErrorThrottle(err)
			}),
		}
		// Our own retries pace themselves; the SDK's token bucket would
		// only turn a burst of throttling into hard failures.
		o.RateLimiter = ratelimit.None
	})
}

// writesRetryOnlyThrottling swaps the retry middleware of every mutating
// operation for the throttle-only retryer.
func writesRetryOnlyThrottling(r aws.Retryer) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		if !IsMutatingOperation(stack.ID()) {
			return nil
		}
		if _, ok := stack.Finalize.Get("Retry"); !ok {
			return nil
		}
		_, err := stack.Finalize.Swap("Retry", retry.NewAttemptMiddleware(r, smithyhttp.RequestCloner))
		return err
	}
}

// noWritesAfter refuses to start a write once interrupt is closed: after
// the first Ctrl-C only the calls already sent finish. The state backend's
// S3 calls are let through, so that what was done is saved and the lock
// released.
func noWritesAfter(interrupt <-chan struct{}) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		if interrupt == nil || !IsMutatingOperation(stack.ID()) {
			return nil
		}
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("provision-no-writes-after-interrupt",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				select {
				case <-interrupt:
					if awsmiddleware.GetServiceID(ctx) != "S3" {
						return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("%s not started: %w", stack.ID(), plan.ErrInterrupted)
					}
				default:
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
}

// IsMutatingOperation reports whether an AWS operation changes
// something: everything but Describe*, Get*, List*, Head*.
func IsMutatingOperation(op string) bool {
	for _, p := range []string{"Describe", "Get", "List", "Head", "Filter"} {
		if strings.HasPrefix(op, p) {
			return false
		}
	}
	return op != ""
}

// IsTransient reports errors worth another attempt of the whole step:
// throttling that outlasted the SDK's retries, server errors, dropped
// connections, timeouts of a single call.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable", "RequestTimeout", "RequestTimeoutException",
			"RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestThrottled", "EC2ThrottledException":
			return true
		}
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500 {
		return true
	}
	var sendErr *smithyhttp.RequestSendError
	if errors.As(err, &sendErr) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var quota ratelimit.QuotaExceededError
	if errors.As(err, &quota) {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

// maxTransientRetries bounds how often in a row one step is retried for
// transient errors (about a minute with the executor's backoff): an error
// that persists that long is not transient, and the person should see it.
const maxTransientRetries = 10

// transientRetry makes transient AWS errors of a step a "try again": the
// executor runs the step again, and its Plan looks at what exists now.
type transientRetry struct {
	plan.Step
	failures *atomic.Int32 // consecutive transient failures
}

func WithTransientRetry(s plan.Step) transientRetry {
	return transientRetry{Step: s, failures: &atomic.Int32{}}
}

func (s transientRetry) Plan(ctx context.Context) (plan.Change, error) {
	c, err := s.Step.Plan(ctx)
	return c, s.transient(err)
}

func (s transientRetry) Apply(ctx context.Context, c plan.Change) error {
	return s.transient(s.Step.Apply(ctx, c))
}

func (s transientRetry) PlanDelete(ctx context.Context) (plan.Change, error) {
	c, err := s.Step.PlanDelete(ctx)
	return c, s.transient(err)
}

func (s transientRetry) Delete(ctx context.Context, c plan.Change) error {
	return s.transient(s.Step.Delete(ctx, c))
}

func (s transientRetry) transient(err error) error {
	if err == nil || plan.IsTryAgain(err) {
		s.failures.Store(0)
		return err
	}
	if IsTransient(err) && s.failures.Add(1) <= maxTransientRetries {
		return plan.TryAgain(err)
	}
	return err
}

// RetryTransient runs an idempotent call again after a throttle, a 5xx or
// a dropped connection (the SDK resends writes only when throttled), a few
// times with a growing pause.
func RetryTransient(ctx context.Context, call func() error) error {
	var err error
	for attempt := 1; attempt <= 8; attempt++ {
		if err = call(); err == nil || !IsTransient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		}
	}
	return err
}
