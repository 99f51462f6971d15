package command

import (
	"encoding/json"
	"fmt"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/ops"
	"github.com/provision-dev/provision/pkg/provision/policy"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// IAMPolicy prints, as IAM takes it, the policy that up, down and status
// need for this configuration, or (boundary) the permissions boundary of
// the stack's roles, which an administrator creates once.
//
// The operator policy may be longer than one managed policy may be: it
// then comes in parts, each printed with part (1, 2, ...), all to be
// attached.
func IAMPolicy(o Options, boundary bool, part int) (int, error) {
	return iamPolicy(o, boundary, false, part)
}

// PlanIAMPolicy prints the reads of the operator policy only: the policy
// of a role that plans (in merge requests) and cannot change anything.
func PlanIAMPolicy(o Options) (int, error) { return iamPolicy(o, false, true, 0) }

func iamPolicy(o Options, boundary, planOnly bool, part int) (int, error) {
	cfg, err := config.LoadConfig(o.ConfigPath, o.Region)
	if err != nil {
		return 1, err
	}
	if boundary && cfg.Region == "" {
		return 1, fmt.Errorf("the boundary names the stack's region: set region in the configuration or pass --region")
	}
	var doc policy.PolicyDocument
	parts := ops.ToolPolicyParts(cfg)
	switch {
	case planOnly:
		doc = ops.PlanPolicy(cfg)
	case boundary:
		doc = stack.BoundaryPolicy(cfg.Stack, cfg.Region)
	case part == 0 && len(parts) == 1:
		doc = parts[0]
	case part == 0:
		return 1, fmt.Errorf("the operator policy is longer than the %d characters AWS allows a managed policy: it comes in %d parts. Print each with --part 1 to --part %d, create a managed policy of each and attach them all", ops.ManagedPolicyLimit, len(parts), len(parts))
	case part < 1 || part > len(parts):
		return 1, fmt.Errorf("--part %d: the operator policy has %d parts (--part 1 to --part %d)", part, len(parts), len(parts))
	default:
		doc = parts[part-1]
	}
	enc := json.NewEncoder(o.Stdout)
	enc.SetIndent("", "  ")
	return 0, enc.Encode(doc)
}
