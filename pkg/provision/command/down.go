package command

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// DownOptions are the flags of `provision down`.
type DownOptions struct {
	DryRun      bool
	AutoApprove bool
	// Discover ignores the state file's ids and finds everything by the
	// ownership tags (also what happens when there is no state file).
	Discover bool
	Timeout  time.Duration
	// KeepRunner leaves the runner (and so its token) in GitLab.
	KeepRunner bool
	// DeleteRunner deletes the runner of a token the user gave, which
	// down otherwise keeps.
	DeleteRunner bool
	// KeepLogs leaves the manager's log group and its lines.
	KeepLogs bool
	// Adopt tears the stack down from this state although the stack
	// records another location.
	Adopt bool
}

// Down prints what would be deleted, asks, and deletes it in reverse
// dependency order, retrying what is still in use until Timeout.
func Down(ctx context.Context, o Options, do DownOptions) (int, error) {
	s, err := openSession(ctx, o, !do.DryRun, "down")
	if err != nil {
		return 1, err
	}
	defer s.close()
	s.keepRunner, s.deleteRunner, s.keepLogs = do.KeepRunner, do.DeleteRunner, do.KeepLogs
	discover := do.Discover || s.doc == nil
	if !do.DryRun {
		if _, err := s.checkStateRecord(ctx, do.Adopt); err != nil {
			return 1, err
		}
	}
	changes, _, err := s.computePlan(ctx, true, discover)
	if err != nil {
		return 1, err
	}
	if err := plan.RenderText(o.Stdout, s.header(true), changes, o.textOptions()); err != nil {
		return 1, err
	}
	s.printCost(changes)
	if do.DryRun {
		return 0, nil
	}
	if !plan.Summarize(changes).HasChanges() {
		if do.Discover && s.doc != nil && len(s.doc.Resources) > 0 {
			// Finding nothing by tags may mean another region or account,
			// not that the stack is gone: the state file is the one record
			// left of what it holds.
			fmt.Fprintf(o.Stdout, "\nNothing of stack %s was found by its tags in %s; the state file %s still records %d resource(s) and is kept. Check the region and account, or run `provision down` without --discover.\n", s.cfg.Stack, s.awsCfg.Region, s.store.Location(), len(s.doc.Resources))
			return 0, nil
		}
		return 0, s.removeState(ctx)
	}
	if err := s.confirm(do.AutoApprove, "Do you really want to destroy all resources of stack "+s.cfg.Stack+"? There is no undo."); err != nil {
		return 1, err
	}
	if do.Timeout <= 0 {
		do.Timeout = plan.DefaultStepTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, do.Timeout)
	defer cancel()
	doc := s.document()
	if discover {
		doc = state.New(s.cfg.Stack, s.awsCfg.Region)
	}
	ledger := state.NewLedger(doc, nil)
	if !discover {
		ledger = state.NewLedger(doc, s.store)
	}
	g, err := s.graph(ctx, ledger, stack.EnvOptions{Teardown: true})
	if err != nil {
		return 1, err
	}
	res := s.walk(ctx, g, true, true)
	if err := planErr("down did not finish (run `provision down` again to continue)", res); err != nil {
		return 1, err
	}
	if left := ledger.Snapshot().Resources; len(left) > 0 {
		var names []string
		for k, r := range left {
			names = append(names, fmt.Sprintf("%s (%s)", k, r.ID))
		}
		sort.Strings(names)
		return 1, fmt.Errorf("down finished but these are still recorded: %s; run `provision down` again", strings.Join(names, ", "))
	}
	if err := s.removeState(ctx); err != nil {
		return 1, err
	}
	// As for up, the result counts what the plan announced (a machine that
	// went with its group was destroyed all the same).
	sum := plan.Summarize(changes)
	fmt.Fprintf(o.Stdout, "\nDestroy complete! Resources: %d destroyed.\n", sum.Destroy)
	return 0, nil
}

// removeState removes the stack's record of its state, then the state:
// called when nothing of the stack is left.
func (s *session) removeState(ctx context.Context) error {
	// The manager's boot report is the stack's last parameter: a new
	// manager clears it before launching, and it goes with the stack here.
	if err := s.stack.DeleteBootReport(ctx); err != nil {
		return err
	}
	if err := s.stack.DeleteStateRecord(ctx); err != nil {
		return err
	}
	return s.store.Remove()
}
