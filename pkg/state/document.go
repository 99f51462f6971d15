// Package state keeps what a stack built: a versioned JSON document per
// stack, written atomically with a backup, guarded by an exclusive lock.
package state

import (
	"maps"
	"time"

	"github.com/google/uuid"
)

// FormatVersion is the version of the document layout this code writes.
const FormatVersion = 1

// Document is one stack's state file.
type Document struct {
	FormatVersion int                  `json:"format_version"`
	Lineage       string               `json:"lineage"`
	Serial        int64                `json:"serial"`
	Stack         string               `json:"stack"`
	Region        string               `json:"region"`
	UpdatedAt     time.Time            `json:"updated_at"`
	Resources     map[string]*Resource `json:"resources"`
	// Facts are what the tool learned of things that never change (an
	// AMI's root device, an instance type's architecture), so that a
	// later run need not ask again.
	Facts map[string]string `json:"facts,omitempty"`
}

// Status of a resource in the state file.
const (
	// StatusCreating: the create call is about to be made (or was made and
	// its answer lost); the client token is recorded so a retry cannot
	// create a second one.
	StatusCreating = "creating"
	// StatusCreated: the resource exists and the stack owns it.
	StatusCreated = "created"
	// StatusGone: the stack created the resource, but it has disappeared
	// (deleted by hand); the next create uses a fresh client token.
	StatusGone = "gone"
	// StatusExternal: the stack uses the resource but did not create it
	// (an existing VPC or its internet gateway) and never deletes it.
	StatusExternal = "external"
)

// Resource is what one step recorded.
type Resource struct {
	Type        string            `json:"type"`
	ID          string            `json:"id,omitempty"`
	Status      string            `json:"status"`
	ClientToken string            `json:"client_token,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
}

// Clone returns a deep copy.
func (r *Resource) Clone() *Resource {
	if r == nil {
		return nil
	}
	c := *r
	c.Attributes = maps.Clone(r.Attributes)
	return &c
}

// RecordedID returns the recorded id, or "" (also for a nil resource).
func (r *Resource) RecordedID() string {
	if r == nil {
		return ""
	}
	return r.ID
}

// Attr returns an attribute or "".
func (r *Resource) Attr(key string) string {
	if r == nil {
		return ""
	}
	return r.Attributes[key]
}

// New starts a document for a stack with a fresh lineage.
func New(stack, region string) *Document {
	return &Document{
		FormatVersion: FormatVersion,
		Lineage:       uuid.NewString(),
		Stack:         stack,
		Region:        region,
		Resources:     map[string]*Resource{},
	}
}

// Clone returns a deep copy.
func (d *Document) Clone() *Document {
	c := *d
	c.Resources = make(map[string]*Resource, len(d.Resources))
	for k, r := range d.Resources {
		c.Resources[k] = r.Clone()
	}
	c.Facts = maps.Clone(d.Facts)
	return &c
}
