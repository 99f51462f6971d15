package command

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/provision-dev/provision/pkg/plan"
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
}

// Down prints what would be deleted, asks, and deletes it in reverse
// dependency order, retrying what is still in use until Timeout.
func Down(ctx context.Context, o Options, do DownOptions) (int, error) {
	s, err := openSession(ctx, o, !do.DryRun, "down")
	if err != nil {
		return 1, err
	}
	defer s.close()
	discover := do.Discover || s.doc == nil
	changes, _, err := s.computePlan(ctx, true, discover)
	if err != nil {
		return 1, err
	}
	if err := plan.RenderText(o.Stdout, s.header(true), changes, o.ShowUnchanged); err != nil {
		return 1, err
	}
	if do.DryRun {
		return 0, nil
	}
	if !plan.Summarize(changes).HasChanges() {
		return 0, s.store.Remove()
	}
	if err := s.confirm(do.AutoApprove, "Do you really want to destroy all resources of stack "+s.cfg.Stack+"? There is no undo."); err != nil {
		return 1, err
	}
	if do.Timeout <= 0 {
		do.Timeout = 15 * time.Minute
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
	env := s.env(ledger)
	g, err := s.graph(ctx, env, true)
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
	if err := s.store.Remove(); err != nil {
		return 1, err
	}
	sum := plan.Summarize(res.Changes)
	fmt.Fprintf(o.Stdout, "\nDestroy complete! Resources: %d destroyed.\n", sum.Destroy)
	return 0, nil
}
