package command

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/provision-dev/provision/pkg/state"
)

// built runs up so that the stack has a state of a and b.
func (ct *commandTest) built() *state.Document {
	ct.t.Helper()
	code, err := Up(context.Background(), ct.options(false, ""), UpOptions{AutoApprove: true})
	ct.want("up", code, 0, err)
	return ct.load(ct.stateFile())
}

func (ct *commandTest) load(path string) *state.Document {
	ct.t.Helper()
	doc, err := state.NewStore(path).Load()
	if err != nil || doc == nil {
		ct.t.Fatalf("load %s: %v %v", path, doc, err)
	}
	return doc
}

// write saves doc as a file to push and returns its path.
func (ct *commandTest) write(name string, doc *state.Document) string {
	ct.t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		ct.t.Fatal(err)
	}
	path := filepath.Join(ct.dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		ct.t.Fatal(err)
	}
	return path
}

// state pull prints the document as it is; without a state it says so.
func TestStatePull(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	code, err := StatePull(ctx, ct.options(false, ""))
	ct.want("pull without a state", code, 1, err, "there is no state at")
	saved := ct.built()
	code, err = StatePull(ctx, ct.options(false, ""))
	ct.want("pull", code, 0, err)
	var doc state.Document
	if err := json.Unmarshal(ct.out.Bytes(), &doc); err != nil || doc.Lineage != saved.Lineage || doc.Serial != saved.Serial || len(doc.Resources) != 2 {
		t.Fatalf("pulled %+v (%v), want the saved state", doc, err)
	}
}

// state list prints a header and a line per resource, sorted; nothing without a state.
func TestStateList(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	code, err := StateList(ctx, ct.options(false, ""))
	ct.want("list without a state", code, 0, err)
	if ct.out.Len() != 0 {
		t.Errorf("list without a state printed %q", ct.out.String())
	}
	ct.built()
	code, err = StateList(ctx, ct.options(false, ""))
	ct.want("list", code, 0, err)
	if got, want := ct.out.String(), "STEP  TYPE  ID    STATUS\na     fake  id-a  created\nb     fake  id-b  created\n"; got != want {
		t.Errorf("list printed %q, want %q", got, want)
	}
}

// state show prints one step's record, and names `state list` for an unknown step.
func TestStateShow(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	ct.built()
	code, err := StateShow(ctx, ct.options(false, ""), "b")
	ct.want("show b", code, 0, err)
	var r state.Resource
	if err := json.Unmarshal(ct.out.Bytes(), &r); err != nil || r.ID != "id-b" || r.Type != "fake" {
		t.Errorf("show b: %+v %v", r, err)
	}
	code, err = StateShow(ctx, ct.options(false, ""), "nat")
	ct.want("show an unknown step", code, 1, err, `records nothing for "nat"`, "provision state list")
}

// state push takes a newer serial of the lineage; other stacks, lineages, serials leave it as it was.
func TestStatePush(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	saved := ct.built()
	push := func(doc *state.Document) (int, error) {
		return StatePush(ctx, ct.options(false, ""), ct.write("push.json", doc))
	}

	other := saved.Clone()
	other.Stack, other.Serial = "other", saved.Serial+1
	code, err := push(other)
	ct.want("push of another stack", code, 1, err, `state of stack "other", not "unit"`)
	lineage := state.New("unit", "eu-west-1")
	lineage.Serial = saved.Serial + 1
	code, err = push(lineage)
	ct.want("push of another lineage", code, 1, err, "they are different states")
	code, err = push(saved)
	ct.want("push of the same serial", code, 1, err, "refusing to go back")
	code, err = StatePush(ctx, ct.options(false, ""), filepath.Join(ct.dir, "absent.json"))
	ct.want("push of no file", code, 1, err, "read ")
	if got := ct.load(ct.stateFile()); got.Serial != saved.Serial {
		t.Fatalf("a refused push changed the state: serial %d", got.Serial)
	}

	newer := saved.Clone()
	newer.Serial = saved.Serial + 5
	delete(newer.Resources, "b")
	code, err = push(newer)
	ct.want("push", code, 0, err, "Pushed ", "(serial "+itoa(newer.Serial)+")")
	if got := ct.load(ct.stateFile()); got.Serial != newer.Serial || len(got.Resources) != 1 {
		t.Errorf("after the push: serial %d, %d resources", got.Serial, len(got.Resources))
	}
}

// Where there is no state yet, any document of the stack is taken.
func TestStatePushWithoutState(t *testing.T) {
	ct := newCommandTest(t)
	doc := state.New("unit", "eu-west-1")
	doc.Serial = 3
	code, err := StatePush(context.Background(), ct.options(false, ""), ct.write("push.json", doc))
	ct.want("push", code, 0, err)
	if got := ct.load(ct.stateFile()); got.Lineage != doc.Lineage {
		t.Errorf("pushed lineage %s, state has %s", doc.Lineage, got.Lineage)
	}
}

// state migrate moves the state one serial on, removes the old file and records the new place.
func TestStateMigrate(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	saved := ct.built()
	to := filepath.Join(ct.dir, "elsewhere", "unit.json")
	code, err := StateMigrate(ctx, ct.options(false, ""), to)
	ct.want("migrate", code, 0, err, "Moved the state of stack unit", to)
	if got := ct.load(to); got.Lineage != saved.Lineage || got.Serial != saved.Serial+1 {
		t.Errorf("migrated state: lineage %s serial %d", got.Lineage, got.Serial)
	}
	if _, err := os.Stat(ct.stateFile()); !os.IsNotExist(err) {
		t.Errorf("the old state file is still there: %v", err)
	}
	if rec := ct.world.record; rec == nil || !strings.HasSuffix(rec.Location, to) || !strings.HasPrefix(rec.Location, "file://") || rec.Lineage != saved.Lineage {
		t.Errorf("the stack records %+v", rec)
	}
}

// migrate refuses no state, the same place and an occupied destination, changing nothing.
func TestStateMigrateRefusals(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	code, err := StateMigrate(ctx, ct.options(false, ""), filepath.Join(ct.dir, "x.json"))
	ct.want("migrate without a state", code, 1, err, "there is no state at")
	saved := ct.built()
	code, err = StateMigrate(ctx, ct.options(false, ""), ct.stateFile())
	ct.want("migrate to where it is", code, 1, err, "already at")
	taken := filepath.Join(ct.dir, "taken.json")
	if err := state.NewStore(taken).Save(state.New("unit", "eu-west-1")); err != nil {
		t.Fatal(err)
	}
	code, err = StateMigrate(ctx, ct.options(false, ""), taken)
	ct.want("migrate onto a state", code, 1, err, "already holds a state", "move it away first")
	if got := ct.load(ct.stateFile()); got.Serial != saved.Serial {
		t.Errorf("a refused migrate changed the state")
	}
}

// force-unlock has nothing to do for a local state, and says why.
func TestForceUnlockLocal(t *testing.T) {
	ct := newCommandTest(t)
	code, err := ForceUnlock(context.Background(), ct.options(false, ""), "lock-id")
	ct.want("force-unlock", code, 1, err, "is a local file")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
