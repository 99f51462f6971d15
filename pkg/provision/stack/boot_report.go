package stack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/provision-dev/provision/pkg/plan"
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
	p, err := GetParameter(ctx, e.SSM, e.BootParameter(), false)
	return e.parseBootReport(p, err)
}

// sharedBootReport is the report as this run's first look at the stack's
// parameters saw it (the plan's view; a wait reads it anew each time).
func (e *Env) SharedBootReport(ctx context.Context) (*BootReport, error) {
	if e.IDOf(StepManager) == "" {
		return nil, ErrNoManager
	}
	p, err := e.StackParameter(ctx, e.BootParameter())
	return e.parseBootReport(p, err)
}

func (e *Env) parseBootReport(p *ssmtypes.Parameter, err error) (*BootReport, error) {
	if err != nil || p == nil {
		return nil, err
	}
	var r BootReport
	if err := json.Unmarshal([]byte(aws.ToString(p.Value)), &r); err != nil {
		return nil, fmt.Errorf("the boot report in %s is not the JSON the bootstrap writes: %w", e.BootParameter(), err)
	}
	// The manager (or whatever runs on it, jobs included) may write
	// anything there; everything that prints the report reads it from here.
	r.Stage, r.Status, r.Detail = fromManager(r.Stage), fromManager(r.Status), fromManager(r.Detail)
	return &r, nil
}

// DeleteBootReport removes the report: before a new manager boots (so an
// old report is never taken for its own) and when the stack goes.
func (e *Env) DeleteBootReport(ctx context.Context) error {
	return DeleteParameter(ctx, e.SSM, e.BootParameter())
}

// BootDiagnosis is what provision can tell about a boot that failed or
// did not finish: the likely cause in words and the end of the console.
type BootDiagnosis struct {
	Cause   string
	Console string
}

// consoleLines is how much of the console a failed boot shows.
const consoleLines = 25

// DiagnoseBoot explains a boot that failed (r.Failed) or did not reach
// online in time (r is the last report, or nil when there was none).
func (e *Env) DiagnoseBoot(ctx context.Context, r *BootReport) BootDiagnosis {
	d := BootDiagnosis{Console: e.consoleTail(ctx)}
	console := "its console output (`aws ec2 get-console-output --instance-id " + e.IDOf(StepManager) + "`)"
	eip := e.addressOf(ctx, StepManagerAddress)
	internet := fmt.Sprintf("the manager reaches the internet through the internet gateway from %s: check that rtb/public routes 0.0.0.0/0 to it and that nacl/public admits the return traffic", eip)
	switch {
	case r == nil:
		if !e.managerHasProfile(ctx) {
			d.Cause = "the manager has no instance profile: it can neither read its token nor report its boot. Run `provision up` to repair iam/manager and replace the manager."
			break
		}
		d.Cause = "the manager wrote no boot report: cloud-init did not run the boot script (see " + console + "), or the manager cannot reach SSM (" + internet + ")."
	case r.Status == "ok":
		d.Cause = fmt.Sprintf("the boot stopped after stage %q (reported %s): see %s.", r.Stage, r.Time.Format(time.RFC3339), console)
	default:
		d.Cause = e.failedStageCause(r, eip, internet)
	}
	return d
}

// failedStageCause names the likely cause of a failed stage in words.
func (e *Env) failedStageCause(r *BootReport, eip, internet string) string {
	detail := strings.ToLower(r.Detail)
	switch r.Stage {
	case bootstrap.StagePackages, bootstrap.StageRunner, bootstrap.StagePluginInstalled:
		if containsAny(detail, "timeout", "timed out", "could not resolve", "cannot download", "failed to connect", "connection") {
			return "a package repository is not reachable from the manager: " + internet + "."
		}
		return fmt.Sprintf("installing failed in stage %q: see the detail and the console output.", r.Stage)
	case bootstrap.StageDocker:
		return "Docker did not start on the manager: see the console output."
	case bootstrap.StageTokenRead:
		switch {
		case containsAny(detail, "unable to locate credentials", "no credentials"):
			return "the manager has no instance profile, so it cannot read " + e.TokenParameter() + "."
		case containsAny(detail, "accessdenied", "not authorized"):
			return "the parameter " + e.TokenParameter() + " is not readable with the manager's role: run `provision up` to repair iam/manager."
		case strings.Contains(detail, "does not hold a runner authentication token"):
			return "the parameter " + e.TokenParameter() + " holds no runner authentication token (glrt-...): set GITLAB_RUNNER_TOKEN to one, or use gitlab.create_runner."
		}
		return "the parameter " + e.TokenParameter() + " is not readable from the manager: " + internet + "."
	case bootstrap.StageTokenVerified:
		if strings.Contains(detail, "rejected") {
			return "GitLab rejected the runner token: the runner was deleted or its token reset. Create a runner (or use gitlab.create_runner) and run `provision up` with its token."
		}
		return fmt.Sprintf("GitLab is not reachable on 443 from the manager's address %s: GitLab's firewall or security group must admit %s/32 on 443 (gitlab.security_group_id lets provision add the rule).", eip, eip)
	case bootstrap.StageServiceRunning:
		return "gitlab-runner did not start: see the console output (`journalctl -u gitlab-runner` on the manager)."
	case bootstrap.StageOnline:
		return "gitlab-runner runs, but GitLab did not accept it: see the console output."
	}
	return fmt.Sprintf("stage %q failed: see the detail and the console output.", r.Stage)
}

// consoleTail is the end of the manager's console output ("" when there
// is none yet: AWS keeps it from a minute or so after boot).
func (e *Env) consoleTail(ctx context.Context) string {
	id := e.IDOf(StepManager)
	if id == "" {
		return ""
	}
	out, err := e.EC2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: &id, Latest: aws.Bool(true)})
	if err != nil || out.Output == nil {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(fromManager(string(raw)), "\n"), "\n")
	if len(lines) > consoleLines {
		lines = lines[len(lines)-consoleLines:]
	}
	return strings.Join(lines, "\n")
}

// fromManager makes text the manager wrote (its boot report, its console
// output) fit to show: without what a terminal acts on, and with runner
// tokens hidden. Cleaning comes first so that a token split by control
// characters is whole again when the redaction looks for it, and so that
// the console's CR LF line ends become plain newlines.
func fromManager(s string) string {
	return runnerTokenShape.ReplaceAllLiteralString(termtext.Clean(s), "glrt-[redacted]")
}

// runnerTokenShape is a runner token as the boot scripts redact it too.
var runnerTokenShape = regexp.MustCompile(`glrt-[A-Za-z0-9_.-]*`)

func (e *Env) managerHasProfile(ctx context.Context) bool {
	id := e.IDOf(StepManager)
	if id == "" {
		return false
	}
	out, err := e.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) == 0 || len(out.Reservations[0].Instances) == 0 {
		return true // unknown: do not claim a cause that may be wrong
	}
	return out.Reservations[0].Instances[0].IamInstanceProfile != nil
}

// addressOf is the public address of a recorded Elastic IP ("its Elastic
// IP" when unknown).
func (e *Env) addressOf(ctx context.Context, step plan.ID) string {
	if a := e.PublicAddress(ctx, step); a != "" {
		return a
	}
	return "its Elastic IP"
}

// publicAddress reads the public address of a recorded Elastic IP; "" when
// there is none.
func (e *Env) PublicAddress(ctx context.Context, step plan.ID) string {
	id := e.IDOf(step)
	if id == "" {
		return ""
	}
	out, err := e.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{id}})
	if err != nil || len(out.Addresses) != 1 {
		return ""
	}
	return aws.ToString(out.Addresses[0].PublicIp)
}

// RunnerOnline asks GitLab for the runner's status: the runner created by
// gitlab.create_runner, or the one whose token the parameter holds (its id
// recorded at preflight).
// It needs GITLAB_TOKEN; without it, "".
func (e *Env) RunnerOnline(ctx context.Context) (string, error) {
	if e.Secrets.GitLabToken.Empty() || e.Cfg.GitLab.URL == "" {
		return "", nil
	}
	id := e.recordedRunnerID()
	if id == 0 {
		// A stack recorded before the runner's id was kept: ask GitLab
		// whose token the parameter holds.
		p, err := GetParameter(ctx, e.SSM, e.TokenParameter(), true)
		if err != nil || p == nil {
			return "", err
		}
		v, err := e.GitLab.Verify(ctx, aws.ToString(p.Value))
		if err != nil {
			return "", err
		}
		id = v.ID
	}
	return e.GitLab.RunnerStatus(ctx, e.Secrets.GitLabToken.Reveal(), id)
}

// recordedRunnerID is the runner's id in GitLab as the state records it:
// gitlab/runner's id, or the id preflight learned for GITLAB_RUNNER_TOKEN
// (0: not recorded).
func (e *Env) recordedRunnerID() int64 {
	id := e.IDOf(StepGitLabRunner)
	if id == "" {
		id = e.Ledger.Get(string(StepToken)).Attr("gitlab_runner_id")
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}
