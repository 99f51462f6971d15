package awsapi

import (
	"context"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/provision-dev/provision/pkg/plan"
)

// StepAgentPrefix starts the User-Agent field that names the step behind
// an AWS call, e.g. "provision-step/apply=nat": CloudTrail records the
// User-Agent of every call (its userAgent field), so an operator reading
// the trail sees which step of which walk made it, and the benchmark
// attributes each call to its step the same way.
const StepAgentPrefix = "provision-step/"

// nameTheStep appends the step field to the User-Agent the SDK built. It
// runs after signing: SigV4 leaves User-Agent out of the signed headers,
// and adding it last keeps the SDK's own fields first.
func nameTheStep(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("provision-step-agent",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			step, walk := plan.StepOf(ctx)
			if req, ok := in.Request.(*smithyhttp.Request); ok && step != "" {
				ua := req.Header.Get("User-Agent")
				req.Header.Set("User-Agent", ua+" "+StepAgentPrefix+walk+"="+string(step))
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}
