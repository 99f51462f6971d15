package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/termtext"
)

// BootReport is the last stage the manager reported of its boot (the
// bootstrap's provision-boot-report writes it to BootParameter).
type BootReport struct {
	Stage  string    `json:"stage"`
	Status string    `json:"status"` // "ok" or "failed"
	Detail string    `json:"detail,omitempty"`
	Time   time.Time `json:"time"`
	// Config is the version of ssm/runner-config the manager runs ("": not
	// known, a manager from before the configuration had a parameter).
	Config string `json:"config,omitempty"`
}

// Online reports whether the boot is done: gitlab-runner runs and GitLab
// accepted it.
func (r *BootReport) Online() bool {
	return r != nil && r.Stage == bootstrap.StageOnline && r.Status == "ok"
}

// Failed reports whether a stage failed (the boot stopped there).
func (r *BootReport) Failed() bool { return r != nil && r.Status == "failed" }

// ErrNoManager says the stack has no manager to report a boot.
var ErrNoManager = errors.New("the stack has no manager")

// ReadBootReport reads the manager's boot report: nil when the manager has
// written none (yet).
func (e *Env) ReadBootReport(ctx context.Context) (*BootReport, error) {
	if e.IDOf(StepManager) == "" {
		return nil, ErrNoManager
	}
	p, err := GetParameter(ctx, e.SSM, e.Names().BootParameter(), false)
	return e.parseBootReport(p, err)
}

// SharedBootReport is the report as this run's first look at the stack's
// parameters saw it (the plan's view; a wait reads it anew each time).
func (e *Env) SharedBootReport(ctx context.Context) (*BootReport, error) {
	if e.IDOf(StepManager) == "" {
		return nil, ErrNoManager
	}
	p, err := e.StackParameter(ctx, e.Names().BootParameter())
	return e.parseBootReport(p, err)
}

func (e *Env) parseBootReport(p *ssmtypes.Parameter, err error) (*BootReport, error) {
	if err != nil || p == nil {
		return nil, err
	}
	var r BootReport
	if err := json.Unmarshal([]byte(aws.ToString(p.Value)), &r); err != nil {
		return nil, fmt.Errorf("the boot report in %s is not the JSON the bootstrap writes: %w", e.Names().BootParameter(), err)
	}
	// The manager (or whatever runs on it, jobs included) may write
	// anything there; everything that prints the report reads it from here.
	r.Stage, r.Status, r.Detail = FromManager(r.Stage), FromManager(r.Status), FromManager(r.Detail)
	return &r, nil
}

// DeleteBootReport removes the report: before a new manager boots (so an
// old report is never taken for its own) and when the stack goes.
func (e *Env) DeleteBootReport(ctx context.Context) error {
	return DeleteParameter(ctx, e.SSM, e.Names().BootParameter())
}

// FromManager makes text the manager wrote (its boot report, its console
// output) fit to show: without what a terminal acts on, and with runner
// tokens hidden. Cleaning comes first so that a token split by control
// characters is whole again when the redaction looks for it, and so that
// the console's CR LF line ends become plain newlines.
func FromManager(s string) string {
	return runnerTokenShape.ReplaceAllLiteralString(termtext.Clean(s), "glrt-[redacted]")
}

// runnerTokenShape is a runner token as the boot scripts redact it too.
var runnerTokenShape = regexp.MustCompile(`glrt-[A-Za-z0-9_.-]*`)
