package command

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision"
	"github.com/provision-dev/provision/pkg/state"
)

// When the state file is lost, up changes nothing and records the found resources again.
func TestUpRecordsFoundResources(t *testing.T) {
	ct := newCommandTest(t)
	ct.world.set("a", true)
	ct.world.set("b", true)
	code, err := Up(context.Background(), ct.options(false, ""), UpOptions{})
	ct.want("up", code, 0, err, "No changes.")
	doc := ct.load(ct.stateFile())
	if len(doc.Resources) != 2 || doc.Resources["a"].ID != "id-a" {
		t.Errorf("the state records %v", doc.Resources)
	}
	if ct.world.record == nil || ct.world.record.Lineage != doc.Lineage {
		t.Errorf("the stack records %+v, want the state's lineage %s", ct.world.record, doc.Lineage)
	}
}

// up refuses a stack whose state lives elsewhere; --adopt makes this state the stack's.
func TestUpStateElsewhere(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	ct.world.record = &provision.StateRecord{Location: "s3://other-bucket/unit.json", Lineage: "l-1"}
	code, err := Up(ctx, ct.options(false, ""), UpOptions{AutoApprove: true})
	ct.want("up", code, 1, err, "keeps its state at s3://other-bucket/unit.json", "provision state migrate", "--adopt")
	if ct.world.exists("a") {
		t.Fatal("up of a state that is not the stack's changed something")
	}
	code, err = Up(ctx, ct.options(false, ""), UpOptions{AutoApprove: true, Adopt: true})
	ct.want("up --adopt", code, 0, err, "Apply complete!")
	if rec := ct.world.record; rec.Location != stateLocation(state.NewStore(ct.stateFile())) {
		t.Errorf("after up --adopt the stack records %+v", rec)
	}
}

// What the configuration turned off is planned last and removed by up.
func TestUpRemovesRetired(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	ct.world.set("old", true)
	st := &scriptedStack{fakeStack: fakeStack{ct.world}, retired: func(l *state.Ledger) (*plan.Graph, error) {
		return plan.NewGraph(&fakeStep{id: "old", world: ct.world, ledger: l})
	}}
	code, err := Plan(ctx, st.use(ct.options(false, "")), PlanOptions{})
	ct.want("plan", code, 0, err, "- old", "Plan: 2 to add, 0 to change, 1 to destroy.")
	code, err = Up(ctx, st.use(ct.options(false, "")), UpOptions{AutoApprove: true})
	ct.want("up", code, 0, err, "Apply complete! Resources: 2 added, 0 changed, 1 destroyed.")
	if ct.world.exists("old") {
		t.Error("up left what the configuration turned off")
	}
}

// At debug level every step's start and end is logged with its action.
func TestUpLogsStepsAtDebug(t *testing.T) {
	ct := newCommandTest(t)
	core, logs := observer.New(zapcore.DebugLevel)
	o := ct.options(false, "")
	o.Log = zap.New(core)
	code, err := Up(context.Background(), o, UpOptions{AutoApprove: true})
	ct.want("up", code, 0, err)
	found := false
	for _, e := range logs.FilterMessage("step").All() {
		f := e.ContextMap()
		if f["step"] == "a" && f["phase"] == string(plan.PhaseDone) && f["action"] == "create" {
			found = true
		}
	}
	if !found {
		t.Errorf("no debug line of a's creation among %d lines", logs.Len())
	}
}

// An up that fails part-way says what to do, and keeps what was done.
func TestUpFailureKeepsProgress(t *testing.T) {
	ct := newCommandTest(t)
	st := &scriptedStack{fakeStack: fakeStack{ct.world}, steps: func(l *state.Ledger) (*plan.Graph, error) {
		a := &fakeStep{id: "a", world: ct.world, ledger: l}
		b := failingStep{&fakeStep{id: "b", deps: []plan.ID{"a"}, world: ct.world, ledger: l}, errors.New("no capacity")}
		return plan.NewGraph(a, b)
	}}
	code, err := Up(context.Background(), st.use(ct.options(false, "")), UpOptions{AutoApprove: true})
	ct.want("up", code, 1, err, "up did not finish (what was done is saved; run `provision up` again to continue)", "  b: no capacity")
	if !ct.world.exists("a") || ct.world.exists("b") {
		t.Fatal("a was not built, or b was")
	}
	if doc := ct.load(ct.stateFile()); doc.Resources["a"] == nil || doc.Resources["b"] != nil {
		t.Errorf("the state records %v, want a alone", doc.Resources)
	}
}
