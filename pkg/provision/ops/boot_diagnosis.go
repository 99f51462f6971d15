package ops

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// BootDiagnosis is what provision can tell about a boot that failed or
// did not finish: the likely cause in words, and the last lines of the
// unit that failed from the log group (LogUnit, Log) or, when the manager
// shipped none, the end of its console.
type BootDiagnosis struct {
	Cause   string
	LogUnit string
	Log     string
	Console string
}

// consoleLines is how much of the console a failed boot shows.
const consoleLines = 25

// DiagnoseBoot explains a boot that failed (r.Failed) or did not reach
// online in time (r is the last report, or nil when there was none).
func DiagnoseBoot(ctx context.Context, e *stack.Env, r *stack.BootReport) BootDiagnosis {
	d := BootDiagnosis{LogUnit: "boot"}
	if r != nil && (r.Stage == bootstrap.StageServiceRunning || r.Stage == bootstrap.StageOnline) {
		d.LogUnit = "gitlab-runner"
	}
	if d.Log = bootLogTail(ctx, e, d.LogUnit); d.Log == "" {
		d.Console = consoleTail(ctx, e)
	}
	console := "its console output (`aws ec2 get-console-output --instance-id " + e.IDOf(stack.StepManager) + "`)"
	eip := addressOf(ctx, e, stack.StepManagerAddress)
	internet := fmt.Sprintf("the manager reaches the internet through the internet gateway from %s: check that rtb/public routes 0.0.0.0/0 to it and that nacl/public admits the return traffic", eip)
	switch {
	case r == nil:
		if !managerHasProfile(ctx, e) {
			d.Cause = "the manager has no instance profile: it can neither read its token nor report its boot. Run `provision up` to repair iam/manager and replace the manager."
			break
		}
		d.Cause = "the manager wrote no boot report: cloud-init did not run the boot script (see " + console + "), or the manager cannot reach SSM (" + internet + ")."
	case r.Status == "ok":
		d.Cause = fmt.Sprintf("the boot stopped after stage %q (reported %s): see %s.", r.Stage, r.Time.Format(time.RFC3339), console)
	default:
		d.Cause = failedStageCause(e, r, eip, internet)
	}
	return d
}

// failedStageCause names the likely cause of a failed stage in words.
func failedStageCause(e *stack.Env, r *stack.BootReport, eip, internet string) string {
	detail := strings.ToLower(r.Detail)
	switch r.Stage {
	case bootstrap.StagePackages, bootstrap.StageRunner, bootstrap.StagePluginInstalled:
		if stack.ContainsAny(detail, "timeout", "timed out", "could not resolve", "cannot download", "failed to connect", "connection") {
			return "a package repository is not reachable from the manager: " + internet + "."
		}
		return fmt.Sprintf("installing failed in stage %q: see the detail and the console output.", r.Stage)
	case bootstrap.StageDocker:
		return "Docker did not start on the manager: see the console output."
	case bootstrap.StageTokenRead:
		switch {
		case stack.ContainsAny(detail, "unable to locate credentials", "no credentials"):
			return "the manager has no instance profile, so it cannot read " + e.Names().TokenParameter(e.Cfg.FirstFleet().Name) + "."
		case stack.ContainsAny(detail, "accessdenied", "not authorized"):
			return "the parameter " + e.Names().TokenParameter(e.Cfg.FirstFleet().Name) + " is not readable with the manager's role: run `provision up` to repair iam/manager."
		case strings.Contains(detail, "does not hold a runner authentication token"):
			return "the parameter " + e.Names().TokenParameter(e.Cfg.FirstFleet().Name) + " holds no runner authentication token (glrt-...): set GITLAB_RUNNER_TOKEN to one, or use gitlab.create_runner."
		}
		return "the parameter " + e.Names().TokenParameter(e.Cfg.FirstFleet().Name) + " is not readable from the manager: " + internet + "."
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
func consoleTail(ctx context.Context, e *stack.Env) string {
	id := e.IDOf(stack.StepManager)
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
	lines := strings.Split(strings.TrimRight(stack.FromManager(string(raw)), "\n"), "\n")
	if len(lines) > consoleLines {
		lines = lines[len(lines)-consoleLines:]
	}
	return strings.Join(lines, "\n")
}

func managerHasProfile(ctx context.Context, e *stack.Env) bool {
	id := e.IDOf(stack.StepManager)
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
func addressOf(ctx context.Context, e *stack.Env, step plan.ID) string {
	if a := PublicAddress(ctx, e, step); a != "" {
		return a
	}
	return "its Elastic IP"
}

// PublicAddress reads the public address of a recorded Elastic IP; "" when
// there is none.
func PublicAddress(ctx context.Context, e *stack.Env, step plan.ID) string {
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
func RunnerOnline(ctx context.Context, e *stack.Env) (string, error) {
	if e.Secrets.GitLabToken.Empty() || e.Cfg.GitLab.URL == "" {
		return "", nil
	}
	id := recordedRunnerID(e)
	if id == 0 {
		// A stack recorded before the runner's id was kept: ask GitLab
		// whose token the parameter holds.
		p, err := stack.GetParameter(ctx, e.SSM, e.Names().TokenParameter(e.Cfg.FirstFleet().Name), true)
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
func recordedRunnerID(e *stack.Env) int64 {
	id := e.IDOf(stack.StepGitLabRunner)
	if id == "" {
		id = e.Ledger.Get(string(stack.StepToken)).Attr(string(stack.AttrRunnerID))
	}
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}
