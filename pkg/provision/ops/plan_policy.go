package ops

import (
	"strings"

	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/policy"
)

// PlanPolicy is the operator policy with its reads only: what `plan` and
// `status` need, on the same resources under the same conditions, and no
// action that changes anything. It is the policy of a role that plans in
// merge requests (iam-policy --plan): such a role can still read the
// stack's SecureStrings, runner token included (a plan compares them with
// the configuration, through SSM, decrypted with kms:Decrypt), so it is to
// be trusted by protected branches only; but it cannot build, change or
// delete, so the apply stays behind its own gate.
func PlanPolicy(cfg *config.Config) policy.PolicyDocument {
	var st []policy.Statement
	for _, s := range ToolPolicy(cfg).Statement {
		if s.Effect != "Allow" {
			continue // the denies guard writes this policy does not grant
		}
		var reads []string
		for _, a := range s.Action {
			if readAction(a) {
				reads = append(reads, a)
			}
		}
		if len(reads) > 0 {
			s.Action = reads
			st = append(st, s)
		}
	}
	return policy.PolicyDocument{Version: "2012-10-17", Statement: st}
}

// readAction: an IAM action that reads, as awsapi tells reads from writes
// (Describe, Get, List, Head, Filter), an S3 bucket listing, or the
// decryption a SecureString read takes.
func readAction(a string) bool {
	_, op, _ := strings.Cut(a, ":")
	return a == "kms:Decrypt" || a == "s3:ListBucket" || !awsapi.IsMutatingOperation(op)
}
