package command

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/ops"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// LogsOptions are the flags of `provision logs`.
type LogsOptions struct {
	Follow bool
	Since  time.Duration
	Unit   string // "": every unit
	// Poll is how often -f asks for new lines (0: every 2 s).
	Poll time.Duration
}

// Logs prints the manager's journal as it shipped it to the stack's log
// group: gitlab-runner, the boot, a drain, provision's own units; with
// Follow, new lines until Ctrl-C. It changes nothing and needs no lock.
func Logs(ctx context.Context, o Options, lo LogsOptions) (int, error) {
	if lo.Unit != "" && !slices.Contains(bootstrap.LogUnits, lo.Unit) {
		return 1, fmt.Errorf("--unit %q is not a unit the manager ships: use one of %s", lo.Unit, strings.Join(bootstrap.LogUnits, ", "))
	}
	if lo.Since <= 0 {
		return 1, fmt.Errorf("--since %s is not a duration back from now: use, say, 30m, 1h or 24h", lo.Since)
	}
	s, err := openSession(ctx, o, false, "logs")
	if err != nil {
		return 1, err
	}
	defer s.close()
	group := stack.Names{Stack: s.cfg.Stack}.LogGroup()
	q := ops.LogQuery{Unit: lo.Unit, Since: time.Now().Add(-lo.Since)}
	if lo.Follow {
		poll := lo.Poll
		if poll <= 0 {
			poll = 2 * time.Second
		}
		err = ops.FollowLogs(ctx, s.stack.ReadLogs, q, o.Stdout, poll, o.Interrupt)
		return exitOf(err, group)
	}
	lines, err := s.stack.ReadLogs(ctx, q)
	if err != nil {
		return exitOf(err, group)
	}
	for _, l := range lines {
		fmt.Fprintln(o.Stdout, l)
	}
	if len(lines) == 0 {
		what := "lines"
		if lo.Unit != "" {
			what = lo.Unit + " lines"
		}
		o.Log.Info(fmt.Sprintf("no %s in %s in the last %s. The manager ships its journal every 5 s from its first boot stage on; "+
			"if a running manager ships nothing, its role may not write there: run `provision up` to repair iam/manager, and have the permissions boundary "+
			"brought up to date (`provision iam-policy --boundary`)", what, group, lo.Since))
	}
	return 0, nil
}

// exitOf turns a read's error into the exit code and message.
func exitOf(err error, group string) (int, error) {
	switch {
	case err == nil:
		return 0, nil
	case errors.Is(err, ops.ErrNoLogGroup):
		return 1, fmt.Errorf("the stack has no log group %s: run `provision up`, which makes it (a stack built before it had one gets it then, and its manager is replaced once to ship to it)", group)
	}
	return 1, err
}

// ParseSince reads --since: a Go duration (30m, 1h30m) or whole days (3d).
func ParseSince(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("--since %q is not a time back from now: use, say, 30m, 1h, 24h or 3d", s)
	}
	return v, nil
}
