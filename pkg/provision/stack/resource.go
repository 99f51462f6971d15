package stack

import (
	"context"
	"fmt"
	"strings"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/state"
)

// A resource kind implements only its own verbs; resourceStep (below)
// does the rest the same way for every kind: it chooses the action,
// records what exists in the state, reuses a client token after a crash,
// removes duplicates, and hands what it found from plan to apply as a
// typed value. T is what find returns for one resource (usually a pointer
// to the SDK's type), F what diff says must change on an existing one.
//
// The order of a resource file: the kind and its constructor, describe,
// find, diff, create, update, remove, then helpers only it uses.
type resourceKind[T, F any] interface {
	// stepID and needs place the kind in the graph.
	stepID() plan.ID
	needs() []plan.ID
	// describe is the plan line before anything is found: kind, name and
	// the attributes the configuration decides.
	describe() plan.Change
	// find looks for the resource (lookupOwned: recorded id, then tags) and
	// writes nothing.
	find(ctx context.Context) (found[T], error)
	// record is what the state keeps of an existing resource.
	record(cur T) recorded
	// diff compares an existing resource with the configuration: what
	// update must fix, and the reasons shown in the plan (none: in sync).
	diff(ctx context.Context, cur T) (F, []string, error)
	// create makes the resource; token is the client token recorded for
	// this attempt (kinds whose API takes none ignore it), prior what find
	// saw (a replacement may need to clear it away). It returns what the
	// new resource still needs from update (for example an attachment).
	create(ctx context.Context, token string, prior found[T]) (T, F, error)
	// update carries out a diff.
	update(ctx context.Context, cur T, fix F) error
	// remove deletes one resource (the recorded one or a duplicate).
	remove(ctx context.Context, cur T) error
}

// found is what a find saw.
type found[T any] struct {
	cur    T
	exists bool
	// external: a resource the stack uses but does not own (the VPC and
	// gateway of network.vpc_id): recorded, never changed or deleted.
	external bool
	// duplicates are more resources with this step's tags: the answer to
	// a create was lost and the create was made again. The policy for all
	// kinds: keep the recorded one (else the first), delete the others.
	duplicates []T
}

// recorded is what the state keeps of a resource.
type recorded struct {
	id    string
	attrs map[string]string
}

// resourceStep is the plan.Step of every resource kind.
type resourceStep[T, F any] struct {
	env  *Env
	kind resourceKind[T, F]
	// typeName is the resource type written to the state file.
	typeName string

	// What the last Plan or PlanDelete saw, for the Apply or Delete of the
	// same attempt (the executor never runs one step twice at once).
	seen found[T]
	fix  F
	tags tagChange
}

func newResourceStep[T, F any](env *Env, typeName string, kind resourceKind[T, F]) *resourceStep[T, F] {
	return &resourceStep[T, F]{env: env, kind: kind, typeName: typeName}
}

func (s *resourceStep[T, F]) ID() plan.ID          { return s.kind.stepID() }
func (s *resourceStep[T, F]) DependsOn() []plan.ID { return s.kind.needs() }

func (s *resourceStep[T, F]) Plan(ctx context.Context) (plan.Change, error) {
	c := s.kind.describe()
	f, err := s.kind.find(ctx)
	if err != nil {
		return c, err
	}
	s.seen = f
	var none F
	s.fix, s.tags = none, tagChange{}
	if !f.exists {
		c.Action = plan.Create
		if cs, ok := s.kind.(creationShower[T]); ok {
			c.Reasons = cs.shownOnCreate(f)
		}
		return c, s.env.markGone(s.ID())
	}
	r := s.kind.record(f.cur)
	c.ID = r.id
	s.showFound(&c, f.cur)
	if f.external {
		c.Name = "existing " + strings.ReplaceAll(c.Kind, "-", " ")
		return c, s.env.external(s.ID(), s.typeName, r.id, r.attrs)
	}
	if err := s.env.created(s.ID(), s.typeName, r.id, r.attrs); err != nil {
		return c, err
	}
	fix, reasons, err := s.kind.diff(ctx, f.cur)
	if err != nil {
		return c, err
	}
	s.fix = fix
	tags, tagReasons, err := s.tagDrift(ctx, f.cur)
	if err != nil {
		return c, err
	}
	s.tags = tags
	reasons = append(reasons, tagReasons...)
	if st, ok := s.kind.(settler[T]); ok {
		c.Pending = st.pending(f.cur)
	}
	for _, d := range f.duplicates {
		reasons = append(reasons, duplicateReasons([]string{s.kind.record(d).id})...)
	}
	if len(reasons) > 0 {
		c.Action, c.Reasons = plan.Update, reasons
	}
	if r, ok := s.kind.(replacer[F]); ok && r.replaces(fix) {
		c.Action = plan.Replace
		s.env.noteReplacement(s.ID())
	}
	return c, nil
}

func (s *resourceStep[T, F]) Apply(ctx context.Context, c plan.Change) error {
	for _, d := range s.seen.duplicates {
		if err := s.kind.remove(ctx, d); err != nil {
			return fmt.Errorf("delete duplicate %s: %w", s.kind.record(d).id, err)
		}
	}
	cur, fix := s.seen.cur, s.fix
	if c.Action == plan.Replace {
		// The old one is on its way out (waiting for it to be gone is the
		// next attempt's business), or kept to be retired by another step;
		// its record goes, so the new one gets a new client token.
		if r, ok := s.kind.(retirer[T, F]); ok && r.retires(fix) {
			if err := r.retire(ctx, cur); err != nil {
				return err
			}
		} else if err := s.kind.remove(ctx, cur); err != nil && !plan.IsTryAgain(err) {
			return err
		}
		if err := s.env.markGone(s.ID()); err != nil {
			return err
		}
		c.Action = plan.Create
	}
	if c.Action == plan.Create {
		token, err := s.env.beginCreate(s.ID(), s.typeName)
		if err != nil {
			return err
		}
		if cur, fix, err = s.kind.create(ctx, token, s.seen); err != nil {
			return err
		}
		r := s.kind.record(cur)
		if err := s.env.created(s.ID(), s.typeName, r.id, r.attrs); err != nil {
			return err
		}
		plan.Made(ctx, r.id)
		// A new resource got the configuration's tags at creation.
		s.tags = tagChange{}
	}
	if err := s.kind.update(ctx, cur, fix); err != nil {
		return err
	}
	return s.retag(ctx, cur)
}

// PlanDelete finds what the step owns. A resource that is gone, or only
// used (external), is forgotten.
func (s *resourceStep[T, F]) PlanDelete(ctx context.Context) (plan.Change, error) {
	c := s.kind.describe()
	if r := s.env.Ledger.Get(string(s.ID())); r != nil && r.Status == state.StatusExternal {
		return c, s.env.forget(s.ID())
	}
	f, err := s.findForDelete(ctx)
	if err != nil {
		return c, err
	}
	s.seen = f
	if !f.exists || f.external {
		return c, s.env.forget(s.ID())
	}
	c.ID = s.kind.record(f.cur).id
	s.showFound(&c, f.cur)
	c.Action = plan.Delete
	return c, nil
}

// ec2Tagged is for kinds whose resources are EC2 resources: their tags
// follow the configuration's `tags:` through CreateTags and DeleteTags on
// the recorded id.
type ec2Tagged[T any] interface {
	ec2TagsOf(cur T) []ec2types.Tag
}

// tagKeeper is for other kinds whose resources carry the configuration's
// tags (an Auto Scaling group, an IAM role, a parameter): they read and
// change their tags through their own APIs.
type tagKeeper[T any] interface {
	tagsOf(ctx context.Context, cur T) (map[string]string, error)
	retag(ctx context.Context, cur T, c tagChange) error
}

// tagDrift compares the resource's tags with the configuration's.
func (s *resourceStep[T, F]) tagDrift(ctx context.Context, cur T) (tagChange, []string, error) {
	switch k := s.kind.(type) {
	case ec2Tagged[T]:
		c, reasons := s.env.tagDrift(ec2TagMap(k.ec2TagsOf(cur)))
		return c, reasons, nil
	case tagKeeper[T]:
		have, err := k.tagsOf(ctx, cur)
		if err != nil {
			return tagChange{}, nil, err
		}
		c, reasons := s.env.tagDrift(have)
		return c, reasons, nil
	}
	return tagChange{}, nil, nil
}

// retag applies the tag change the plan found.
func (s *resourceStep[T, F]) retag(ctx context.Context, cur T) error {
	if s.tags.empty() {
		return nil
	}
	switch k := s.kind.(type) {
	case ec2Tagged[T]:
		return s.env.retagEC2(ctx, s.kind.record(cur).id, s.tags)
	case tagKeeper[T]:
		return k.retag(ctx, cur, s.tags)
	}
	return nil
}

// creationShower is for kinds whose plan says more about a creation: what
// a new resource gets (an ACL's rules), or why it replaces one.
type creationShower[T any] interface {
	shownOnCreate(prior found[T]) []string
}

// foundShower is for kinds whose plan line shows what AWS chose (an
// Elastic IP's address).
type foundShower[T any] interface {
	shown(cur T) []plan.Attr
}

func (s *resourceStep[T, F]) showFound(c *plan.Change, cur T) {
	if fs, ok := s.kind.(foundShower[T]); ok {
		c.Attrs = append(c.Attrs, fs.shown(cur)...)
	}
}

// Delete removes the duplicates, then the resource, then its record.
func (s *resourceStep[T, F]) Delete(ctx context.Context, c plan.Change) error {
	for _, d := range s.seen.duplicates {
		if err := s.kind.remove(ctx, d); err != nil {
			return err
		}
	}
	if err := s.kind.remove(ctx, s.seen.cur); err != nil {
		return err
	}
	return s.env.forget(s.ID())
}

// settler is for kinds whose resources pass through a state in which they
// exist but cannot be used yet; pending returns it ("" when settled).
type settler[T any] interface {
	pending(cur T) string
}

// replacer is for kinds whose diff can ask for a new resource in place of
// the old one (an instance launched with another image or bootstrap).
type replacer[F any] interface {
	replaces(fix F) bool
}

// retirer is for kinds whose replaced resource is not removed at once but
// marked, for another step to retire (a manager that finishes its jobs).
type retirer[T, F any] interface {
	retires(fix F) bool
	retire(ctx context.Context, cur T) error
}

// teardownFinder is for kinds that look wider in a teardown than in a
// build (an instance that is shutting down still counts).
type teardownFinder[T any] interface {
	findForDelete(ctx context.Context) (found[T], error)
}

func (s *resourceStep[T, F]) findForDelete(ctx context.Context) (found[T], error) {
	if tf, ok := s.kind.(teardownFinder[T]); ok {
		return tf.findForDelete(ctx)
	}
	return s.kind.find(ctx)
}

// lookupOwned is the one lookup of every kind: the resources carrying this
// step's ownership tags (checked in code, since some APIs ignore tag
// filters), of which the recorded one is kept and the rest are duplicates.
func lookupOwned[T any](env *Env, step plan.ID, items []T, id func(T) string, owned func(T) bool) found[T] {
	var mine []T
	for _, it := range items {
		if owned(it) {
			mine = append(mine, it)
		}
	}
	if len(mine) == 0 {
		return found[T]{}
	}
	keep, dups := keepOne(mine, id, env.Ledger.Get(string(step)).RecordedID())
	return found[T]{cur: keep, exists: true, duplicates: dups}
}

// pointers turns an SDK answer's slice into pointers to its elements.
func pointers[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
