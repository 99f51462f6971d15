package resource

import (
	"context"
	"fmt"
	"strings"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/state"
)

// Shared is what the steps of one walk share: where their records go,
// the configuration's tags, the client that retags EC2 resources, and the
// replacements planned so far.
type Shared struct {
	Records Records
	// Tags are the configuration's `tags:`.
	Tags map[string]string
	// EC2 retags EC2 resources (Hooks.EC2Tags).
	EC2 EC2Tagger
	// Replacing collects the steps whose plan in this walk is a
	// replacement: what depends on them says so in its own plan line.
	Replacing *Replacements
}

// Step is the plan.Step of every resource kind.
type Step[T, F any] struct {
	shared Shared
	kind   Kind[T, F]
	hooks  Hooks[T, F]
	// typeName is the resource type written to the state file.
	typeName string

	// What the last Plan or PlanDelete saw, for the Apply or Delete of the
	// same attempt (the executor never runs one step twice at once).
	seen Found[T]
	fix  F
	tags TagChange
}

// NewStep makes the step of one resource of a kind; typeName is its type
// in the state file.
func NewStep[T, F any](shared Shared, typeName string, kind Kind[T, F]) *Step[T, F] {
	return &Step[T, F]{shared: shared, kind: kind, hooks: kind.Hooks(), typeName: typeName}
}

func (s *Step[T, F]) ID() plan.ID          { return s.kind.StepID() }
func (s *Step[T, F]) DependsOn() []plan.ID { return s.kind.Needs() }

// Plan finds the resource and says what Apply will do: create it, update
// it (the kind's diff, the tags, duplicates to delete), replace it, or
// nothing. What it found is recorded in the state at once.
func (s *Step[T, F]) Plan(ctx context.Context) (plan.Change, error) {
	c := s.kind.Describe()
	f, err := s.kind.Find(ctx)
	if err != nil {
		return c, err
	}
	s.seen = f
	var none F
	s.fix, s.tags = none, TagChange{}
	if !f.Exists {
		c.Action = plan.Create
		if s.hooks.ShownOnCreate != nil {
			c.Reasons = s.hooks.ShownOnCreate(f)
		}
		return c, s.shared.Records.MarkGone(s.ID())
	}
	r := s.kind.Record(f.Cur)
	c.ID = r.ID
	s.showFound(&c, f.Cur)
	if f.External {
		c.Name = "existing " + strings.ReplaceAll(c.Kind, "-", " ")
		return c, s.shared.Records.External(s.ID(), s.typeName, r.ID, r.Attrs)
	}
	if err := s.shared.Records.Created(s.ID(), s.typeName, r.ID, r.Attrs); err != nil {
		return c, err
	}
	fix, reasons, err := s.kind.Diff(ctx, f.Cur)
	if err != nil {
		return c, err
	}
	s.fix = fix
	tags, tagReasons, err := s.tagDrift(ctx, f.Cur)
	if err != nil {
		return c, err
	}
	s.tags = tags
	reasons = append(reasons, tagReasons...)
	if s.hooks.Pending != nil {
		c.Pending = s.hooks.Pending(f.Cur)
	}
	for _, d := range f.Duplicates {
		reasons = append(reasons, DuplicateReasons([]string{s.kind.Record(d).ID})...)
	}
	if len(reasons) > 0 {
		c.Action, c.Reasons = plan.Update, reasons
	}
	if s.hooks.Replaces != nil && s.hooks.Replaces(fix) {
		c.Action = plan.Replace
		s.shared.Replacing.Note(s.ID())
	}
	return c, nil
}

// Apply carries out the plan: duplicates go first, then a replaced
// resource, then the create (with the recorded client token), the update
// and the tags.
func (s *Step[T, F]) Apply(ctx context.Context, c plan.Change) error {
	for _, d := range s.seen.Duplicates {
		if err := s.kind.Remove(ctx, d); err != nil {
			return fmt.Errorf("delete duplicate %s: %w", s.kind.Record(d).ID, err)
		}
	}
	cur, fix := s.seen.Cur, s.fix
	if c.Action == plan.Replace {
		// The old one is on its way out (waiting for it to be gone is the
		// next attempt's business), or kept to be retired by another step;
		// its record goes, so the new one gets a new client token.
		if s.hooks.Retires != nil && s.hooks.Retires(fix) {
			if err := s.hooks.Retire(ctx, cur); err != nil {
				return err
			}
		} else if err := s.kind.Remove(ctx, cur); err != nil && !plan.IsTryAgain(err) {
			return err
		}
		if err := s.shared.Records.MarkGone(s.ID()); err != nil {
			return err
		}
		c.Action = plan.Create
	}
	if c.Action == plan.Create {
		token, err := s.shared.Records.BeginCreate(s.ID(), s.typeName)
		if err != nil {
			return err
		}
		if cur, fix, err = s.kind.Create(ctx, token, s.seen); err != nil {
			return err
		}
		r := s.kind.Record(cur)
		if err := s.shared.Records.Created(s.ID(), s.typeName, r.ID, r.Attrs); err != nil {
			return err
		}
		plan.Made(ctx, r.ID)
		// A new resource got the configuration's tags at creation.
		s.tags = TagChange{}
	}
	if err := s.kind.Update(ctx, cur, fix); err != nil {
		return err
	}
	return s.retag(ctx, cur)
}

// PlanDelete finds what the step owns. A resource that is gone, or only
// used (external), is forgotten.
func (s *Step[T, F]) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.kind.Describe()
	if r := s.shared.Records.Ledger.Get(string(s.ID())); r != nil && r.Status == state.StatusExternal {
		return c, s.shared.Records.Forget(s.ID())
	}
	find := s.kind.Find
	if s.hooks.FindForDelete != nil {
		find = s.hooks.FindForDelete
	}
	f, err := find(ctx)
	if err != nil {
		return c, err
	}
	s.seen = f
	if !f.Exists || f.External {
		return c, s.shared.Records.Forget(s.ID())
	}
	c.ID = s.kind.Record(f.Cur).ID
	s.showFound(&c, f.Cur)
	if s.hooks.ShownOnDelete != nil {
		c.Reasons = append(c.Reasons, s.hooks.ShownOnDelete(f.Cur)...)
	}
	c.Action = plan.Delete
	return c, nil
}

// Delete removes the duplicates, then the resource, then its record.
func (s *Step[T, F]) Delete(ctx context.Context, c plan.Change) error {
	for _, d := range s.seen.Duplicates {
		if err := s.kind.Remove(ctx, d); err != nil {
			return err
		}
	}
	if err := s.kind.Remove(ctx, s.seen.Cur); err != nil {
		return err
	}
	return s.shared.Records.Forget(s.ID())
}

func (s *Step[T, F]) showFound(c *plan.Change, cur T) {
	if s.hooks.Shown != nil {
		c.Attrs = append(c.Attrs, s.hooks.Shown(cur)...)
	}
}

// tagDrift compares the resource's tags with the configuration's.
func (s *Step[T, F]) tagDrift(ctx context.Context, cur T) (TagChange, []string, error) {
	switch {
	case s.hooks.EC2Tags != nil:
		c, reasons := Drift(s.shared.Tags, EC2TagMap(s.hooks.EC2Tags(cur)))
		return c, reasons, nil
	case s.hooks.Tags != nil:
		have, err := s.hooks.Tags(ctx, cur)
		if err != nil {
			return TagChange{}, nil, err
		}
		c, reasons := Drift(s.shared.Tags, have)
		return c, reasons, nil
	}
	return TagChange{}, nil, nil
}

// retag applies the tag change the plan found.
func (s *Step[T, F]) retag(ctx context.Context, cur T) error {
	if s.tags.Empty() {
		return nil
	}
	switch {
	case s.hooks.EC2Tags != nil:
		return RetagEC2(ctx, s.shared.EC2, s.kind.Record(cur).ID, s.tags)
	case s.hooks.Retag != nil:
		return s.hooks.Retag(ctx, cur, s.tags)
	}
	return nil
}
