package resource

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/state"
)

// thing is what the fake kind finds: an id, a size the configuration
// decides, and tags.
type thing struct {
	id   string
	size int
	tags map[string]string
}

// thingFix: the size to set, or a new thing in place of the old one.
type thingFix struct {
	size    int
	replace bool
	retire  bool
}

// cloud is the fake API behind the fake kind. Like AWS, a create with a
// client token it has seen returns the first thing again.
type cloud struct {
	things   []*thing
	byToken  map[string]*thing
	calls    []string
	next     int
	failNext error
}

func (c *cloud) create(token string, size int) (*thing, error) {
	c.calls = append(c.calls, "create")
	if err := c.failNext; err != nil {
		c.failNext = nil
		return nil, err
	}
	if t, ok := c.byToken[token]; ok {
		return t, nil
	}
	c.next++
	t := &thing{id: fmt.Sprintf("t-%d", c.next), size: size, tags: map[string]string{"owner": "fake"}}
	c.things = append(c.things, t)
	if c.byToken == nil {
		c.byToken = map[string]*thing{}
	}
	c.byToken[token] = t
	return t, nil
}

func (c *cloud) remove(id string) {
	c.calls = append(c.calls, "remove "+id)
	c.things = slices.DeleteFunc(c.things, func(t *thing) bool { return t.id == id })
}

// fakeKind is the smallest kind: it finds every thing the cloud has as
// its own, wants the configured size, and replaces a thing whose size is
// negative (or retires it, with retire set).
type fakeKind struct {
	cloud   *cloud
	records Records
	size    int
	retire  bool
	retired []string
	hooks   Hooks[*thing, thingFix]
}

const fakeStep plan.ID = "thing"

func (k *fakeKind) StepID() plan.ID  { return fakeStep }
func (k *fakeKind) Needs() []plan.ID { return nil }
func (k *fakeKind) Hooks() Hooks[*thing, thingFix] {
	h := k.hooks
	h.Replaces = func(f thingFix) bool { return f.replace }
	h.Retires = func(f thingFix) bool { return f.retire }
	h.Retire = func(_ context.Context, t *thing) error { k.retired = append(k.retired, t.id); return nil }
	return h
}
func (k *fakeKind) Describe() plan.Change {
	return plan.Change{Step: fakeStep, Kind: "thing", Name: "fake"}
}
func (k *fakeKind) Find(context.Context) (Found[*thing], error) {
	recorded := k.records.Ledger.Get(string(fakeStep)).RecordedID()
	return LookupOwned(recorded, k.cloud.things, func(t *thing) string { return t.id }, func(*thing) bool { return true }), nil
}
func (k *fakeKind) Record(t *thing) Recorded {
	return Recorded{ID: t.id, Attrs: map[string]string{"size": fmt.Sprint(t.size)}}
}
func (k *fakeKind) Diff(_ context.Context, t *thing) (thingFix, []string, error) {
	switch {
	case t.size < 0:
		return thingFix{replace: true, retire: k.retire}, []string{"broken"}, nil
	case t.size != k.size:
		return thingFix{size: k.size}, []string{fmt.Sprintf("size %d -> %d", t.size, k.size)}, nil
	}
	return thingFix{}, nil, nil
}
func (k *fakeKind) Create(_ context.Context, token string, _ Found[*thing]) (*thing, thingFix, error) {
	t, err := k.cloud.create(token, k.size)
	return t, thingFix{}, err
}
func (k *fakeKind) Update(_ context.Context, t *thing, f thingFix) error {
	if f.size != 0 {
		t.size = f.size
	}
	return nil
}
func (k *fakeKind) Remove(_ context.Context, t *thing) error {
	k.cloud.remove(t.id)
	return nil
}

// world is one test's cloud, state and step.
type world struct {
	cloud  *cloud
	ledger *state.Ledger
	kind   *fakeKind
	shared Shared
}

func newWorld() *world {
	w := &world{cloud: &cloud{}, ledger: state.NewLedger(state.New("ci", "eu-west-1"), nil)}
	w.shared = Shared{Records: Records{Ledger: w.ledger, Stack: "ci"}, Replacing: &Replacements{}}
	w.kind = &fakeKind{cloud: w.cloud, records: w.shared.Records, size: 2}
	return w
}

func (w *world) step() *Step[*thing, thingFix] {
	return NewStep(w.shared, "thing", Kind[*thing, thingFix](w.kind))
}

// apply plans and applies one step, as the executor does.
func (w *world) apply(t *testing.T) plan.Change {
	t.Helper()
	s := w.step()
	c, err := s.Plan(context.Background())
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if c.Action != plan.NoOp {
		if err := s.Apply(context.Background(), c); err != nil {
			t.Fatalf("apply %s: %v", c.Action, err)
		}
	}
	return c
}

func (w *world) record() *state.Resource { return w.ledger.Get(string(fakeStep)) }

func TestStepCreatesThenIsInSync(t *testing.T) {
	w := newWorld()
	if c := w.apply(t); c.Action != plan.Create {
		t.Fatalf("first plan: %s, want create", c.Action)
	}
	r := w.record()
	if r.Status != state.StatusCreated || r.ID != "t-1" || r.Attr("size") != "2" || r.ClientToken == "" {
		t.Fatalf("record after create: %+v", r)
	}
	if c := w.apply(t); c.Action != plan.NoOp || c.ID != "t-1" {
		t.Fatalf("second plan: %s %s, want no-op on t-1", c.Action, c.ID)
	}
	if len(w.cloud.things) != 1 {
		t.Fatalf("%d things, want 1", len(w.cloud.things))
	}
}

// A thing the state does not know but the tags say is the stack's is
// adopted: recorded, and changed to the configuration.
func TestStepAdoptsAndUpdates(t *testing.T) {
	w := newWorld()
	w.cloud.things = []*thing{{id: "t-9", size: 1}}
	c := w.apply(t)
	if c.Action != plan.Update || !reflect.DeepEqual(c.Reasons, []string{"size 1 -> 2"}) {
		t.Fatalf("plan: %s %q, want update with the size", c.Action, c.Reasons)
	}
	if w.cloud.things[0].size != 2 || w.record().ID != "t-9" {
		t.Fatalf("after apply: size %d, record %+v", w.cloud.things[0].size, w.record())
	}
}

// Duplicates (a create made twice) are deleted; the recorded one stays.
func TestStepDeletesDuplicatesKeepsTheRecorded(t *testing.T) {
	w := newWorld()
	w.cloud.things = []*thing{{id: "t-1", size: 2}, {id: "t-2", size: 2}, {id: "t-3", size: 2}}
	must(t, w.shared.Records.Created(fakeStep, "thing", "t-2", nil))
	c := w.apply(t)
	if c.Action != plan.Update || c.ID != "t-2" || len(c.Reasons) != 2 {
		t.Fatalf("plan: %s %s %q, want update of t-2 deleting two duplicates", c.Action, c.ID, c.Reasons)
	}
	if len(w.cloud.things) != 1 || w.cloud.things[0].id != "t-2" {
		t.Fatalf("left: %v", w.cloud.things)
	}
}

// A create whose answer was lost (the run died after the call) is made
// again with the same client token: the API answers with the first thing,
// so there is one thing, not two.
func TestStepLostAnswerReusesItsClientToken(t *testing.T) {
	w := newWorld()
	w.cloud.failNext = errors.New("connection reset")
	s := w.step()
	c, err := s.Plan(context.Background())
	must(t, err)
	if err := s.Apply(context.Background(), c); err == nil {
		t.Fatal("apply succeeded although the answer was lost")
	}
	// The call reached the API: it made the thing, but nobody heard.
	first := w.record()
	if first.Status != state.StatusCreating || first.ClientToken == "" {
		t.Fatalf("record after a lost answer: %+v", first)
	}
	made, _ := w.cloud.create(first.ClientToken, 2)
	w.cloud.things = nil // a kind with no tags at creation would not find it
	if c := w.apply(t); c.Action != plan.Create {
		t.Fatalf("retry plan: %s", c.Action)
	}
	if w.record().ID != made.id || w.record().ClientToken != first.ClientToken {
		t.Fatalf("the retry made %s with token %s, want %s with %s", w.record().ID, w.record().ClientToken, made.id, first.ClientToken)
	}
}

// A thing that disappears after it was created gets a new token for the
// next create: the old one would bring the dead thing back.
func TestStepNewTokenAfterTheThingIsGone(t *testing.T) {
	w := newWorld()
	w.apply(t)
	token := w.record().ClientToken
	w.cloud.things = nil
	w.apply(t)
	if w.record().ClientToken == token || w.record().Attr("token_generation") != "1" {
		t.Fatalf("after the thing was gone: token %s generation %s, want a new one", w.record().ClientToken, w.record().Attr("token_generation"))
	}
	if w.record().ID != "t-2" {
		t.Fatalf("recreated as %s, want t-2", w.record().ID)
	}
}

// A diff that asks for a replacement removes the old thing and makes a new
// one; one that retires it hands the old one to Retire instead.
func TestStepReplacesOrRetires(t *testing.T) {
	for _, retire := range []bool{false, true} {
		w := newWorld()
		w.kind.retire = retire
		w.cloud.things = []*thing{{id: "t-old", size: -1}}
		c := w.apply(t)
		if c.Action != plan.Replace || !w.shared.Replacing.Has(fakeStep) {
			t.Fatalf("retire=%v: plan %s, replacing noted %v", retire, c.Action, w.shared.Replacing.Has(fakeStep))
		}
		if w.record().ID == "t-old" || w.record().Status != state.StatusCreated {
			t.Fatalf("retire=%v: record %+v, want the new thing", retire, w.record())
		}
		removed := slices.Contains(w.cloud.calls, "remove t-old")
		if retire == removed || retire != slices.Contains(w.kind.retired, "t-old") {
			t.Fatalf("retire=%v: removed %v, retired %v", retire, removed, w.kind.retired)
		}
	}
}

// A resource the stack only uses is recorded as external and never
// changed; a teardown forgets it without deleting it.
func TestStepExternalIsNeverChanged(t *testing.T) {
	w := newWorld()
	w.kind.hooks.FindForDelete = func(context.Context) (Found[*thing], error) {
		return Found[*thing]{Cur: &thing{id: "t-user"}, Exists: true, External: true}, nil
	}
	s := w.step()
	c, err := s.PlanDelete(context.Background())
	must(t, err)
	if c.Action != plan.NoOp || w.record() != nil {
		t.Fatalf("teardown of an external thing: %s, record %+v", c.Action, w.record())
	}
	must(t, w.shared.Records.External(fakeStep, "thing", "t-user", nil))
	c, err = w.step().PlanDelete(context.Background())
	must(t, err)
	if c.Action != plan.NoOp || w.record() != nil {
		t.Fatalf("teardown of a recorded external thing: %s, record %+v", c.Action, w.record())
	}
}

// Teardown uses FindForDelete when the kind has it, and deletes the
// duplicates too.
func TestStepDeleteUsesFindForDelete(t *testing.T) {
	w := newWorld()
	w.cloud.things = []*thing{{id: "t-1"}, {id: "t-2"}}
	wider := false
	w.kind.hooks.FindForDelete = func(ctx context.Context) (Found[*thing], error) {
		wider = true
		return w.kind.Find(ctx)
	}
	s := w.step()
	c, err := s.PlanDelete(context.Background())
	must(t, err)
	if !wider || c.Action != plan.Delete {
		t.Fatalf("plan delete: %s, FindForDelete used %v", c.Action, wider)
	}
	must(t, w.shared.Records.Created(fakeStep, "thing", "t-1", nil))
	must(t, s.Delete(context.Background(), c))
	if len(w.cloud.things) != 0 || w.record() != nil {
		t.Fatalf("after delete: %v, record %+v", w.cloud.things, w.record())
	}
}

// EC2 tags follow the configuration's tags through CreateTags and
// DeleteTags; Shown, ShownOnCreate and Pending reach the plan line.
func TestStepHooksReachThePlan(t *testing.T) {
	w := newWorld()
	tagger := &fakeTagger{}
	w.shared.Tags, w.shared.EC2 = map[string]string{"team": "ci"}, tagger
	w.kind.hooks.ShownOnCreate = func(Found[*thing]) []string { return []string{"a new thing"} }
	w.kind.hooks.Shown = func(t *thing) []plan.Attr { return []plan.Attr{{Key: "id", Value: t.id}} }
	w.kind.hooks.Pending = func(*thing) string { return "starting" }
	w.kind.hooks.EC2Tags = func(t *thing) []ec2types.Tag {
		var out []ec2types.Tag
		for k, v := range t.tags {
			out = append(out, ec2types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		return out
	}
	if c := w.apply(t); !reflect.DeepEqual(c.Reasons, []string{"a new thing"}) {
		t.Fatalf("create reasons: %q", c.Reasons)
	}
	c := w.apply(t)
	if c.Action != plan.Update || c.Pending != "starting" || len(c.Attrs) != 1 || !slices.Contains(c.Reasons, "add tag team=ci") {
		t.Fatalf("second plan: %+v", c)
	}
	if !reflect.DeepEqual(tagger.set, map[string]string{"team": "ci", TagKeys: "team"}) || tagger.id != "t-1" {
		t.Fatalf("tags set on %s: %v", tagger.id, tagger.set)
	}
}

type fakeTagger struct {
	id  string
	set map[string]string
}

func (f *fakeTagger) CreateTags(_ context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	f.id, f.set = in.Resources[0], EC2TagMap(in.Tags)
	return &ec2.CreateTagsOutput{}, nil
}

func (f *fakeTagger) DeleteTags(context.Context, *ec2.DeleteTagsInput, ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error) {
	return &ec2.DeleteTagsOutput{}, nil
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
