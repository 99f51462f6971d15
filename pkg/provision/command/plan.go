package command

import (
	"context"
	"fmt"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// PlanOptions are the flags of `provision plan`.
type PlanOptions struct {
	Destroy          bool
	JSON             bool
	DetailedExitCode bool
	// Out saves the plan to this file for `up FILE`.
	Out string
}

// ExitChanges is the exit code of `plan --detailed-exitcode` with changes.
const ExitChanges = 2

// Plan prints what up (or down) would do. It only reads.
func Plan(ctx context.Context, o Options, po PlanOptions) (int, error) {
	s, err := openSession(ctx, o, false, "plan")
	if err != nil {
		return 1, err
	}
	defer s.close()
	changes, _, err := s.computePlan(ctx, po.Destroy, false)
	if err != nil {
		return 1, err
	}
	if po.JSON {
		err = plan.RenderJSON(o.Stdout, s.header(po.Destroy), changes)
	} else {
		err = plan.RenderText(o.Stdout, s.header(po.Destroy), changes, o.textOptions())
		if err == nil {
			s.printCost(changes)
		}
	}
	if err != nil {
		return 1, err
	}
	if po.Out != "" {
		if po.Destroy {
			return 1, fmt.Errorf("-out saves plans for `up`; a teardown is planned and carried out by `provision down`")
		}
		if err := s.savePlan(po.Out, changes); err != nil {
			return 1, err
		}
		if !po.JSON {
			fmt.Fprintf(o.Stdout, "\nSaved the plan to %s. `provision up %s` applies exactly this plan.\n", po.Out, po.Out)
		}
	}
	if po.DetailedExitCode && plan.Summarize(changes).HasChanges() {
		return ExitChanges, nil
	}
	return 0, nil
}

// computePlan walks the graph without changing anything, over an in-memory
// copy of the state. It returns the changes, the environment used (its
// zone and what it found), and the copy.
func (s *session) computePlan(ctx context.Context, destroy, discover bool) ([]plan.Change, *state.Ledger, error) {
	doc := s.document().Clone()
	if discover {
		doc = state.New(s.cfg.Stack, s.awsCfg.Region)
	}
	ledger := state.NewLedger(doc, nil)
	g, err := s.graph(ctx, ledger, stack.EnvOptions{Teardown: destroy})
	if err != nil {
		return nil, nil, err
	}
	res := s.walk(ctx, g, false, destroy)
	if err := planErr("cannot compute the plan", res); err != nil {
		return nil, nil, err
	}
	changes := res.Changes
	if !destroy {
		// What the configuration turned off goes, after everything else.
		rg, err := s.retired(ledger)
		if err != nil {
			return nil, nil, err
		}
		if rg.Len() > 0 {
			res := s.walk(ctx, rg, false, true)
			if err := planErr("cannot compute the plan", res); err != nil {
				return nil, nil, err
			}
			changes = append(changes, res.Changes...)
		}
	}
	return changes, ledger, nil
}
