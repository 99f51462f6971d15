package awsapi

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/provision-dev/provision/pkg/plan"
)

func apiErr(code string) error {
	// Wrapped as the SDK and the steps wrap it.
	return fmt.Errorf("operation error: %w", &smithy.GenericAPIError{Code: code, Message: "from the test"})
}

// Every service's spelling of "does not exist" is not-found, and nothing else.
func TestIsNotFound(t *testing.T) {
	for _, code := range []string{"InvalidVpcID.NotFound", "InvalidGroup.NotFound", "ResourceNotFound", "NoSuchEntity", "ParameterNotFound", "NotFoundException"} {
		if !IsNotFound(apiErr(code)) {
			t.Errorf("IsNotFound(%s) = false", code)
		}
	}
	for _, err := range []error{nil, errors.New("NotFound"), apiErr("AccessDenied"), apiErr("DependencyViolation")} {
		if IsNotFound(err) {
			t.Errorf("IsNotFound(%v) = true", err)
		}
	}
}

// ErrorCode reads the code through wrapping, and is empty for other errors.
func TestErrorCode(t *testing.T) {
	if got := ErrorCode(apiErr("Throttling")); got != "Throttling" {
		t.Errorf("ErrorCode = %q", got)
	}
	if got := ErrorCode(errors.New("plain")); got != "" {
		t.Errorf("ErrorCode of a plain error = %q", got)
	}
}

// Deletes blocked by a dependent still going away are tried again; others are not.
func TestRetryableDelete(t *testing.T) {
	for _, code := range []string{"DependencyViolation", "InvalidIPAddress.InUse", "ResourceInUse", "DeleteConflict", "IncorrectState", "Gateway.NotAttached.Pending"} {
		err := apiErr(code)
		got := RetryableDelete(err)
		if !plan.IsTryAgain(got) || !errors.Is(got, err) {
			t.Errorf("RetryableDelete(%s) = %v, want a try-again wrapping it", code, got)
		}
	}
	err := apiErr("UnauthorizedOperation")
	if got := RetryableDelete(err); got != err {
		t.Errorf("RetryableDelete(UnauthorizedOperation) = %v, want it unchanged", got)
	}
}

// Creates that do not yet see a fresh dependency are tried again; others are not.
func TestRetryableCreate(t *testing.T) {
	for _, code := range []string{"InvalidSubnetID.NotFound", "InvalidGroup.NotFound", "IncorrectState"} {
		if got := RetryableCreate(apiErr(code)); !plan.IsTryAgain(got) {
			t.Errorf("RetryableCreate(%s) = %v, want a try-again", code, got)
		}
	}
	err := apiErr("VpcLimitExceeded")
	if got := RetryableCreate(err); got != err {
		t.Errorf("RetryableCreate(VpcLimitExceeded) = %v, want it unchanged", got)
	}
}
