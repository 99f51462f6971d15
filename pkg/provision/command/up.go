package command

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// UpOptions are the flags of `provision up`.
type UpOptions struct {
	DryRun      bool
	AutoApprove bool
	// Adopt makes this state the stack's even though the stack records
	// another location.
	Adopt bool
	// NoWait ends up when everything is built, without waiting for the
	// manager to report that it is online.
	NoWait bool
	// WaitTimeout bounds that wait (0: DefaultWaitTimeout).
	WaitTimeout time.Duration
	// Heartbeat is the longest the wait stays quiet: it then says which
	// stage the manager is at and how long it has waited (0:
	// DefaultHeartbeat).
	Heartbeat time.Duration
	// PlanFile is a plan saved by `plan -out`: applied exactly, without a
	// question, or refused when it is stale.
	PlanFile string
}

// Up prints the plan, asks, and builds or repairs the environment.
func Up(ctx context.Context, o Options, uo UpOptions) (int, error) {
	var saved *savedPlan
	if uo.PlanFile != "" {
		p, err := loadPlan(uo.PlanFile)
		if err != nil {
			return 1, err
		}
		saved = p
	}
	s, err := openSession(ctx, o, !uo.DryRun, "up")
	if err != nil {
		return 1, err
	}
	defer s.close()
	s.noWaitDrain = uo.NoWait
	// Nothing is planned, let alone changed, until every check passes.
	found, err := s.stack.Preflight(ctx, state.NewLedger(s.document().Clone(), nil))
	if err != nil {
		return 1, err
	}
	s.discovered = &found
	rec, err := s.checkStateRecord(ctx, uo.Adopt)
	if err != nil {
		return 1, err
	}
	changes, planned, err := s.computePlan(ctx, false, false)
	if err != nil {
		return 1, err
	}
	if err := plan.RenderText(o.Stdout, s.header(false), changes, o.textOptions()); err != nil {
		return 1, err
	}
	s.printCost(changes)
	if saved != nil {
		if err := s.checkSavedPlan(uo.PlanFile, saved, changes); err != nil {
			return 1, err
		}
		// The plan was reviewed when it was saved.
		uo.AutoApprove = true
	}
	if uo.DryRun {
		return 0, nil
	}
	if !plan.Summarize(changes).HasChanges() {
		// Resources found by their tags (a lost state file) are recorded now.
		if err := s.saveAdopted(planned); err != nil {
			return 1, err
		}
		if s.recordStale(rec, "") {
			if err := s.recordState(ctx, planned.Lineage()); err != nil {
				return 1, err
			}
		}
		return s.finishUp(ctx, planned, uo)
	}
	if err := s.confirm(uo.AutoApprove, "Do you want to perform these actions?"); err != nil {
		return 1, err
	}
	ledger := state.NewLedger(s.document(), s.store)
	if s.recordStale(rec, ledger.Lineage()) {
		if err := s.recordState(ctx, ledger.Lineage()); err != nil {
			return 1, err
		}
	}
	g, err := s.graph(ctx, ledger, stack.EnvOptions{})
	if err != nil {
		return 1, err
	}
	res := s.walk(ctx, g, true, false)
	if err := planErr("up did not finish (what was done is saved; run `provision up` again to continue)", res); err != nil {
		return 1, err
	}
	// Then what the configuration turned off, once nothing uses it.
	rg, err := s.retired(ledger)
	if err != nil {
		return 1, err
	}
	if rg.Len() > 0 {
		retired := s.walk(ctx, rg, true, true)
		if err := planErr("up did not finish removing what the configuration no longer has (run `provision up` again to continue)", retired); err != nil {
			return 1, err
		}
		res.Changes = append(res.Changes, retired.Changes...)
	}
	// The result counts what the plan announced; anything that changed
	// between the plan and the apply is named besides.
	sum := plan.Summarize(changes)
	fmt.Fprintf(o.Stdout, "\nApply complete! Resources: %d added, %d changed, %d destroyed.\n", sum.Add, sum.Change, sum.Destroy)
	announced := map[plan.ID]plan.Action{}
	for _, c := range changes {
		announced[c.Step] = c.Action
	}
	for _, c := range res.Changes {
		if c.Action != plan.NoOp && announced[c.Step] == plan.NoOp {
			fmt.Fprintf(o.Stdout, "  Also %s, which changed after the plan was made: %s\n", c.Action, c.Step)
		}
	}
	return s.finishUp(ctx, ledger, uo)
}

// finishUp waits, unless told not to, until the manager says it is online.
func (s *session) finishUp(ctx context.Context, ledger *state.Ledger, uo UpOptions) (int, error) {
	if uo.NoWait {
		return 0, nil
	}
	timeout := uo.WaitTimeout
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	s.heartbeat = uo.Heartbeat
	if s.heartbeat <= 0 {
		s.heartbeat = DefaultHeartbeat
	}
	if err := s.waitForBoot(ctx, ledger, timeout); err != nil {
		return 1, err
	}
	return 0, nil
}

func (s *session) saveAdopted(planned *state.Ledger) error {
	found := planned.Snapshot()
	if s.doc != nil && reflect.DeepEqual(found.Resources, s.doc.Resources) {
		return nil
	}
	if len(found.Resources) == 0 {
		return nil
	}
	found.Serial++
	return s.store.Save(found)
}
