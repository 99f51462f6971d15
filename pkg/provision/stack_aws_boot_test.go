package provision_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/provision-dev/provision/pkg/provision/awsapi/awsfake"
	"github.com/provision-dev/provision/pkg/provision/gitlab"
	"github.com/provision-dev/provision/pkg/provision/gitlabtest"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// putBootReport writes the manager's boot report where the bootstrap does.
func (f *fakeStack) putBootReport(t *testing.T, r stack.BootReport) {
	t.Helper()
	v, _ := json.Marshal(r)
	name := stack.BootParameterName("ci")
	if _, err := f.c.SSM.PutParameter(context.Background(), &ssm.PutParameterInput{Name: &name, Value: aws.String(string(v))}); err != nil {
		t.Fatal(err)
	}
}

// BootReport reads SSM anew when fresh, else keeps the run's first look; a stack without a manager has none.
func TestBootReportFreshOrAsTheRunSawIt(t *testing.T) {
	f := newFakeStack(t, nil)
	l := f.up(t)
	ctx := context.Background()
	f.putBootReport(t, stack.BootReport{Stage: "docker", Status: "ok"})
	if r, err := f.s.BootReport(ctx, l, false); err != nil || r == nil || r.Stage != "docker" {
		t.Fatalf("first look: %+v %v", r, err)
	}
	f.putBootReport(t, stack.BootReport{Stage: "online", Status: "ok"})
	if r, err := f.s.BootReport(ctx, l, false); err != nil || r.Stage != "docker" {
		t.Errorf("the run's look again: %+v %v, want the report it saw first", r, err)
	}
	if r, err := f.s.BootReport(ctx, l, true); err != nil || !r.Online() {
		t.Errorf("fresh: %+v %v, want online", r, err)
	}
	if _, err := f.s.BootReport(ctx, ledger(), true); !errors.Is(err, stack.ErrNoManager) {
		t.Errorf("no manager: %v", err)
	}
}

// DiagnoseBoot explains the boot of the manager the state records (here: launched without a profile).
func TestDiagnoseBootOfTheRecordedManager(t *testing.T) {
	f := newFakeStack(t, nil)
	l := f.up(t)
	d := f.s.DiagnoseBoot(context.Background(), l, nil)
	if !strings.HasPrefix(d.Cause, "the manager has no instance profile") {
		t.Errorf("cause %q", d.Cause)
	}
	if got := awsfake.Inputs[*ec2.DescribeInstancesInput](f.c, "DescribeInstances"); len(got) == 0 || got[len(got)-1].InstanceIds[0] != l.Get(string(stack.StepManager)).ID {
		t.Errorf("did not describe the recorded manager")
	}
}

// RunnerOnline is empty without GITLAB_TOKEN, else GitLab's status of the runner whose token the stack holds.
func TestRunnerOnlineOfTheStacksRunner(t *testing.T) {
	f := newFakeStack(t, nil)
	l := f.up(t)
	gl := gitlabtest.New()
	t.Cleanup(gl.Close)
	gl.AddRunner("glrt-another")
	gl.AddRunner("glrt-fake-runner-token")
	gl.AddUserToken("glpat-reader", gitlabtest.UserToken{Scopes: gitlabtest.RunnerScopes})
	f.gitlab = gitlab.New(gl.URL)
	if st, err := f.s.RunnerOnline(context.Background(), l); st != "" || err != nil || len(gl.Requests()) != 0 {
		t.Errorf("without GITLAB_TOKEN: %q %v, %d requests", st, err, len(gl.Requests()))
	}
	f.s.Secrets.GitLabToken = stack.NewSecret("glpat-reader")
	if st, err := f.s.RunnerOnline(context.Background(), l); st != "never_contacted" || err != nil {
		t.Errorf("status %q %v", st, err)
	}
	if reqs := gl.Requests(); reqs[len(reqs)-1].URL != "/api/v4/runners/102" {
		t.Errorf("asked about %s, want runner 102", reqs[len(reqs)-1].URL)
	}
}

// DeleteBootReport removes the boot report and the drain parameter, retrying a throttled call.
func TestDeleteBootReportRemovesBothParameters(t *testing.T) {
	f := newFakeStack(t, nil)
	throttled := 0
	f.c.SSM.DeleteParameterFn = func(_ context.Context, in *ssm.DeleteParameterInput) (*ssm.DeleteParameterOutput, error) {
		if throttled == 0 {
			throttled++
			return nil, &smithy.GenericAPIError{Code: "ThrottlingException"}
		}
		return &ssm.DeleteParameterOutput{}, nil
	}
	if err := f.s.DeleteBootReport(context.Background()); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range awsfake.Inputs[*ssm.DeleteParameterInput](f.c, "DeleteParameter") {
		names = append(names, aws.ToString(in.Name))
	}
	boot, drain := stack.BootParameterName("ci"), stack.DrainParameterName("ci")
	if want := []string{boot, boot, drain}; !reflect.DeepEqual(names, want) {
		t.Errorf("deleted %v, want %v", names, want)
	}
}

// DeleteBootReport fails on an error that retrying cannot fix, and treats parameters already gone as deleted.
func TestDeleteBootReportErrors(t *testing.T) {
	f := newFakeStack(t, nil)
	f.c.SSM.DeleteParameterFn = func(context.Context, *ssm.DeleteParameterInput) (*ssm.DeleteParameterOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "ParameterNotFound"}
	}
	if err := f.s.DeleteBootReport(context.Background()); err != nil {
		t.Errorf("parameters already gone: %v", err)
	}
	f.c.SSM.DeleteParameterFn = func(context.Context, *ssm.DeleteParameterInput) (*ssm.DeleteParameterOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "AccessDeniedException"}
	}
	if err := f.s.DeleteBootReport(context.Background()); err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Errorf("access denied: %v", err)
	}
	if n := len(f.c.Methods()); n != 3 {
		t.Errorf("%d calls, want 3: an access denial is not retried", n)
	}
}
