package command

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision"
	"github.com/provision-dev/provision/pkg/state"
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
	HealthExternal = "external"
)

// StatusEntry is one recorded resource checked against AWS.
type StatusEntry struct {
	Step    string   `json:"step"`
	Kind    string   `json:"kind"`
	ID      string   `json:"id"`
	Status  string   `json:"status"`
	Reasons []string `json:"reasons,omitempty"`
}

// StatusReport is what `status --json` prints.
type StatusReport struct {
	Stack     string          `json:"stack"`
	Region    string          `json:"region"`
	StateFile string          `json:"state_file"`
	Serial    int64           `json:"serial"`
	Resources []StatusEntry   `json:"resources"`
	Facts     provision.Facts `json:"facts"`
}

// Status compares what the state file records with what AWS has. It only
// reads.
func Status(ctx context.Context, o Options, so StatusOptions) (int, error) {
	s, err := openSession(ctx, o, false, "status")
	if err != nil {
		return 1, err
	}
	defer s.close()
	if s.doc == nil {
		fmt.Fprintf(o.Stdout, "Stack %q has no state file (%s): nothing has been built yet, or it was destroyed. `provision plan` shows what `up` would build; `provision down --discover` finds leftovers by their tags.\n", s.cfg.Stack, s.store.Location())
		return 0, nil
	}
	changes, planned, err := s.computePlan(ctx, false, false)
	if err != nil {
		return 1, err
	}
	rep := StatusReport{Stack: s.cfg.Stack, Region: s.awsCfg.Region, StateFile: s.store.Location(), Serial: s.doc.Serial, Resources: []StatusEntry{}}
	for _, c := range changes {
		rec := s.doc.Resources[string(c.Step)]
		if rec == nil {
			continue
		}
		e := StatusEntry{Step: string(c.Step), Kind: c.Kind, ID: rec.ID, Status: health(rec, c), Reasons: c.Reasons}
		if c.Action == plan.Create {
			e.Reasons = nil
		}
		rep.Resources = append(rep.Resources, e)
	}
	rep.Facts = s.stack.Inspect(ctx, planned)
	if so.JSON {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return 0, enc.Encode(rep)
	}
	return 0, renderStatus(o.Stdout, rep)
}

func health(rec *state.Resource, c plan.Change) string {
	switch {
	case rec.Status == state.StatusExternal:
		return HealthExternal
	case c.Action == plan.Create:
		return HealthMissing
	case c.Action == plan.Update:
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
			fmt.Fprintf(tw, "\t\t  %s\t\n", r)
		}
		counts[e.Status]++
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var parts []string
	for _, k := range []string{HealthOK, HealthExternal, HealthDrifted, HealthMissing} {
		if counts[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
		}
	}
	f := rep.Facts
	fmt.Fprintln(w)
	if f.ManagerID != "" {
		fmt.Fprintf(w, "Manager:        %s (%s)\n", f.ManagerID, f.ManagerState)
	}
	if f.ASGDesired != nil {
		fmt.Fprintf(w, "Runner machines: %d desired, %d in service\n", *f.ASGDesired, *f.ASGInService)
	}
	if f.NATAddress != "" || f.ManagerAddress != "" {
		fmt.Fprintf(w, "Elastic IPs:    NAT %s, manager %s (GitLab's group admits both on 443)\n", f.NATAddress, f.ManagerAddress)
	}
	if f.RunnerID != "" {
		st := f.RunnerStatus
		if st == "" {
			st = "set GITLAB_TOKEN to see it"
		}
		fmt.Fprintf(w, "GitLab runner:  %s (%s)\n", f.RunnerID, st)
	}
	if f.RunnerTokenExpiresAt != "" {
		fmt.Fprintf(w, "Runner token:   expires %s (gitlab-runner renews it and provision stores the new one)\n", f.RunnerTokenExpiresAt)
	}
	fmt.Fprintf(w, "\n%s.", strings.Join(parts, ", "))
	if counts[HealthDrifted]+counts[HealthMissing] > 0 {
		fmt.Fprint(w, " Run `provision up` to repair.")
	}
	fmt.Fprintln(w)
	return nil
}
