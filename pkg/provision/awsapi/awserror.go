package awsapi

import (
	"errors"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/provision-dev/provision/pkg/plan"
)

// ErrorCode returns the AWS error code of err, or "".
func ErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// IsNotFound reports whether AWS says the resource does not exist; every
// service spells it differently (InvalidVpcID.NotFound, NoSuchEntity, ...).
func IsNotFound(err error) bool {
	code := ErrorCode(err)
	return strings.HasSuffix(code, ".NotFound") || strings.HasSuffix(code, "NotFound") ||
		code == "NoSuchEntity" || code == "ParameterNotFound" || code == "NotFoundException" /* KMS */ ||
		code == "ResourceNotFoundException" /* CloudWatch Logs */
}

// RetryableDelete maps the errors a delete meets while something that
// depends on the resource is still going away to plan.TryAgain, so the
// executor tries again in its next pass.
func RetryableDelete(err error) error {
	switch ErrorCode(err) {
	case "DependencyViolation", "InvalidIPAddress.InUse", "ResourceInUse",
		"ResourceInUseFault", "ScalingActivityInProgress", "DeleteConflict", "IncorrectState",
		"InvalidNetworkAclEntry.InUse", "Gateway.NotAttached.Pending":
		return plan.TryAgain(err)
	}
	return err
}

// RetryableCreate maps the errors of eventual consistency right after a
// dependency was created (a subnet not yet visible, a fresh group id).
func RetryableCreate(err error) error {
	if IsNotFound(err) || ErrorCode(err) == "IncorrectState" {
		return plan.TryAgain(err)
	}
	return err
}
