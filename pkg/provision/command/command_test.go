package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.uber.org/zap"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/ops"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// fakeWorld stands in for AWS: which resources exist.
type fakeWorld struct {
	mu        sync.Mutex
	have      map[plan.ID]bool
	preflight error
	record    *provision.StateRecord
}

func (w *fakeWorld) exists(id plan.ID) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.have[id]
}

func (w *fakeWorld) set(id plan.ID, on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.have[id] = on
}

// fakeStep is one resource of the fake world, recorded in the state as a
// real step records its resource.
type fakeStep struct {
	id     plan.ID
	deps   []plan.ID
	world  *fakeWorld
	ledger *state.Ledger
}

func (s *fakeStep) ID() plan.ID          { return s.id }
func (s *fakeStep) DependsOn() []plan.ID { return s.deps }
func (s *fakeStep) change() plan.Change {
	return plan.Change{Step: s.id, Kind: "fake", Name: "fake-" + string(s.id)}
}
func (s *fakeStep) record() error {
	return s.ledger.Put(string(s.id), &state.Resource{Type: "fake", ID: "id-" + string(s.id), Status: state.StatusCreated})
}

func (s *fakeStep) Plan(context.Context) (plan.Change, error) {
	c := s.change()
	if !s.world.exists(s.id) {
		c.Action = plan.Create
		return c, nil
	}
	c.ID = "id-" + string(s.id)
	return c, s.record()
}

func (s *fakeStep) Apply(context.Context, plan.Change) error {
	s.world.set(s.id, true)
	return s.record()
}

func (s *fakeStep) PlanDelete(context.Context) (plan.Change, error) {
	c := s.change()
	if !s.world.exists(s.id) {
		return c, s.ledger.Remove(string(s.id))
	}
	c.ID, c.Action = "id-"+string(s.id), plan.Delete
	return c, nil
}

func (s *fakeStep) Delete(context.Context, plan.Change) error {
	s.world.set(s.id, false)
	return s.ledger.Remove(string(s.id))
}

// fakeStack gives the commands two steps, b after a, over the fake world.
type fakeStack struct{ world *fakeWorld }

func (f fakeStack) ReadStateRecord(context.Context) (*provision.StateRecord, error) {
	f.world.mu.Lock()
	defer f.world.mu.Unlock()
	return f.world.record, nil
}

func (f fakeStack) WriteStateRecord(_ context.Context, r provision.StateRecord) error {
	f.world.mu.Lock()
	defer f.world.mu.Unlock()
	f.world.record = &r
	return nil
}

func (f fakeStack) DeleteStateRecord(context.Context) error {
	f.world.mu.Lock()
	defer f.world.mu.Unlock()
	f.world.record = nil
	return nil
}

func (f fakeStack) Discover(context.Context, *state.Ledger, bool) (stack.Discovery, error) {
	return stack.Discovery{Zone: "eu-west-1a"}, nil
}

func (f fakeStack) Preflight(context.Context, *state.Ledger) (stack.Discovery, error) {
	return stack.Discovery{Zone: "eu-west-1a"}, f.world.preflight
}

func (f fakeStack) Steps(ledger *state.Ledger, _ stack.EnvOptions) (*plan.Graph, error) {
	return plan.NewGraph(&fakeStep{id: "a", world: f.world, ledger: ledger}, &fakeStep{id: "b", deps: []plan.ID{"a"}, world: f.world, ledger: ledger})
}

func (f fakeStack) Retired(*state.Ledger, stack.EnvOptions) (*plan.Graph, error) {
	return plan.NewGraph()
}

func (f fakeStack) BootReport(context.Context, *state.Ledger, bool) (*stack.BootReport, error) {
	return &stack.BootReport{Stage: "online", Status: "ok"}, nil
}

func (f fakeStack) DiagnoseBoot(context.Context, *state.Ledger, *stack.BootReport) ops.BootDiagnosis {
	return ops.BootDiagnosis{}
}

func (f fakeStack) DeleteBootReport(context.Context) error { return nil }

func (f fakeStack) OnDemandPrices(context.Context, []string) (map[string]float64, error) {
	return nil, errors.New("no Price List API here")
}

func (f fakeStack) ReadLogs(context.Context, ops.LogQuery) ([]ops.LogLine, error) { return nil, nil }

func (f fakeStack) SpotPrices(_ context.Context, types []string) (map[string]float64, error) {
	prices := map[string]float64{}
	for _, t := range types {
		if t == "t3.medium" {
			prices[t] = 0.0125
		}
	}
	return prices, nil
}

func (f fakeStack) RunnerOnline(context.Context, *state.Ledger) (string, error) { return "", nil }

func (f fakeStack) Doctor(context.Context, *state.Ledger) ([]ops.Flow, error) {
	return []ops.Flow{{Name: "a -> b", OK: true}}, nil
}

func (f fakeStack) Inspect(context.Context, *state.Ledger) ops.Facts {
	return ops.Facts{ManagerID: "i-fake", ManagerState: "running", Boot: &stack.BootReport{Stage: bootstrap.StageOnline, Status: "ok", Time: time.Now()}}
}

// commandTest is a configuration in a temporary directory, the fake world
// and captured output.
type commandTest struct {
	t     *testing.T
	dir   string
	world *fakeWorld
	out   bytes.Buffer
}

func newCommandTest(t *testing.T) *commandTest {
	t.Helper()
	// The machine's AWS settings stay out: the region is the file's.
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(os.DevNull, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(os.DevNull, "none"))
	ct := &commandTest{t: t, dir: t.TempDir(), world: &fakeWorld{have: map[plan.ID]bool{}}}
	if err := os.WriteFile(filepath.Join(ct.dir, "provision.yaml"), []byte("stack: unit\nregion: eu-west-1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return ct
}

func (ct *commandTest) options(interactive bool, stdin string) Options {
	ct.out.Reset()
	return Options{
		ConfigPath: filepath.Join(ct.dir, "provision.yaml"), Log: zap.NewNop(),
		Stdin: strings.NewReader(stdin), Stdout: &ct.out, Interactive: interactive,
		NewStack: func(*config.Config, aws.Config, Options) Stack { return fakeStack{ct.world} },
	}
}

func (ct *commandTest) stateFile() string { return filepath.Join(ct.dir, ".provision", "unit.json") }

func (ct *commandTest) want(what string, code, wantCode int, err error, contains ...string) {
	ct.t.Helper()
	if code != wantCode {
		ct.t.Fatalf("%s: exit %d (err %v), want %d\n%s", what, code, err, wantCode, ct.out.String())
	}
	text := ct.out.String()
	if err != nil {
		text += err.Error()
	}
	for _, c := range contains {
		if !strings.Contains(text, c) {
			ct.t.Errorf("%s: output lacks %q:\n%s", what, c, text)
		}
	}
}

// plan, up, status and down as a person runs them, with their output and
// exit codes, and nothing of AWS.
func TestCommandsLifecycle(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()

	code, err := Plan(ctx, ct.options(false, ""), PlanOptions{})
	ct.want("plan", code, 0, err, "+ a  fake-a", "+ b  fake-b", "Plan: 2 to add, 0 to change, 0 to destroy.")
	code, err = Plan(ctx, ct.options(false, ""), PlanOptions{DetailedExitCode: true})
	ct.want("plan --detailed-exitcode", code, ExitChanges, err)

	code, err = Up(ctx, ct.options(false, ""), UpOptions{})
	ct.want("up without a terminal", code, 1, err, "--auto-approve")
	if ct.world.exists("a") {
		t.Fatalf("up without approval changed something")
	}
	code, err = Up(ctx, ct.options(true, "no\n"), UpOptions{})
	ct.want("up answered no", code, 1, err, "cancelled")

	code, err = Up(ctx, ct.options(true, "yes\n"), UpOptions{})
	ct.want("up", code, 0, err, "Apply complete! Resources: 2 added, 0 changed, 0 destroyed.")
	if !ct.world.exists("a") || !ct.world.exists("b") {
		t.Fatalf("up did not build both")
	}
	if _, err := os.Stat(ct.stateFile()); err != nil {
		t.Fatalf("no state file after up: %v", err)
	}
	code, err = Up(ctx, ct.options(false, ""), UpOptions{AutoApprove: true})
	ct.want("second up", code, 0, err, "No changes.")
	code, err = Plan(ctx, ct.options(false, ""), PlanOptions{DetailedExitCode: true})
	ct.want("plan after up", code, 0, err, "No changes.")

	code, err = Status(ctx, ct.options(false, ""), StatusOptions{JSON: true})
	ct.want("status --json", code, 0, err)
	var rep StatusReport
	if err := json.Unmarshal(ct.out.Bytes(), &rep); err != nil || len(rep.Resources) != 2 || rep.Resources[0].Status != HealthOK || rep.Facts.ManagerID != "i-fake" {
		t.Fatalf("status report %+v %v", rep, err)
	}
	ct.world.set("b", false)
	code, err = Status(ctx, ct.options(false, ""), StatusOptions{})
	ct.want("status with a resource gone", code, StatusUnhealthy, err, "b     fake        missing", "1 exists, 1 missing", "provision up")

	code, err = Down(ctx, ct.options(false, ""), DownOptions{AutoApprove: true})
	ct.want("down", code, 0, err, "Destroy complete! Resources: 1 destroyed.")
	if ct.world.exists("a") {
		t.Fatalf("down left a")
	}
	if _, err := os.Stat(ct.stateFile()); !os.IsNotExist(err) {
		t.Fatalf("the state file survives down: %v", err)
	}
	code, err = Down(ctx, ct.options(false, ""), DownOptions{AutoApprove: true})
	ct.want("down again", code, 0, err, "No changes.")
}

// A failed preflight changes nothing and says why.
func TestUpStopsAtPreflight(t *testing.T) {
	ct := newCommandTest(t)
	ct.world.preflight = errors.New("preflight found 1 problem(s); nothing was changed: the token is missing")
	code, err := Up(context.Background(), ct.options(false, ""), UpOptions{AutoApprove: true})
	ct.want("up", code, 1, err, "nothing was changed")
	if ct.world.exists("a") {
		t.Fatalf("up after a failed preflight changed something")
	}
	if _, err := os.Stat(ct.stateFile()); !os.IsNotExist(err) {
		t.Fatalf("a state file was written")
	}
}

// A dry run prints the plan and changes nothing.
func TestDryRuns(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	code, err := Up(ctx, ct.options(false, ""), UpOptions{DryRun: true})
	ct.want("up --dry-run", code, 0, err, "Plan: 2 to add")
	ct.world.set("a", true)
	code, err = Down(ctx, ct.options(false, ""), DownOptions{DryRun: true, Discover: true})
	ct.want("down --dry-run", code, 0, err, "1 to destroy")
	if !ct.world.exists("a") {
		t.Fatalf("a dry run changed something")
	}
}
