package provision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"go.uber.org/zap"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/awsapi"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/ops"
	"github.com/provision-dev/provision/pkg/provision/policy"
	"github.com/provision-dev/provision/pkg/provision/preflight"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// AWSStack is the stack as the commands see it, over the AWS APIs: what a
// run discovers, its preflight, its steps and the facts status reports.
// The commands take it through an interface, so they can be tested with
// steps that need no AWS.
type AWSStack struct {
	Cfg     *config.Config
	AWS     aws.Config
	Secrets stack.Secrets
	Log     *zap.Logger
	// Reads is shared by every walk and check of the run (nil: no sharing).
	Reads *awsapi.Reads
	// NewEnv builds each environment in place of stack.NewEnv (nil: it).
	// It is a seam for tests only: stack.NewEnv makes clients that call
	// AWS, and a test gives environments over fake clients instead.
	NewEnv func(ledger *state.Ledger, o stack.EnvOptions) *stack.Env
}

func (s AWSStack) env(ledger *state.Ledger, o stack.EnvOptions) *stack.Env {
	if o.Reads == nil {
		o.Reads = s.Reads
	}
	if s.NewEnv != nil {
		return s.NewEnv(ledger, o)
	}
	return stack.NewEnv(s.Cfg, s.AWS, s.Secrets, ledger, s.Log, o)
}

// Discover finds the account, zone and images; a teardown needs only the
// account.
func (s AWSStack) Discover(ctx context.Context, ledger *state.Ledger, teardown bool) (stack.Discovery, error) {
	probe := s.env(ledger, stack.EnvOptions{})
	if teardown {
		// The account, and the fleets that carry the stack's tags.
		err := preflight.Identify(ctx, probe)
		if err == nil {
			err = probe.FindFleets(ctx)
		}
		return probe.Discovered(), err
	}
	err := preflight.Discover(ctx, probe)
	return probe.Discovered(), err
}

// Preflight checks everything up needs and returns what it found.
func (s AWSStack) Preflight(ctx context.Context, ledger *state.Ledger) (stack.Discovery, error) {
	probe := s.env(ledger, stack.EnvOptions{})
	err := preflight.Preflight(ctx, probe)
	return probe.Discovered(), err
}

// Steps builds the environment whole and its graph.
func (s AWSStack) Steps(ledger *state.Ledger, o stack.EnvOptions) (*plan.Graph, error) {
	return stack.Steps(s.env(ledger, o))
}

// Retired builds the graph of what the configuration turned off but the
// state still records (see Retired).
func (s AWSStack) Retired(ledger *state.Ledger, o stack.EnvOptions) (*plan.Graph, error) {
	teardown := o
	teardown.Teardown = true
	return stack.Retired(s.env(ledger, o), s.env(ledger, teardown))
}

// Inspect reads the facts of the recorded resources.
func (s AWSStack) Inspect(ctx context.Context, ledger *state.Ledger) ops.Facts {
	return ops.Inspect(ctx, s.env(ledger, stack.EnvOptions{}))
}

// BootReport reads the manager's boot report (nil: none yet).
func (s AWSStack) BootReport(ctx context.Context, ledger *state.Ledger, fresh bool) (*stack.BootReport, error) {
	if !fresh {
		return s.env(ledger, stack.EnvOptions{}).SharedBootReport(ctx)
	}
	return s.env(ledger, stack.EnvOptions{}).ReadBootReport(ctx)
}

// DiagnoseBoot explains a boot that failed or did not finish.
func (s AWSStack) DiagnoseBoot(ctx context.Context, ledger *state.Ledger, r *stack.BootReport) ops.BootDiagnosis {
	return ops.DiagnoseBoot(ctx, s.env(ledger, stack.EnvOptions{}), r)
}

// RunnerOnline asks GitLab for the runner's status ("" without GITLAB_TOKEN).
func (s AWSStack) RunnerOnline(ctx context.Context, ledger *state.Ledger) (string, error) {
	return ops.RunnerOnline(ctx, s.env(ledger, stack.EnvOptions{}))
}

// DeleteBootReport removes the manager's boot report and its drain
// parameter; the teardown is done by then, so a transient error is
// retried rather than failing it.
func (s AWSStack) DeleteBootReport(ctx context.Context) error {
	ssmc := s.env(nil, stack.EnvOptions{}).SSM
	for _, name := range []string{stack.BootParameterName(s.Cfg.Stack), stack.DrainParameterName(s.Cfg.Stack)} {
		if err := awsapi.RetryTransient(ctx, func() error { return stack.DeleteParameter(ctx, ssmc, name) }); err != nil {
			return err
		}
	}
	return nil
}

// Doctor checks the environment's flows against AWS as it is.
func (s AWSStack) Doctor(ctx context.Context, ledger *state.Ledger) ([]ops.Flow, error) {
	return ops.Doctor(ctx, s.env(ledger, stack.EnvOptions{}))
}

// ReadLogs reads lines of the manager's log group.
func (s AWSStack) ReadLogs(ctx context.Context, q ops.LogQuery) ([]ops.LogLine, error) {
	e := s.env(nil, stack.EnvOptions{})
	return ops.ReadLogs(ctx, e.Logs, e.Names().LogGroup(), q)
}

// OnDemandPrices reads on-demand prices from the AWS Price List API,
// which answers in us-east-1 for every region of the aws partition (none
// is read for the China and GovCloud partitions: the table stands).
func (s AWSStack) OnDemandPrices(ctx context.Context, types []string) (map[string]float64, error) {
	if policy.PartitionOf(s.AWS.Region) != "aws" {
		return nil, fmt.Errorf("the AWS Price List API is not read for %s", s.AWS.Region)
	}
	cfg := s.AWS.Copy()
	cfg.Region = ops.PriceListRegion
	return ops.OnDemandPrices(ctx, pricing.NewFromConfig(cfg), s.AWS.Region, types)
}

// SpotPrices reads the current Spot prices of the types.
func (s AWSStack) SpotPrices(ctx context.Context, types []string) (map[string]float64, error) {
	return ops.SpotPrices(ctx, s.env(state.NewLedger(state.New(s.Cfg.Stack, s.AWS.Region), nil), stack.EnvOptions{}), types)
}
