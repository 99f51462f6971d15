package ops

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// Inspect reports the manager, group capacity, both EIPs and GitLab's admission, token expiry and boot.
func TestInspectReadsTheFacts(t *testing.T) {
	l := upLive(t, nil)
	l.reportBoot(t, online)
	describe := l.c.AutoScaling.DescribeAutoScalingGroupsFn
	l.c.AutoScaling.DescribeAutoScalingGroupsFn = func(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
		out, err := describe(ctx, in)
		if err == nil && len(out.AutoScalingGroups) == 1 {
			out.AutoScalingGroups[0].Instances = []asgtypes.Instance{{LifecycleState: asgtypes.LifecycleStateInService}, {LifecycleState: asgtypes.LifecycleStatePending}}
		}
		return out, err
	}
	f := Inspect(context.Background(), l.e)
	nat, manager := l.e.AttrOf(stack.StepNATAddress, "public_ip"), l.e.AttrOf(stack.StepManagerAddress, "public_ip")
	if f.ManagerID != l.e.IDOf(stack.StepManager) || f.ManagerState != "running" {
		t.Errorf("manager %q %q", f.ManagerID, f.ManagerState)
	}
	if f.ASGDesired == nil || f.ASGInService == nil || *f.ASGInService != 1 {
		t.Errorf("group: desired %v, in service %v; want one in service", f.ASGDesired, f.ASGInService)
	}
	if nat == "" || manager == "" || f.NATAddress != nat || f.ManagerAddress != manager {
		t.Errorf("addresses %q %q, want %q %q", f.NATAddress, f.ManagerAddress, nat, manager)
	}
	if want := "sg-gitlab: NAT " + nat + " admitted on 443, manager " + manager + " admitted on 443"; f.GitLabIngress != want {
		t.Errorf("GitLab ingress %q\nwant %q", f.GitLabIngress, want)
	}
	if f.RunnerTokenExpiresAt != "never" {
		t.Errorf("token expiry %q, want never", f.RunnerTokenExpiresAt)
	}
	if f.Boot == nil || !f.Boot.Online() {
		t.Errorf("boot %+v, want online", f.Boot)
	}
	if f.RunnerID != "" || f.RunnerStatus != "" {
		t.Errorf("runner %q %q for a stack given GITLAB_RUNNER_TOKEN", f.RunnerID, f.RunnerStatus)
	}
}

// Inspect reports a vanished manager as missing, unadmitted EIPs, and what it cannot read as unknown.
func TestInspectSaysWhatIsWrongOrUnknown(t *testing.T) {
	l := upLive(t, nil)
	l.ingress["sg-gitlab"] = nil
	l.gitlabWith(t, false, time.Time{})
	l.c.EC2.DescribeInstancesFn = nil
	f := Inspect(context.Background(), l.e)
	nat, manager := l.e.AttrOf(stack.StepNATAddress, "public_ip"), l.e.AttrOf(stack.StepManagerAddress, "public_ip")
	if f.ManagerState != "missing" {
		t.Errorf("manager state %q, want missing", f.ManagerState)
	}
	if want := "sg-gitlab: NAT " + nat + " not admitted on 443, manager " + manager + " not admitted on 443"; f.GitLabIngress != want {
		t.Errorf("GitLab ingress %q\nwant %q", f.GitLabIngress, want)
	}
	if !strings.HasPrefix(f.RunnerTokenExpiresAt, "unknown (") || !strings.Contains(f.RunnerTokenExpiresAt, gitlab.ErrTokenRejected.Error()) {
		t.Errorf("token expiry %q", f.RunnerTokenExpiresAt)
	}
	l.c.EC2.DescribeSecurityGroupsFn = func(context.Context, *ec2.DescribeSecurityGroupsInput) (*ec2.DescribeSecurityGroupsOutput, error) {
		return nil, errors.New("throttled")
	}
	if f := Inspect(context.Background(), l.e); f.GitLabIngress != "unknown (cannot read sg-gitlab)" {
		t.Errorf("GitLab ingress %q with the group unreadable", f.GitLabIngress)
	}
}

// With GITLAB_TOKEN Inspect reports the created runner's status, unknown when GitLab refuses the token.
func TestInspectRunnerStatus(t *testing.T) {
	l := upLive(t, nil)
	gl := l.gitlabWith(t, true, time.Time{})
	id := gl.AddRunner("glrt-created-runner")
	if err := l.e.Ledger.Put(string(stack.StepGitLabRunner), &state.Resource{Type: "gitlab_runner", ID: strconv.FormatInt(id, 10), Status: state.StatusCreated}); err != nil {
		t.Fatal(err)
	}
	gl.AddUserToken("glpat-reader", gitlabtest.UserToken{Scopes: gitlabtest.RunnerScopes})
	l.e.Secrets.GitLabToken = stack.NewSecret("glpat-reader")
	f := Inspect(context.Background(), l.e)
	if f.RunnerID != strconv.FormatInt(id, 10) || f.RunnerStatus != "never_contacted" {
		t.Errorf("runner %q status %q, want %d never_contacted", f.RunnerID, f.RunnerStatus, id)
	}
	l.e.Secrets.GitLabToken = stack.NewSecret("glpat-unknown")
	if f := Inspect(context.Background(), l.e); !strings.HasPrefix(f.RunnerStatus, "unknown (") || !strings.Contains(f.RunnerStatus, gitlab.ErrUnauthorized.Error()) {
		t.Errorf("status with a refused GITLAB_TOKEN: %q", f.RunnerStatus)
	}
}
