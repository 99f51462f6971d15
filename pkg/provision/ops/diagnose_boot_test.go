package ops

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// Without a report the cause is the missing instance profile, else cloud-init or SSM via the manager's EIP.
func TestDiagnoseBootWithoutReport(t *testing.T) {
	l := upLive(t, nil)
	eip := l.e.AttrOf(stack.StepManagerAddress, "public_ip")
	d := DiagnoseBoot(context.Background(), l.e, nil)
	if !strings.HasPrefix(d.Cause, "the manager wrote no boot report: cloud-init did not run the boot script (see its console output (`aws ec2 get-console-output --instance-id "+l.e.IDOf(stack.StepManager)+"`)") ||
		!strings.Contains(d.Cause, "through the internet gateway from "+eip) {
		t.Errorf("no report, manager with a profile:\n%s", d.Cause)
	}
	describe := l.c.EC2.DescribeInstancesFn
	l.c.EC2.DescribeInstancesFn = func(ctx context.Context, in *ec2.DescribeInstancesInput) (*ec2.DescribeInstancesOutput, error) {
		out, err := describe(ctx, in)
		out.Reservations[0].Instances[0].IamInstanceProfile = nil
		return out, err
	}
	if d := DiagnoseBoot(context.Background(), l.e, nil); !strings.HasPrefix(d.Cause, "the manager has no instance profile") {
		t.Errorf("no report, manager without a profile:\n%s", d.Cause)
	}
}

// A report names where the boot stopped, and a failed stage's cause names the manager's real EIP.
func TestDiagnoseBootWithReport(t *testing.T) {
	l := upLive(t, nil)
	eip := l.e.AttrOf(stack.StepManagerAddress, "public_ip")
	d := DiagnoseBoot(context.Background(), l.e, &stack.BootReport{Stage: bootstrap.StageDocker, Status: "ok", Time: online.Time})
	if !strings.HasPrefix(d.Cause, `the boot stopped after stage "docker" (reported 2025-03-01T12:00:00Z)`) {
		t.Errorf("stopped boot: %s", d.Cause)
	}
	d = DiagnoseBoot(context.Background(), l.e, &stack.BootReport{Stage: bootstrap.StageTokenVerified, Status: "failed", Detail: "curl: (28) Connection timed out"})
	if !strings.Contains(d.Cause, "from the manager's address "+eip+": GitLab's firewall or security group must admit "+eip+"/32 on 443") {
		t.Errorf("failed stage: %s", d.Cause)
	}
	l.c.EC2.DescribeAddressesFn = nil // the address is gone
	d = DiagnoseBoot(context.Background(), l.e, &stack.BootReport{Stage: bootstrap.StageTokenVerified, Status: "failed"})
	if !strings.Contains(d.Cause, "from the manager's address its Elastic IP") {
		t.Errorf("failed stage, address unknown: %s", d.Cause)
	}
}

// The console shown is its last lines without control characters, runner tokens redacted even when split.
func TestDiagnoseBootConsoleTail(t *testing.T) {
	l := upLive(t, nil)
	var raw strings.Builder
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&raw, "cloud-init line %d \x1b[32mOK\x1b[0m\r\n", i)
	}
	raw.WriteString("\x1b]0;owned\x07token glrt-SECRET\rsecret123 registered\r\n")
	console := base64.StdEncoding.EncodeToString([]byte(raw.String()))
	l.c.EC2.GetConsoleOutputFn = func(_ context.Context, in *ec2.GetConsoleOutputInput) (*ec2.GetConsoleOutputOutput, error) {
		if aws.ToString(in.InstanceId) != l.e.IDOf(stack.StepManager) {
			return nil, errors.New("another instance")
		}
		return &ec2.GetConsoleOutputOutput{Output: aws.String(console)}, nil
	}
	d := DiagnoseBoot(context.Background(), l.e, nil)
	lines := strings.Split(d.Console, "\n")
	if len(lines) != consoleLines {
		t.Fatalf("%d lines, want the last %d:\n%s", len(lines), consoleLines, d.Console)
	}
	if lines[0] != "cloud-init line 17 [32mOK[0m" {
		t.Errorf("first line shown %q, want line 17 without its escape characters", lines[0])
	}
	if last := lines[len(lines)-1]; last != "]0;ownedtoken glrt-[redacted] registered" {
		t.Errorf("last line %q", last)
	}
	if strings.ContainsAny(d.Console, "\x1b\r\x07") || strings.Contains(d.Console, "SECRET") {
		t.Errorf("console not cleaned:\n%q", d.Console)
	}

	l.c.EC2.GetConsoleOutputFn = func(context.Context, *ec2.GetConsoleOutputInput) (*ec2.GetConsoleOutputOutput, error) {
		return &ec2.GetConsoleOutputOutput{Output: aws.String("not base64!")}, nil
	}
	if d := DiagnoseBoot(context.Background(), l.e, nil); d.Console != "" {
		t.Errorf("console from undecodable output: %q", d.Console)
	}
}
