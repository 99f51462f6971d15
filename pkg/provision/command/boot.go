package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// DefaultWaitTimeout is how long up waits for the manager to come online:
// a manager installs its packages and starts in 2-5 minutes.
const DefaultWaitTimeout = 15 * time.Minute

// DefaultHeartbeat: a wait that learns nothing new says so every 10 s, so
// a quiet terminal is never mistaken for a hang.
const DefaultHeartbeat = 10 * time.Second

// waitForBoot follows the manager's boot report until it says "online",
// printing each stage as it arrives, then (with GITLAB_TOKEN) waits until
// GitLab shows the runner online. A failed stage or the timeout ends it
// with the detail, the console output and the likely cause.
func (s *session) waitForBoot(ctx context.Context, ledger *state.Ledger, timeout time.Duration) error {
	out := s.opts.Stdout
	start := time.Now()
	deadline := start.Add(timeout)
	printed := 0 // stages printed so far, in bootstrap.Stages order
	var last *stack.BootReport
	announced := false
	said := start // when the last line was printed
	// The first look takes the report as the plan read it moments ago;
	// every later one reads it anew.
	for fresh := false; ; fresh = true {
		r, err := s.stack.BootReport(ctx, ledger, fresh)
		if errors.Is(err, stack.ErrNoManager) {
			return nil
		}
		if !announced && !r.Online() {
			fmt.Fprintf(out, "\nWaiting for the manager to report its boot (up to %s; --no-wait skips this):\n", timeout)
			announced = true
		}
		if err == nil && r != nil {
			last = r
			if n := printStages(out, r, printed, time.Since(start)); n != printed {
				printed, said = n, time.Now()
			}
			if r.Online() {
				break
			}
			if r.Failed() {
				return s.bootFailed(ctx, ledger, r, "")
			}
		}
		if s.heartbeat > 0 && time.Since(said) >= s.heartbeat {
			fmt.Fprintf(out, "manager: %s; waited %s of %s\n", bootProgress(last), time.Since(start).Round(time.Second), timeout)
			said = time.Now()
		}
		if time.Now().After(deadline) {
			return s.bootFailed(ctx, ledger, last, fmt.Sprintf("the manager did not report %q within %s", bootstrap.StageOnline, timeout))
		}
		if err := s.pause(ctx, start, "the manager's boot report", last); err != nil {
			return err
		}
	}
	return s.waitForRunnerOnline(ctx, ledger, deadline, start)
}

// waitForRunnerOnline waits until GitLab shows the runner online; without
// GITLAB_TOKEN it cannot ask and says nothing.
func (s *session) waitForRunnerOnline(ctx context.Context, ledger *state.Ledger, deadline, start time.Time) error {
	waiting := time.Now()
	said := waiting
	for {
		st, err := s.stack.RunnerOnline(ctx, ledger)
		if err == nil && st == "" {
			return nil
		}
		if st == "online" {
			fmt.Fprintf(s.opts.Stdout, "gitlab: the runner is online [%s]\n", time.Since(start).Round(time.Second))
			return nil
		}
		if time.Now().After(deadline) {
			why := "its status is " + st
			if err != nil {
				why = err.Error()
			}
			return fmt.Errorf("the manager is online but GitLab does not show the runner online (%s): see the runner's page in GitLab and `provision doctor`", why)
		}
		if s.heartbeat > 0 && time.Since(said) >= s.heartbeat {
			fmt.Fprintf(s.opts.Stdout, "gitlab: waiting for the runner to show online (its status: %s); waited %s\n", orUnknown(st), time.Since(waiting).Round(time.Second))
			said = time.Now()
		}
		if err := s.pause(ctx, waiting, "GitLab to show the runner online", nil); err != nil {
			return err
		}
	}
}

// pause waits before the next look; the first Ctrl-C ends the wait (a
// wait changes nothing, so nothing is left half-done).
func (s *session) pause(ctx context.Context, since time.Time, what string, last *stack.BootReport) error {
	t := time.NewTimer(plan.PollDelay(time.Since(since)))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-s.opts.Interrupt:
		seen := "no report yet"
		if last != nil {
			seen = fmt.Sprintf("last stage %s %s", last.Stage, last.Status)
		}
		return fmt.Errorf("stopped waiting for %s (%s); everything is built and saved: `provision up` waits again, `provision status` shows the boot report", what, seen)
	case <-t.C:
		return nil
	}
}

// bootProgress says where a boot is, for the wait's heartbeat.
func bootProgress(r *stack.BootReport) string {
	if r == nil {
		return "no boot report yet (cloud-init installs packages first)"
	}
	next := slices.Index(bootstrap.Stages, r.Stage) + 1
	if r.Status == "ok" && next > 0 && next < len(bootstrap.Stages) {
		return fmt.Sprintf("stage %s passed, now at %s", r.Stage, bootstrap.Stages[next])
	}
	return fmt.Sprintf("stage %s %s", r.Stage, r.Status)
}

func orUnknown(v string) string {
	if v == "" {
		return "unknown"
	}
	return v
}

// printStages prints the stages up to r's that are not printed yet: a
// report of one stage means the ones before it passed. It returns how many
// are printed now.
func printStages(w io.Writer, r *stack.BootReport, printed int, elapsed time.Duration) int {
	i := slices.Index(bootstrap.Stages, r.Stage)
	if i < 0 {
		fmt.Fprintf(w, "manager: boot stage %s %s [%s]\n", r.Stage, r.Status, elapsed.Round(time.Second))
		return printed
	}
	for ; printed <= i; printed++ {
		status := "ok"
		if printed == i {
			status = r.Status
		}
		fmt.Fprintf(w, "manager: boot stage %-24s %s [%s]\n", bootstrap.Stages[printed], status, elapsed.Round(time.Second))
	}
	return printed
}

// bootFailed prints what is known of a failed or stuck boot and returns
// the error up exits with.
func (s *session) bootFailed(ctx context.Context, ledger *state.Ledger, r *stack.BootReport, timedOut string) error {
	d := s.stack.DiagnoseBoot(ctx, ledger, r)
	w := s.opts.Stdout
	what := timedOut
	if what == "" {
		what = fmt.Sprintf("the manager's boot failed at stage %q", r.Stage)
	}
	fmt.Fprintf(w, "\n%s.\n", capitalize(what))
	if r != nil && r.Detail != "" {
		fmt.Fprintf(w, "  Detail: %s\n", strings.ReplaceAll(r.Detail, "\n", "\n          "))
	}
	fmt.Fprintf(w, "  Likely cause: %s\n", d.Cause)
	if d.Log != "" {
		fmt.Fprintf(w, "  Log of %s (last lines; `provision logs --unit %s` shows more):\n", d.LogUnit, d.LogUnit)
		for _, l := range strings.Split(d.Log, "\n") {
			fmt.Fprintf(w, "    | %s\n", l)
		}
	}
	if d.Console != "" {
		fmt.Fprintf(w, "  Console output (last lines):\n")
		for _, l := range strings.Split(d.Console, "\n") {
			fmt.Fprintf(w, "    | %s\n", l)
		}
	}
	return fmt.Errorf("%s: %s Everything else is built and saved; fix the cause and run `provision up` again (`provision doctor` checks the network paths)", what, d.Cause)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
