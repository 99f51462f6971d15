package command

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/provision-dev/provision/pkg/state"
)

// A state of another stack is refused, naming both, before anything runs.
func TestSessionStateOfAnotherStack(t *testing.T) {
	ct := newCommandTest(t)
	if err := state.NewStore(ct.stateFile()).Save(state.New("other", "eu-west-1")); err != nil {
		t.Fatal(err)
	}
	code, err := Up(context.Background(), ct.options(false, ""), UpOptions{AutoApprove: true})
	ct.want("up", code, 1, err, `belongs to stack "other", not "unit"`, "--state or --config")
	if ct.world.exists("a") {
		t.Error("up over another stack's state changed something")
	}
}

// A state of another region is refused, naming the --region that fits it.
func TestSessionStateOfAnotherRegion(t *testing.T) {
	ct := newCommandTest(t)
	if err := state.NewStore(ct.stateFile()).Save(state.New("unit", "eu-central-1")); err != nil {
		t.Fatal(err)
	}
	code, err := Plan(context.Background(), ct.options(false, ""), PlanOptions{})
	ct.want("plan", code, 1, err, "is for region eu-central-1 but this run uses eu-west-1: pass --region eu-central-1")
}

// --state names where the state lives instead of the default file.
func TestSessionStatePath(t *testing.T) {
	ct := newCommandTest(t)
	o := ct.options(false, "")
	o.StatePath = filepath.Join(ct.dir, "custom.json")
	code, err := Up(context.Background(), o, UpOptions{AutoApprove: true})
	ct.want("up --state", code, 0, err)
	ct.load(o.StatePath)
	if doc, err := state.NewStore(ct.stateFile()).Load(); err != nil || doc != nil {
		t.Errorf("up --state also wrote the default state file (%v)", err)
	}
}

// A configuration file that does not exist is an error of every command.
func TestSessionNoConfiguration(t *testing.T) {
	ct := newCommandTest(t)
	o := ct.options(false, "")
	o.ConfigPath = filepath.Join(ct.dir, "absent.yaml")
	for name, run := range map[string]func() (int, error){
		"plan":   func() (int, error) { return Plan(context.Background(), o, PlanOptions{}) },
		"status": func() (int, error) { return Status(context.Background(), o, StatusOptions{}) },
		"output": func() (int, error) { return Output(context.Background(), o, OutputOptions{}) },
		"graph":  func() (int, error) { return Graph(context.Background(), o, GraphOptions{Format: "dot", View: "steps"}) },
	} {
		code, err := run()
		ct.want(name, code, 1, err, "absent.yaml")
	}
}
