// Package plan knows steps, the changes they propose, the dependency graph
// between them, the concurrent executor that walks it, and how a plan is
// rendered. It knows nothing about AWS.
package plan

import (
	"context"
	"errors"
	"fmt"
)

// ID names a step, e.g. "subnet/public". IDs are stable: they key the state
// file and the provision:step tag.
type ID string

// Action is what a step would do.
type Action int

const (
	NoOp Action = iota
	Create
	Update
	Delete
	// Replace deletes the resource and creates a new one in its place:
	// something that cannot change in place differs.
	Replace
)

func (a Action) String() string {
	switch a {
	case Create:
		return "create"
	case Update:
		return "update"
	case Delete:
		return "delete"
	case Replace:
		return "replace"
	default:
		return "no-op"
	}
}

// Symbol is the one-character marker operators know from Terraform.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Delete:
		return "-"
	case Replace:
		return "-/+"
	default:
		return "="
	}
}

// verbing is what a step doing a changes is busy with, for progress lines.
func verbing(a Action) string {
	switch a {
	case Create:
		return "creating"
	case Update:
		return "updating"
	case Delete:
		return "destroying"
	case Replace:
		return "replacing"
	default:
		return "reading"
	}
}

// done is the past tense of an action, for progress lines.
func done(a Action) string {
	switch a {
	case Create:
		return "created"
	case Update:
		return "updated"
	case Delete:
		return "destroyed"
	case Replace:
		return "replaced"
	default:
		return "checked"
	}
}

// Attr is one important attribute shown in a plan line.
type Attr struct {
	Key   string
	Value string
}

// Change is what a step found and what it would do about it.
type Change struct {
	Step    ID
	Kind    string // resource kind, e.g. "subnet"
	Name    string // the Name tag, or a description for resources without one
	ID      string // the AWS id when known
	Action  Action
	Attrs   []Attr   // the attributes an operator checks (CIDR, ports, ids)
	Reasons []string // for updates: what differs from the configuration
	// Pending is the state of a resource that exists but is not ready yet
	// (a NAT gateway or an instance that is "pending"): applying it only
	// waits. Status shows it as pending, not as drifted.
	Pending string
}

// Step is one resource (or one tightly bound group, such as a route table
// with its routes and association). Plan and PlanDelete only read; Apply and
// Delete carry out the change they returned.
type Step interface {
	ID() ID
	DependsOn() []ID
	// Plan finds the resource and compares it with the configuration.
	Plan(ctx context.Context) (Change, error)
	// Apply makes the resource match: it is called only with a Create or
	// Update change that Plan returned.
	Apply(ctx context.Context, c Change) error
	// PlanDelete finds what this step owns and would delete (Action Delete),
	// or NoOp when nothing is left.
	PlanDelete(ctx context.Context) (Change, error)
	// Delete removes what PlanDelete found.
	Delete(ctx context.Context, c Change) error
}

// errTryAgain marks an error the executor retries: a resource that is not
// ready yet, a dependency that AWS has not released, eventual consistency.
type tryAgainError struct{ err error }

func (e *tryAgainError) Error() string { return e.err.Error() }
func (e *tryAgainError) Unwrap() error { return e.err }

// TryAgain wraps err so that the executor runs the step again later instead
// of failing it.
func TryAgain(err error) error {
	if err == nil {
		return nil
	}
	return &tryAgainError{err: err}
}

// TryAgainf is TryAgain(fmt.Errorf(...)).
func TryAgainf(format string, args ...any) error {
	return TryAgain(fmt.Errorf(format, args...))
}

// IsTryAgain reports whether err asks for a retry.
func IsTryAgain(err error) bool {
	var t *tryAgainError
	return errors.As(err, &t)
}
