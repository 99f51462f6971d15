package command

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/ops"
	"github.com/provision-dev/provision/pkg/provision/preflight"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
	"github.com/provision-dev/provision/pkg/termtext"
)

// StatusOptions are the flags of `provision status`.
type StatusOptions struct {
	JSON bool
}

// Resource health as status reports it.
const (
	HealthOK       = "exists"
	HealthMissing  = "missing"
	HealthDrifted  = "drifted"
	HealthPending  = "pending"
	HealthExternal = "external"
	// HealthDraining: a replaced manager finishes its jobs (drain/manager).
	HealthDraining = "draining"
)

// Exit codes of status: as `plan --detailed-exitcode`, 2 means "not as
// configured".
const (
	StatusHealthy   = 0
	StatusUnhealthy = 2
)

// StatusEntry is one step of the configuration checked against AWS.
type StatusEntry struct {
	Step    string   `json:"step"`
	Kind    string   `json:"kind"`
	ID      string   `json:"id,omitempty"`
	Status  string   `json:"status"`
	Reasons []string `json:"reasons,omitempty"`
}

// StatusReport is what `status --json` prints.
type StatusReport struct {
	Stack     string        `json:"stack"`
	Region    string        `json:"region"`
	StateFile string        `json:"state_file"`
	Serial    int64         `json:"serial"`
	Resources []StatusEntry `json:"resources"`
	Facts     ops.Facts     `json:"facts"`
	// Healthy: every step exists and matches, the manager is online and
	// GitLab accepts its token for two weeks more at least.
	Healthy bool `json:"healthy"`
	// Problems are what makes it unhealthy besides the resources: the
	// boot, the token.
	Problems []string `json:"problems,omitempty"`
}

// Status checks every step of the configuration against AWS, and reads
// what makes the stack work: the boot report, GitLab's rules, the runner.
// It only reads. Exit 0 when everything exists and matches, 2 when
// anything is missing, drifted or pending (or the boot failed), 1 on error.
func Status(ctx context.Context, o Options, so StatusOptions) (int, error) {
	s, err := openSession(ctx, o, false, "status")
	if err != nil {
		return 1, err
	}
	defer s.close()
	changes, planned, err := s.computePlan(ctx, false, false)
	if err != nil {
		return 1, err
	}
	serial := int64(0)
	if s.doc != nil {
		serial = s.doc.Serial
	}
	rep := StatusReport{Stack: s.cfg.Stack, Region: s.awsCfg.Region, StateFile: s.store.Location(), Serial: serial, Resources: []StatusEntry{}}
	for _, c := range changes {
		// A manager handover with nothing to hand over is no resource.
		if c.Kind == stack.KindManagerDrain && c.Action == plan.NoOp {
			continue
		}
		e := StatusEntry{Step: string(c.Step), Kind: c.Kind, ID: c.ID, Status: health(planned.Get(string(c.Step)), c), Reasons: c.Reasons}
		if c.Action == plan.Create {
			e.Reasons = nil
		}
		rep.Resources = append(rep.Resources, e)
	}
	built := s.doc != nil
	for _, e := range rep.Resources {
		built = built || e.Status != HealthMissing
	}
	if !built {
		// Nothing to show but a table of missing rows: one line says it.
		if so.JSON {
			rep.Problems = []string{"not built"}
			enc := json.NewEncoder(o.Stdout)
			enc.SetIndent("", "  ")
			return StatusUnhealthy, enc.Encode(rep)
		}
		fmt.Fprintf(o.Stdout, "Stack %q in %s has not been built: no state file (%s) and none of its resources exist. `provision up` builds it.\n", s.cfg.Stack, s.awsCfg.Region, s.store.Location())
		return StatusUnhealthy, nil
	}
	rep.Facts = s.stack.Inspect(ctx, planned)
	rep.Problems = stackProblems(rep.Facts, time.Now())
	rep.Healthy = len(rep.Problems) == 0
	for _, e := range rep.Resources {
		if e.Status != HealthOK && e.Status != HealthExternal {
			rep.Healthy = false
		}
	}
	code := StatusHealthy
	if !rep.Healthy {
		code = StatusUnhealthy
	}
	if so.JSON {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return code, enc.Encode(rep)
	}
	if s.doc == nil {
		fmt.Fprintf(o.Stdout, "Stack %q has no state file (%s), but some of its resources exist (found by their tags): `provision up` adopts them and builds the rest; `provision down --discover` removes them.\n\n", s.cfg.Stack, s.store.Location())
	}
	return code, renderStatus(o.Stdout, rep)
}

// stackProblems are what the facts say is wrong besides the resources:
// a boot that failed, stalled or never reported, a manager not running,
// a token GitLab rejects or that expires within two weeks.
func stackProblems(f ops.Facts, now time.Time) []string {
	var ps []string
	if f.ManagerID != "" {
		switch b := f.Boot; {
		case f.ManagerState != "" && f.ManagerState != "running" && f.ManagerState != "pending":
			ps = append(ps, fmt.Sprintf("the manager %s is %s", f.ManagerID, f.ManagerState))
		case b == nil:
			ps = append(ps, "the manager has not reported its boot yet")
		case b.Failed():
			ps = append(ps, fmt.Sprintf("the manager's boot failed at stage %s", b.Stage))
		case !b.Online() && now.Sub(b.Time) > DefaultWaitTimeout:
			ps = append(ps, fmt.Sprintf("the manager's boot report is stale: stage %s at %s, %s ago", b.Stage, b.Time.Format(time.RFC3339), now.Sub(b.Time).Round(time.Minute)))
		case !b.Online():
			ps = append(ps, fmt.Sprintf("the manager is not online yet (its boot is at stage %s)", b.Stage))
		}
	}
	fleets := f.Fleets
	if len(fleets) == 0 {
		fleets = []ops.FleetFacts{{Name: config.DefaultFleet, RunnerTokenExpiresAt: f.RunnerTokenExpiresAt}}
	}
	for _, fl := range fleets {
		token := "the runner token"
		if len(fleets) > 1 {
			token = "the runner token of fleet " + fl.Name
		}
		switch exp := fl.RunnerTokenExpiresAt; {
		case strings.HasPrefix(exp, "unknown (") && strings.Contains(exp, "reject"):
			ps = append(ps, "GitLab rejects "+token)
		case exp != "" && exp != "never" && !strings.HasPrefix(exp, "unknown"):
			if t, err := time.Parse(time.RFC3339, exp); err == nil && t.Sub(now) < preflight.TokenExpiryWarning {
				ps = append(ps, token+" expires on "+t.Format(time.RFC3339))
			}
		}
	}
	return ps
}

func health(rec *state.Resource, c plan.Change) string {
	switch {
	case c.Kind == stack.KindManagerDrain && c.Action == plan.Delete:
		return HealthDraining
	case rec != nil && rec.Status == state.StatusExternal:
		return HealthExternal
	case c.Action == plan.Create:
		return HealthMissing
	case c.Pending != "":
		return HealthPending
	case c.Action == plan.Update || c.Action == plan.Replace:
		return HealthDrifted
	default:
		return HealthOK
	}
}

func renderStatus(w io.Writer, rep StatusReport) error {
	fmt.Fprintf(w, "Stack %q in %s (state %s, serial %d)\n\n", rep.Stack, rep.Region, rep.StateFile, rep.Serial)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tKIND\tID\tSTATUS")
	counts := map[string]int{}
	for _, e := range rep.Resources {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Step, e.Kind, e.ID, e.Status)
		for _, r := range e.Reasons {
			// A reason may quote a value set outside the tool (a tag).
			fmt.Fprintf(tw, "\t\t  %s\t\n", termtext.Clean(r))
		}
		counts[e.Status]++
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var parts []string
	for _, k := range []string{HealthOK, HealthExternal, HealthPending, HealthDraining, HealthDrifted, HealthMissing} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	f := rep.Facts
	fmt.Fprintln(w)
	if f.ManagerID != "" {
		fmt.Fprintf(w, "Manager:        %s (%s)\n", f.ManagerID, f.ManagerState)
	}
	if f.ASGDesired != nil && len(f.Fleets) <= 1 {
		fmt.Fprintf(w, "Runner machines: %d desired, %d in service\n", *f.ASGDesired, *f.ASGInService)
	}
	if f.NATAddress != "" || f.ManagerAddress != "" {
		fmt.Fprintf(w, "Elastic IPs:    NAT %s, manager %s\n", f.NATAddress, f.ManagerAddress)
	}
	if f.GitLabIngress != "" {
		fmt.Fprintf(w, "GitLab's group: %s\n", f.GitLabIngress)
	}
	if b := f.Boot; b != nil {
		fmt.Fprintf(w, "Manager boot:   %s %s at %s", b.Stage, b.Status, b.Time.Format(time.RFC3339))
		if b.Failed() && b.Detail != "" {
			fmt.Fprintf(w, ": %s", b.Detail)
		}
		fmt.Fprintln(w)
	} else if f.ManagerID != "" {
		fmt.Fprintln(w, "Manager boot:   no report yet")
	}
	if f.ConfigVersion != "" {
		fmt.Fprintf(w, "Runner config:  version %s in ssm/runner-config", f.ConfigVersion)
		switch b := f.Boot; {
		case b == nil || b.Config == "":
		case b.Config == f.ConfigVersion:
			fmt.Fprint(w, ", which the manager runs")
		default:
			fmt.Fprintf(w, "; the manager runs version %s and applies the new one within %d s", b.Config, bootstrap.ConfigPollSeconds)
		}
		fmt.Fprintln(w)
	}
	if len(f.Fleets) > 1 {
		writeFleets(w, f.Fleets)
	} else if f.RunnerID != "" {
		st := f.RunnerStatus
		if st == "" {
			st = "set GITLAB_TOKEN to see it"
		}
		fmt.Fprintf(w, "GitLab runner:  %s (%s)\n", f.RunnerID, termtext.Clean(st))
	}
	if f.RunnerTokenExpiresAt != "" && len(f.Fleets) <= 1 {
		fmt.Fprintf(w, "Runner token:   expires %s (gitlab-runner renews it and provision stores the new one)\n", termtext.Clean(f.RunnerTokenExpiresAt))
	}
	// One summary line: healthy or not, the counts, what else is wrong,
	// and what to do.
	verdict := "Healthy"
	if !rep.Healthy {
		verdict = "Not healthy"
	}
	fmt.Fprintf(w, "\n%s: %s", verdict, strings.Join(parts, ", "))
	if len(rep.Problems) > 0 {
		fmt.Fprintf(w, "; %s", termtext.Clean(strings.Join(rep.Problems, "; ")))
	}
	fmt.Fprint(w, ".")
	switch {
	case counts[HealthDrifted]+counts[HealthMissing] > 0:
		fmt.Fprint(w, " Run `provision up` to repair.")
	case counts[HealthPending] > 0:
		fmt.Fprint(w, " Pending resources become ready by themselves; `provision up` waits for them.")
	case counts[HealthDraining] > 0:
		fmt.Fprint(w, " A replaced manager finishes its jobs; the next `provision up` removes what it leaves.")
	case f.Boot.Failed():
		fmt.Fprint(w, " The manager's boot failed: `provision doctor` checks its network paths.")
	case len(rep.Problems) > 0:
		fmt.Fprint(w, " `provision doctor` checks the paths and the token.")
	}
	fmt.Fprintln(w)
	return nil
}

// writeFleets writes a line per fleet: its machines, its runner in GitLab
// and its token's expiry.
func writeFleets(w io.Writer, fleets []ops.FleetFacts) {
	fmt.Fprintln(w, "Fleets:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  FLEET\tEXECUTOR\tMACHINES\tGITLAB RUNNER\tTOKEN EXPIRES")
	for _, fl := range fleets {
		machines := "-"
		if fl.ASGDesired != nil {
			machines = fmt.Sprintf("%d desired, %d in service", *fl.ASGDesired, *fl.ASGInService)
		}
		runner := "-"
		if fl.RunnerID != "" {
			runner = fl.RunnerID + " (" + cmp.Or(fl.RunnerStatus, "set GITLAB_TOKEN to see it") + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", fl.Name, fl.Executor, machines, termtext.Clean(runner), termtext.Clean(cmp.Or(fl.RunnerTokenExpiresAt, "-")))
	}
	_ = tw.Flush()
}
