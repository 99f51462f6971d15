package command

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/ops"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// A stack never built: one line that says so, no table, exit 2.
func TestStatusWithoutState(t *testing.T) {
	ct := newCommandTest(t)
	code, err := Status(context.Background(), ct.options(false, ""), StatusOptions{})
	ct.want("status", code, StatusUnhealthy, err, `Stack "unit" in eu-west-1 has not been built: no state file`, "`provision up` builds it.")
	if strings.Contains(ct.out.String(), "missing") || strings.Count(strings.TrimSpace(ct.out.String()), "\n") != 0 {
		t.Errorf("a never-built stack gets more than one line:\n%s", ct.out.String())
	}
}

// What makes a stack unhealthy besides its resources, each named in the
// one summary line: the boot (none, failed, stalled, under way), the
// manager's state, a rejected or expiring token.
func TestStatusProblems(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	online := &stack.BootReport{Stage: bootstrap.StageOnline, Status: "ok", Time: now}
	cases := []struct {
		name  string
		facts ops.Facts
		want  string // "" : healthy
	}{
		{"online", ops.Facts{ManagerID: "i-1", ManagerState: "running", Boot: online, RunnerTokenExpiresAt: "never"}, ""},
		{"no report", ops.Facts{ManagerID: "i-1", ManagerState: "running"}, "the manager has not reported its boot yet"},
		{"booting", ops.Facts{ManagerID: "i-1", ManagerState: "running", Boot: &stack.BootReport{Stage: "docker", Status: "ok", Time: now.Add(-time.Minute)}}, "not online yet (its boot is at stage docker)"},
		{"stale", ops.Facts{ManagerID: "i-1", ManagerState: "running", Boot: &stack.BootReport{Stage: "docker", Status: "ok", Time: now.Add(-time.Hour)}}, "boot report is stale: stage docker"},
		{"stopped", ops.Facts{ManagerID: "i-1", ManagerState: "stopped", Boot: online}, "the manager i-1 is stopped"},
		{"rejected token", ops.Facts{ManagerID: "i-1", ManagerState: "running", Boot: online, RunnerTokenExpiresAt: "unknown (GitLab rejected the runner authentication token)"}, "GitLab rejects the runner token"},
		{"expiring token", ops.Facts{ManagerID: "i-1", ManagerState: "running", Boot: online, RunnerTokenExpiresAt: now.Add(72 * time.Hour).Format(time.RFC3339)}, "the runner token expires on 2026-12-09"},
		{"distant expiry", ops.Facts{ManagerID: "i-1", ManagerState: "running", Boot: online, RunnerTokenExpiresAt: now.Add(90 * 24 * time.Hour).Format(time.RFC3339)}, ""},
	}
	for _, c := range cases {
		got := strings.Join(stackProblems(c.facts, now), "; ")
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: problems %q, want %q", c.name, got, c.want)
		}
	}
}

// A failed boot makes a stack whose resources all exist unhealthy, pointing to doctor.
func TestStatusBootFailed(t *testing.T) {
	ct := newCommandTest(t)
	ct.built()
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	st := &scriptedStack{fakeStack: fakeStack{ct.world}, facts: &ops.Facts{ManagerID: "i-1", ManagerState: "running",
		Boot: &stack.BootReport{Stage: "token-read", Status: "failed", Detail: "no parameter", Time: at}}}
	code, err := Status(context.Background(), st.use(ct.options(false, "")), StatusOptions{})
	ct.want("status", code, StatusUnhealthy, err, "Manager boot:   token-read failed at 2025-03-01T12:00:00Z: no parameter", "Not healthy: 2 exists; the manager's boot failed at stage token-read. The manager's boot failed: `provision doctor`")
	code, err = Status(context.Background(), st.use(ct.options(false, "")), StatusOptions{JSON: true})
	ct.want("status --json", code, StatusUnhealthy, err)
	var rep StatusReport
	if err := json.Unmarshal(ct.out.Bytes(), &rep); err != nil || rep.Healthy || rep.Facts.Boot == nil {
		t.Errorf("status --json: %+v %v", rep, err)
	}
}

// A manager handover with nothing to hand over is not listed.
func TestStatusSkipsIdleHandover(t *testing.T) {
	ct := newCommandTest(t)
	ct.world.set("drain", true)
	st := &scriptedStack{fakeStack: fakeStack{ct.world}, steps: func(l *state.Ledger) (*plan.Graph, error) {
		return plan.NewGraph(&fakeStep{id: "a", world: ct.world, ledger: l}, kindStep{&fakeStep{id: "drain", world: ct.world, ledger: l}, stack.KindManagerDrain})
	}}
	code, err := Status(context.Background(), st.use(ct.options(false, "")), StatusOptions{JSON: true})
	ct.want("status", code, StatusUnhealthy, err)
	var rep StatusReport
	if err := json.Unmarshal(ct.out.Bytes(), &rep); err != nil || len(rep.Resources) != 1 || rep.Resources[0].Step != "a" {
		t.Errorf("status lists %+v (%v), want a alone", rep.Resources, err)
	}
}

// Each plan answer maps to its health: missing, pending, drifted, exists, or external.
func TestHealth(t *testing.T) {
	external := &state.Resource{Status: state.StatusExternal}
	created := &state.Resource{Status: state.StatusCreated}
	cases := []struct {
		rec  *state.Resource
		c    plan.Change
		want string
	}{
		{nil, plan.Change{Action: plan.Create}, HealthMissing},
		{created, plan.Change{Action: plan.NoOp, Pending: "pending"}, HealthPending},
		{created, plan.Change{Action: plan.Update}, HealthDrifted},
		{created, plan.Change{Action: plan.Replace}, HealthDrifted},
		{created, plan.Change{Action: plan.NoOp}, HealthOK},
		{external, plan.Change{Action: plan.Update}, HealthExternal},
	}
	for _, c := range cases {
		if got := health(c.rec, c.c); got != c.want {
			t.Errorf("health(%v, %s pending %q) = %s, want %s", c.rec, c.c.Action, c.c.Pending, got, c.want)
		}
	}
}

// status prints the facts it has and the counts, with the hint that fits.
func TestRenderStatusFacts(t *testing.T) {
	desired, inService := int32(2), 1
	rep := StatusReport{Stack: "ci", Region: "eu-west-1", StateFile: "s.json", Serial: 4,
		Resources: []StatusEntry{{Step: "vpc", Kind: "vpc", ID: "vpc-1", Status: HealthOK}, {Step: "nat", Kind: "nat", ID: "nat-1", Status: HealthPending}},
		Facts: ops.Facts{ManagerID: "i-1", ManagerState: "running", ASGDesired: &desired, ASGInService: &inService,
			NATAddress: "198.51.100.1", ManagerAddress: "198.51.100.2", GitLabIngress: "both", RunnerID: "101"}}
	var out bytes.Buffer
	if err := renderStatus(&out, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`Stack "ci" in eu-west-1 (state s.json, serial 4)`,
		"Manager:        i-1 (running)",
		"Runner machines: 2 desired, 1 in service",
		"Elastic IPs:    NAT 198.51.100.1, manager 198.51.100.2",
		"GitLab's group: both",
		"Manager boot:   no report yet",
		"GitLab runner:  101 (set GITLAB_TOKEN to see it)",
		"1 exists, 1 pending. Pending resources become ready by themselves",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
}
