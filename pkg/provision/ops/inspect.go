package ops

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/provision/traffic"
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
	// GitLabIngress says which of the two addresses GitLab's group admits
	// on 443, as read from AWS.
	GitLabIngress string `json:"gitlab_ingress,omitempty"`
	// Boot is the manager's last boot report.
	Boot *stack.BootReport `json:"manager_boot,omitempty"`
	// ConfigVersion is the version of ssm/runner-config, as read now.
	ConfigVersion string `json:"runner_config_version,omitempty"`
	// Fleets are each fleet's facts, first fleet first; the fields above
	// that are a fleet's (asg_*, gitlab_runner_*, runner_token_*) are the
	// first fleet's.
	Fleets []FleetFacts `json:"fleets,omitempty"`
}

// FleetFacts are one fleet's machines and runner.
type FleetFacts struct {
	Name     string `json:"name"`
	Executor string `json:"executor"`
	// Group is the fleet's Auto Scaling group (docker-autoscaler).
	Group                string `json:"autoscaling_group,omitempty"`
	ASGDesired           *int32 `json:"asg_desired,omitempty"`
	ASGInService         *int   `json:"asg_in_service,omitempty"`
	RunnerID             string `json:"gitlab_runner_id,omitempty"`
	RunnerStatus         string `json:"gitlab_runner_status,omitempty"`
	RunnerTokenExpiresAt string `json:"runner_token_expires_at,omitempty"`
}

// Inspect reads the facts of the recorded resources. It only reads, and a
// fact it cannot read is left empty rather than failing the report.
func Inspect(ctx context.Context, e *stack.Env) Facts {
	var f Facts
	if id := e.IDOf(stack.StepManager); id != "" {
		f.ManagerID = id
		f.ManagerState = "missing"
		out, err := e.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
		if err == nil && len(out.Reservations) == 1 && out.Reservations[0].Instances[0].State != nil {
			f.ManagerState = string(out.Reservations[0].Instances[0].State.Name)
		}
	}
	f.NATAddress, f.ManagerAddress = PublicAddress(ctx, e, stack.StepNATAddress), PublicAddress(ctx, e, stack.StepManagerAddress)
	for _, fl := range e.Cfg.FleetList() {
		f.Fleets = append(f.Fleets, inspectFleet(ctx, e, fl))
	}
	if len(f.Fleets) > 0 {
		first := f.Fleets[0]
		f.ASGDesired, f.ASGInService, f.RunnerID, f.RunnerStatus, f.RunnerTokenExpiresAt = first.ASGDesired, first.ASGInService, first.RunnerID, first.RunnerStatus, first.RunnerTokenExpiresAt
	}
	f.GitLabIngress = gitlabIngressFact(ctx, e, f.NATAddress, f.ManagerAddress)
	if f.ManagerID != "" {
		f.Boot, _ = e.ReadBootReport(ctx)
	}
	if p, err := e.StackParameter(ctx, e.Names().RunnerConfigParameter()); err == nil && p != nil {
		f.ConfigVersion = strconv.FormatInt(p.Version, 10)
	}
	return f
}

// inspectFleet reads one fleet's group, its runner in GitLab and its
// token's expiry.
func inspectFleet(ctx context.Context, e *stack.Env, fl config.Fleet) FleetFacts {
	f := FleetFacts{Name: fl.Name, Executor: fl.Executor}
	if group := e.IDOf(stack.FleetStep(stack.StepAutoScaling, fl.Name)); group != "" {
		f.Group = group
		out, err := e.ASG.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
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
	if id := e.IDOf(stack.FleetStep(stack.StepGitLabRunner, fl.Name)); id != "" {
		f.RunnerID = id
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && !e.Secrets.GitLabToken.Empty() {
			if st, err := e.GitLab.RunnerStatus(ctx, e.Secrets.GitLabToken.Reveal(), n); err == nil {
				f.RunnerStatus = st
			} else {
				f.RunnerStatus = "unknown (" + err.Error() + ")"
			}
		}
	}
	f.RunnerTokenExpiresAt = tokenExpiry(ctx, e, fl.Name)
	return f
}

// gitlabIngressFact reads GitLab's group and says whether it admits each
// Elastic IP on 443.
func gitlabIngressFact(ctx context.Context, e *stack.Env, nat, manager string) string {
	sg := e.Cfg.GitLab.SecurityGroupID
	if sg == "" || (nat == "" && manager == "") {
		return ""
	}
	out, err := e.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sg}})
	if err != nil || len(out.SecurityGroups) != 1 {
		return "unknown (cannot read " + sg + ")"
	}
	var parts []string
	for _, a := range []struct{ name, addr string }{{"NAT", nat}, {"manager", manager}} {
		if a.addr == "" {
			continue
		}
		verdict := "not admitted"
		if addr, err := netip.ParseAddr(a.addr); err == nil && traffic.GroupAdmits(out.SecurityGroups[0].IpPermissions, "6", 443, addr) {
			verdict = "admitted"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s on 443", a.name, a.addr, verdict))
	}
	return sg + ": " + strings.Join(parts, ", ")
}

// tokenExpiry asks GitLab when the token in the parameter expires: the
// parameter holds the token gitlab-runner renewed last, so this is the
// expiry that matters now. /runners/verify without a system_id changes
// nothing in GitLab.
func tokenExpiry(ctx context.Context, e *stack.Env, fleet string) string {
	if e.Cfg.GitLab.URL == "" || (e.IDOf(stack.FleetStep(stack.StepToken, fleet)) == "" && e.IDOf(stack.FleetStep(stack.StepGitLabRunner, fleet)) == "") {
		return ""
	}
	p, err := stack.GetParameter(ctx, e.SSM, e.Names().TokenParameter(fleet), true)
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
