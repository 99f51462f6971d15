// Package resource is the generic step: one implementation of plan.Step
// for every kind of resource. A kind implements only its own verbs (Kind);
// Step does the rest the same way for all of them: it chooses the action,
// records what exists in the state, reuses a client token after a crash,
// removes duplicates, follows the configuration's tags, and hands what it
// found from plan to apply as a typed value.
package resource

import (
	"context"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
)

// Kind is one kind of resource. T is what Find returns for one resource
// (usually a pointer to the SDK's type), F what Diff says must change on
// an existing one.
//
// The order of a kind's file: the kind and its constructor, Hooks,
// Describe, Find, Diff, Create, Update, Remove, then helpers only it uses.
type Kind[T, F any] interface {
	// StepID and Needs place the kind in the graph.
	StepID() plan.ID
	Needs() []plan.ID
	// Describe is the plan line before anything is found: kind, name and
	// the attributes the configuration decides.
	Describe() plan.Change
	// Find looks for the resource (LookupOwned: recorded id, then tags)
	// and writes nothing.
	Find(ctx context.Context) (Found[T], error)
	// Record is what the state keeps of an existing resource.
	Record(cur T) Recorded
	// Diff compares an existing resource with the configuration: what
	// Update must fix, and the reasons shown in the plan (none: in sync).
	Diff(ctx context.Context, cur T) (F, []string, error)
	// Create makes the resource; token is the client token recorded for
	// this attempt (kinds whose API takes none ignore it), prior what Find
	// saw (a replacement may need to clear it away). It returns what the
	// new resource still needs from Update (for example an attachment).
	Create(ctx context.Context, token string, prior Found[T]) (T, F, error)
	// Update carries out a diff.
	Update(ctx context.Context, cur T, fix F) error
	// Remove deletes one resource (the recorded one or a duplicate).
	Remove(ctx context.Context, cur T) error
	// Hooks are the kind's optional parts.
	Hooks() Hooks[T, F]
}

// Hooks are what a kind may add to the common behaviour. A kind fills in
// the ones it has with its own methods (method values), so a misspelt or
// mistyped hook fails to compile instead of being silently skipped; a nil
// hook means the common behaviour.
type Hooks[T, F any] struct {
	// FindForDelete looks wider in a teardown than Find does in a build
	// (an instance that is shutting down still counts). Default: Find.
	FindForDelete func(ctx context.Context) (Found[T], error)
	// ShownOnCreate says more in the plan about a creation: what a new
	// resource gets (an ACL's rules), or why it replaces one.
	ShownOnCreate func(prior Found[T]) []string
	// Shown adds to the plan line what AWS chose (an Elastic IP's address).
	Shown func(cur T) []plan.Attr
	// ShownOnDelete says what a deletion does beyond AWS (the runner in
	// GitLab, whose token stops working, or stays).
	ShownOnDelete func(cur T) []string
	// Pending says why a resource that exists cannot be used yet ("" when
	// it is settled).
	Pending func(cur T) string
	// Replaces says whether a diff asks for a new resource in place of the
	// old one (an instance launched with another image or bootstrap).
	Replaces func(fix F) bool
	// Retires says whether a replaced resource is kept to be retired by
	// another step rather than removed at once (a manager that finishes
	// its jobs); Retire marks it so.
	Retires func(fix F) bool
	Retire  func(ctx context.Context, cur T) error
	// EC2Tags are the tags of an EC2 resource: they follow the
	// configuration's `tags:` through CreateTags and DeleteTags on the
	// recorded id.
	EC2Tags func(cur T) []ec2types.Tag
	// Tags and Retag are for other resources that carry the
	// configuration's tags (an Auto Scaling group, an IAM role, a
	// parameter): they read and change their tags through their own APIs.
	Tags  func(ctx context.Context, cur T) (map[string]string, error)
	Retag func(ctx context.Context, cur T, c TagChange) error
}

// Found is what a Find saw.
type Found[T any] struct {
	Cur    T
	Exists bool
	// External: a resource the stack uses but does not own (the VPC and
	// gateway of network.vpc_id): recorded, never changed or deleted.
	External bool
	// Duplicates are more resources with this step's tags: the answer to
	// a create was lost and the create was made again. The policy for all
	// kinds: keep the recorded one (else the first), delete the others.
	Duplicates []T
}

// Recorded is what the state keeps of a resource.
type Recorded struct {
	ID    string
	Attrs map[string]string
}
