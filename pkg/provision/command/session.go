// Package command holds the logic of each provision command: an options
// value in, output on the given writers, an exit code out. cmd/provision
// only parses flags into these options.
package command

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.uber.org/zap"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/ops"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// Options are the global flags and the process's streams.
type Options struct {
	ConfigPath string
	StatePath  string // empty: .provision/<stack>.json next to the config
	Region     string
	Profile    string

	// Secrets are the tokens from the environment.
	Secrets stack.Secrets

	Log    *zap.Logger
	Stdin  io.Reader
	Stdout io.Writer
	// CI: running in a CI job (CI=true, as GitLab CI and others set it),
	// where the default local state file is refused.
	CI bool
	// Stderr takes what is for the reader but not for a pipe (how to use
	// what stdout printed).
	Stderr        io.Writer
	Interactive   bool // stdin and stdout are a terminal: prompts are possible
	ShowUnchanged bool // list unchanged steps (log level debug)
	// Color colours plan symbols (stdout is a terminal, no NO_COLOR or
	// --no-color).
	Color bool
	// JSONProgress prints the progress of up and down as JSON lines
	// (--log-format json) instead of text lines.
	JSONProgress bool
	Parallelism  int
	// Interrupt is closed on the first Ctrl-C: no new steps start.
	Interrupt <-chan struct{}
	// NewStack builds what the commands ask of AWS; nil: the real one
	// (provision.AWSStack). Tests give one whose steps need no AWS.
	NewStack func(cfg *config.Config, awsCfg aws.Config, o Options) Stack
}

// Stack is what the commands need from the AWS side.
type Stack interface {
	// Discover finds the account, zone and images (a teardown: the account).
	Discover(ctx context.Context, ledger *state.Ledger, teardown bool) (stack.Discovery, error)
	// Preflight checks everything up needs before the first change.
	Preflight(ctx context.Context, ledger *state.Ledger) (stack.Discovery, error)
	// Steps builds the graph of the environment.
	Steps(ledger *state.Ledger, o stack.EnvOptions) (*plan.Graph, error)
	// Retired is what the configuration turned off but the state still
	// records (interface endpoints, a static key): up removes it.
	Retired(ledger *state.Ledger, o stack.EnvOptions) (*plan.Graph, error)
	// Inspect reads the facts status reports.
	Inspect(ctx context.Context, ledger *state.Ledger) ops.Facts
	// The stack's record of where its state lives.
	ReadStateRecord(ctx context.Context) (*provision.StateRecord, error)
	WriteStateRecord(ctx context.Context, r provision.StateRecord) error
	DeleteStateRecord(ctx context.Context) error
	// The manager's report of its boot, and what to say when it fails.
	// BootReport reads the report; not fresh: as this run saw it already,
	// when it did moments ago.
	BootReport(ctx context.Context, ledger *state.Ledger, fresh bool) (*stack.BootReport, error)
	DiagnoseBoot(ctx context.Context, ledger *state.Ledger, r *stack.BootReport) ops.BootDiagnosis
	DeleteBootReport(ctx context.Context) error
	// RunnerOnline is the runner's status in GitLab ("" without GITLAB_TOKEN).
	RunnerOnline(ctx context.Context, ledger *state.Ledger) (string, error)
	// Doctor checks the environment's flows against AWS as it is.
	Doctor(ctx context.Context, ledger *state.Ledger) ([]ops.Flow, error)
	// SpotPrices are the current Spot prices per hour of the types, the
	// lowest of the region's zones (a type without one is left out).
	SpotPrices(ctx context.Context, types []string) (map[string]float64, error)
	// OnDemandPrices are on-demand prices per hour of the types in the
	// stack's region, from the AWS Price List API.
	OnDemandPrices(ctx context.Context, types []string) (map[string]float64, error)
	// ReadLogs reads lines of the manager's log group.
	ReadLogs(ctx context.Context, q ops.LogQuery) ([]ops.LogLine, error)
}

func awsStack(cfg *config.Config, awsCfg aws.Config, o Options) Stack {
	return provision.AWSStack{Cfg: cfg, AWS: awsCfg, Secrets: o.Secrets, Log: o.Log, Reads: awsapi.NewReads()}
}

func (o Options) textOptions() plan.TextOptions {
	return plan.TextOptions{ShowUnchanged: o.ShowUnchanged, Color: o.Color}
}

// session is what every command loads first.
type session struct {
	// noWaitDrain: up --no-wait; every walk of the run (the plan shown
	// and the apply) leaves a replaced manager to drain by itself.
	noWaitDrain bool
	// keepRunner, deleteRunner: down's choices for the runner in GitLab,
	// for the plan it shows and the walk alike.
	keepRunner, deleteRunner bool
	// keepLogs: down leaves the manager's log group (--keep-logs).
	keepLogs bool
	// heartbeat: the longest the boot wait stays quiet (up).
	heartbeat time.Duration

	opts   Options
	cfg    *config.Config
	awsCfg aws.Config
	store  state.Backend
	doc    *state.Document // nil when there is no state file
	stack  Stack
	// discovered is the account, zone and images, once found in this run.
	discovered *stack.Discovery
}

func openSession(ctx context.Context, o Options, lock bool, command string) (*session, error) {
	cfg, err := config.LoadConfig(o.ConfigPath, o.Region)
	if err != nil {
		return nil, err
	}
	store, err := openBackend(ctx, o, cfg)
	if err != nil {
		return nil, err
	}
	s := &session{opts: o, cfg: cfg, store: store}
	if lock {
		if err := s.store.Lock(command); err != nil {
			return nil, err
		}
	}
	if s.doc, err = s.store.Load(); err != nil {
		s.close()
		return nil, err
	}
	if s.doc != nil && s.doc.Stack != cfg.Stack {
		s.close()
		return nil, fmt.Errorf("state %s belongs to stack %q, not %q: pass the right --state or --config", s.store.Location(), s.doc.Stack, cfg.Stack)
	}
	region := cfg.Region
	if region == "" && s.doc != nil {
		region = s.doc.Region
	}
	if s.awsCfg, err = awsapi.LoadAWSConfig(ctx, awsapi.AWSOptions{Region: region, Profile: o.Profile, Log: o.Log, Interrupt: o.Interrupt}); err != nil {
		s.close()
		return nil, err
	}
	if s.doc != nil && s.doc.Region != s.awsCfg.Region {
		s.close()
		return nil, fmt.Errorf("state %s is for region %s but this run uses %s: pass --region %s or use another --state", s.store.Location(), s.doc.Region, s.awsCfg.Region, s.doc.Region)
	}
	newStack := o.NewStack
	if newStack == nil {
		newStack = awsStack
	}
	s.stack = newStack(cfg, s.awsCfg, o)
	return s, nil
}

// close releases the lock. A lock that is no longer this run's (forced
// away and taken by another run) is left to its holder and said so: the
// command's own answer stands, so this is a warning.
func (s *session) close() {
	if err := s.store.Unlock(); err != nil && s.opts.Log != nil {
		s.opts.Log.Warn(err.Error())
	}
}

// document returns the loaded state, or a new one.
func (s *session) document() *state.Document {
	if s.doc != nil {
		return s.doc
	}
	return state.New(s.cfg.Stack, s.awsCfg.Region)
}

// graph finds the account, zone and images (only the account to destroy)
// once per run, then builds the environment whole and its steps.
func (s *session) graph(ctx context.Context, ledger *state.Ledger, o stack.EnvOptions) (*plan.Graph, error) {
	o.NoWaitDrain = o.NoWaitDrain || s.noWaitDrain
	o.KeepRunner, o.DeleteRunner = o.KeepRunner || s.keepRunner, o.DeleteRunner || s.deleteRunner
	o.KeepLogs = o.KeepLogs || s.keepLogs
	switch {
	case o.Teardown:
		found, err := s.stack.Discover(ctx, ledger, true)
		if err != nil {
			return nil, err
		}
		o.Found = found
	case s.discovered != nil:
		o.Found = *s.discovered
	default:
		found, err := s.stack.Discover(ctx, ledger, false)
		if err != nil {
			return nil, err
		}
		s.discovered = &found
		o.Found = found
	}
	return s.stack.Steps(ledger, o)
}

// retired is the graph of what up removes because the configuration
// turned it off (built with what this run discovered).
func (s *session) retired(ledger *state.Ledger) (*plan.Graph, error) {
	o := stack.EnvOptions{}
	if s.discovered != nil {
		o.Found = *s.discovered
	}
	return s.stack.Retired(ledger, o)
}

func (s *session) header(destroy bool) plan.Header {
	return plan.Header{Stack: s.cfg.Stack, Region: s.awsCfg.Region, Destroy: destroy}
}

// walk runs the graph; Apply false only plans. A walk that changes AWS
// shows its progress on stdout.
func (s *session) walk(ctx context.Context, g *plan.Graph, apply, destroy bool) *plan.Result {
	ex := &plan.Executor{
		Parallelism: s.opts.Parallelism,
		Apply:       apply,
		Destroy:     destroy,
		Interrupt:   s.opts.Interrupt,
		Observe:     s.logEvent,
	}
	// A step may take as long as the whole run may (down --timeout); the
	// run's own deadline, when it has one, bounds it.
	if deadline, ok := ctx.Deadline(); ok {
		ex.StepTimeout = time.Until(deadline)
	}
	if ex.Parallelism <= 0 {
		ex.Parallelism = plan.DefaultParallelism
	}
	if apply {
		fmt.Fprintln(s.opts.Stdout)
		progress := plan.NewProgress(s.opts.Stdout, s.opts.JSONProgress, 0)
		progress.Start()
		defer progress.Stop()
		ex.Observe = func(ev plan.Event) {
			progress.Observe(ev)
			s.logEvent(ev)
		}
	}
	return ex.Run(ctx, g)
}

// logEvent writes what only debugging needs: every check, wait and retry.
func (s *session) logEvent(ev plan.Event) {
	log := s.opts.Log
	if !log.Core().Enabled(zap.DebugLevel) {
		return
	}
	c := ev.Change
	fields := []zap.Field{zap.String("step", string(c.Step)), zap.String("phase", string(ev.Phase))}
	if c.ID != "" {
		fields = append(fields, zap.String("id", c.ID))
	}
	if ev.Status != "" {
		fields = append(fields, zap.String("status", ev.Status))
	}
	if ev.Err != nil {
		fields = append(fields, zap.Int("attempt", ev.Attempt), zap.String("error", ev.Err.Error()))
	}
	if ev.Phase == plan.PhaseDone || ev.Phase == plan.PhaseFailed {
		fields = append(fields, zap.String("action", c.Action.String()), zap.Duration("elapsed", ev.Elapsed.Round(time.Millisecond)))
	}
	log.Debug("step", fields...)
}

// confirm asks for "yes" on a terminal; without one it needs --auto-approve.
func (s *session) confirm(autoApprove bool, question string) error {
	if autoApprove {
		return nil
	}
	if !s.opts.Interactive {
		return errors.New("refusing to change AWS without confirmation: no terminal to ask on; review the plan and pass --auto-approve")
	}
	fmt.Fprintf(s.opts.Stdout, "\n%s\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", question)
	line, _ := bufio.NewReader(s.opts.Stdin).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return errors.New("cancelled: nothing was changed")
	}
	return nil
}

// planErr turns step errors into one error the person can act on.
func planErr(what string, res *plan.Result) error {
	if err := res.Err(); err != nil {
		return fmt.Errorf("%s:\n%w", what, indent(err))
	}
	return nil
}

func indent(err error) error {
	lines := strings.Split(err.Error(), "\n")
	for i := range lines {
		lines[i] = "  " + lines[i]
	}
	return errors.New(strings.Join(lines, "\n"))
}

// printCost follows a plan with the monthly change in what the stack costs
// while it runs, an estimate labelled as one ("Cost: +$36.50/month ...").
func (s *session) printCost(changes []plan.Change) {
	delta, lines := ops.PlanCost(changes, s.cfg)
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(s.opts.Stdout, "Cost: %s/month (%s): %s.\n", ops.Dollars(delta), ops.PriceLabel(s.awsCfg.Region), strings.Join(lines, ", "))
}
