package awstest

import (
	"fmt"
	"path"
	"strings"

	"github.com/provision-dev/provision/pkg/provision/policy"
)

// Request is one authorization IAM makes: an action on each resource a
// call touches, with the condition keys the call brings (aws:RequestTag/…,
// aws:ResourceTag/… of the resource, ec2:CreateAction,
// iam:PermissionsBoundary, iam:PassedToService, aws:RequestedRegion, …).
// The emulator evaluates no condition and, but for S3 and IAM, no
// resource; this evaluator stands in for IAM where it does not.
type Request struct {
	Action   string
	Resource string
	Context  map[string][]string
}

func (r Request) String() string {
	return fmt.Sprintf("%s on %s with %v", r.Action, r.Resource, r.Context)
}

// Allowed is IAM's decision for one principal's identity policies
// ("Policy evaluation logic" in the IAM User Guide): an explicit Deny
// wins, else some Allow must match, else it is denied. A boundary is
// another call of Allowed: both must allow.
func Allowed(docs []policy.PolicyDocument, r Request) bool {
	allowed := false
	for _, d := range docs {
		for _, s := range d.Statement {
			if !statementMatches(s, r) {
				continue
			}
			if s.Effect == "Deny" {
				return false
			}
			allowed = true
		}
	}
	return allowed
}

func statementMatches(s policy.Statement, r Request) bool {
	if !anyMatch(s.Action, r.Action, true) {
		return false
	}
	if len(s.Resource) > 0 && !anyMatch(s.Resource, r.Resource, false) {
		return false
	}
	for op, conds := range s.Condition {
		for key, want := range conds {
			if !conditionHolds(op, r.Context[key], values(want)) {
				return false
			}
		}
	}
	return true
}

// conditionHolds evaluates the operators the tool's policies use.
func conditionHolds(op string, have, want []string) bool {
	base, ifExists := strings.CutSuffix(op, "IfExists")
	if ifExists && len(have) == 0 {
		return true
	}
	switch base {
	case "Null":
		return (len(have) == 0) == (len(want) == 1 && want[0] == "true")
	case "StringEquals", "ArnEquals", "StringLike", "ArnLike":
		// A single-valued key: its value matches one of the wanted ones.
		return len(have) == 1 && anyValue(base, have[0], want)
	case "StringNotEquals":
		return len(have) == 1 && !anyValue("StringEquals", have[0], want)
	case "ForAnyValue:StringEquals", "ForAnyValue:StringLike":
		for _, h := range have {
			if anyValue(strings.TrimPrefix(base, "ForAnyValue:"), h, want) {
				return true
			}
		}
		return false
	case "ForAllValues:StringEquals":
		for _, h := range have {
			if !anyValue("StringEquals", h, want) {
				return false
			}
		}
		return true
	}
	return false // an operator this evaluator does not know never holds
}

func anyValue(op, have string, want []string) bool {
	for _, w := range want {
		switch op {
		case "StringEquals", "ArnEquals":
			if have == w {
				return true
			}
		default:
			if wildcard(w, have, false) {
				return true
			}
		}
	}
	return false
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if wildcard(p, s, fold) {
			return true
		}
	}
	return false
}

// wildcard matches IAM's patterns: * any run of characters, ? exactly one
// (path.Match's * stops at a slash, so slashes are swapped out first).
func wildcard(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	const slash = "\x00"
	esc := strings.NewReplacer("/", slash, "[", `\[`, `\`, `\\`)
	ok, err := path.Match(esc.Replace(pattern), strings.ReplaceAll(s, "/", slash))
	return err == nil && ok
}

// values reads a condition's value: one string or a list of them.
func values(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}
