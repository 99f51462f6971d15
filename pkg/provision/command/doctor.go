package command

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/provision-dev/provision/pkg/provision/ops"
	"github.com/provision-dev/provision/pkg/state"
	"github.com/provision-dev/provision/pkg/termtext"
)

// DoctorOptions are the flags of `provision doctor`.
type DoctorOptions struct {
	JSON bool
}

// DoctorFailed is doctor's exit code when a flow is blocked (1 is an
// error, as for every command).
const DoctorFailed = 2

// Doctor checks every flow the environment needs against the live
// security groups, ACLs and routes, the boot report and the token, one
// line per flow, naming what blocks a failing one. It only reads.
func Doctor(ctx context.Context, o Options, do DoctorOptions) (int, error) {
	s, err := openSession(ctx, o, false, "doctor")
	if err != nil {
		return 1, err
	}
	defer s.close()
	if s.doc == nil {
		return 1, fmt.Errorf("stack %q has no state file (%s): there is nothing to check; run `provision up` first", s.cfg.Stack, s.store.Location())
	}
	flows, err := s.stack.Doctor(ctx, state.NewLedger(s.doc.Clone(), nil))
	if err != nil {
		return 1, err
	}
	failed := 0
	for _, f := range flows {
		if !f.OK {
			failed++
		}
	}
	code := 0
	if failed > 0 {
		code = DoctorFailed
	}
	if do.JSON {
		enc := json.NewEncoder(o.Stdout)
		enc.SetIndent("", "  ")
		return code, enc.Encode(map[string]any{"stack": s.cfg.Stack, "region": s.awsCfg.Region, "flows": flows, "failed": failed})
	}
	renderFlows(o, s.cfg.Stack, s.awsCfg.Region, flows, failed)
	return code, nil
}

// paintVerdict is PASS in green or FAIL in red (plain without colour).
func paintVerdict(color, ok bool) string {
	v, code := "PASS", "32"
	if !ok {
		v, code = "FAIL", "31"
	}
	if !color {
		return v
	}
	return "\x1b[" + code + "m" + v + "\x1b[0m"
}

func renderFlows(o Options, stackName, region string, flows []ops.Flow, failed int) {
	w := o.Stdout
	fmt.Fprintf(w, "Stack %q in %s, checked against the live security groups, network ACLs and routes:\n\n", stackName, region)
	for _, f := range flows {
		verdict := paintVerdict(o.Color, f.OK)
		// Blocked and Note may quote AWS's or GitLab's error messages.
		fmt.Fprintf(w, "  %s  %s\n", verdict, termtext.Clean(f.Name))
		if f.Blocked != "" {
			fmt.Fprintf(w, "        blocked: %s\n", termtext.Clean(f.Blocked))
		}
		if f.Note != "" {
			fmt.Fprintf(w, "        note: %s\n", termtext.Clean(f.Note))
		}
	}
	fmt.Fprintln(w)
	if failed == 0 {
		fmt.Fprintf(w, "All %d checks pass.\n", len(flows))
		return
	}
	fmt.Fprintf(w, "%d of %d checks fail. `provision up` repairs what the stack owns; rules in GitLab's own firewall are yours to fix.\n", failed, len(flows))
}
