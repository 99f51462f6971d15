package provision

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// Facts are what an operator checks first about a running stack.
type Facts struct {
	ManagerID      string `json:"manager_id,omitempty"`
	ManagerState   string `json:"manager_state,omitempty"`
	ASGDesired     *int32 `json:"asg_desired,omitempty"`
	ASGInService   *int   `json:"asg_in_service,omitempty"`
	NATAddress     string `json:"nat_address,omitempty"`
	ManagerAddress string `json:"manager_address,omitempty"`
	RunnerID       string `json:"gitlab_runner_id,omitempty"`
	RunnerStatus   string `json:"gitlab_runner_status,omitempty"`
	// RunnerTokenExpiresAt is when the token in the parameter expires, as
	// GitLab says: an RFC 3339 time, "never", or "unknown (why)".
	RunnerTokenExpiresAt string `json:"runner_token_expires_at,omitempty"`
}

// Inspect reads the facts of the recorded resources. It only reads, and a
// fact it cannot read is left empty rather than failing the report.
func (e *Env) Inspect(ctx context.Context) Facts {
	var f Facts
	if id := e.idOf(stepManager); id != "" {
		f.ManagerID = id
		f.ManagerState = "missing"
		out, err := e.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err == nil && len(out.Reservations) == 1 && out.Reservations[0].Instances[0].State != nil {
			f.ManagerState = string(out.Reservations[0].Instances[0].State.Name)
		}
	}
	if e.idOf(stepAutoScaling) != "" {
		out, err := e.ASG.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{e.AutoScalingGroupName()}})
		if err == nil && len(out.AutoScalingGroups) == 1 {
			g := out.AutoScalingGroups[0]
			inService := 0
			for _, i := range g.Instances {
				if i.LifecycleState == "InService" {
					inService++
				}
			}
			f.ASGDesired, f.ASGInService = g.DesiredCapacity, &inService
		}
	}
	for step, dst := range map[string]*string{string(stepNATAddress): &f.NATAddress, string(stepManagerAddress): &f.ManagerAddress} {
		if r := e.Ledger.Get(step); r != nil && r.ID != "" {
			out, err := e.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{r.ID}})
			if err == nil && len(out.Addresses) == 1 {
				*dst = aws.ToString(out.Addresses[0].PublicIp)
			}
		}
	}
	if id := e.idOf(stepGitLabRunner); id != "" {
		f.RunnerID = id
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && !e.Secrets.GitLabToken.Empty() {
			if st, err := e.GitLab.RunnerStatus(ctx, e.Secrets.GitLabToken.Reveal(), n); err == nil {
				f.RunnerStatus = st
			} else {
				f.RunnerStatus = "unknown (" + err.Error() + ")"
			}
		}
	}
	f.RunnerTokenExpiresAt = e.tokenExpiry(ctx)
	return f
}

// tokenExpiry asks GitLab when the token in the parameter expires: the
// parameter holds the token gitlab-runner renewed last, so this is the
// expiry that matters now. /runners/verify without a system_id changes
// nothing in GitLab.
func (e *Env) tokenExpiry(ctx context.Context) string {
	if e.Cfg.GitLab.URL == "" || (e.idOf(stepToken) == "" && e.idOf(stepGitLabRunner) == "") {
		return ""
	}
	p, err := getParameter(ctx, e.SSM, e.TokenParameter(), true)
	if err != nil || p == nil {
		return ""
	}
	exp, err := e.GitLab.VerifyRunnerToken(ctx, aws.ToString(p.Value))
	switch {
	case err != nil:
		return "unknown (" + err.Error() + ")"
	case exp.IsZero():
		return "never"
	default:
		return exp.UTC().Format(time.RFC3339)
	}
}
