// Package awstest runs the AWS emulator (moto_server) for end-to-end tests
// and puts a proxy in front of it that records calls, injects faults and
// delays (latency.go: AWS's latencies, for scripts/bench), and answers as
// AWS does where moto does not (moto_gaps.go, and atomic conditional S3
// writes); policy_eval.go evaluates IAM policies for what the emulator
// does not enforce.
package awstest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/provision-dev/provision/pkg/provision/stack"
)

// Moto is a running moto_server.
type Moto struct {
	URL string
	cmd *exec.Cmd
}

var runningOn = regexp.MustCompile(`Running on (http://127\.0\.0\.1:\d+)`)

// StartMoto starts moto_server on a free port and waits until it answers.
// MOTO_SERVER may name the executable.
func StartMoto() (*Moto, error) {
	bin := os.Getenv("MOTO_SERVER")
	if bin == "" {
		bin = "moto_server"
	}
	if _, err := exec.LookPath(bin); err != nil {
		return nil, fmt.Errorf("moto_server not found (install it with `pip install \"moto[server]\"`): %w", err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	noteRunning(cmd.Process.Pid)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			if m := runningOn.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
	}()
	m := &Moto{cmd: cmd}
	select {
	case m.URL = <-found:
	case <-time.After(60 * time.Second):
		m.Stop()
		return nil, fmt.Errorf("moto_server did not report its address within 60s")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(m.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return m, nil
		}
		if time.Now().After(deadline) {
			m.Stop()
			return nil, fmt.Errorf("moto_server at %s does not answer: %w", m.URL, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Reset empties every emulated service.
func (m *Moto) Reset(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.URL+"/moto-api/reset", strings.NewReader(""))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reset moto: HTTP %d", resp.StatusCode)
	}
	return nil
}

// Stop ends the server and its children.
func (m *Moto) Stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		_ = m.cmd.Wait()
		noteStopped(m.cmd.Process.Pid)
	}
}

// A test binary that times out or panics ends without running Stop. So
// that no emulator outlives the tests, each one's process (group) id is
// kept as a file in $PROVISION_TEST_PIDS while it runs; scripts/test
// kills whatever is left there when the tests end.
func noteRunning(pid int) {
	if dir := os.Getenv("PROVISION_TEST_PIDS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, strconv.Itoa(pid)), nil, 0o600)
	}
}

func noteStopped(pid int) {
	if dir := os.Getenv("PROVISION_TEST_PIDS"); dir != "" {
		_ = os.Remove(filepath.Join(dir, strconv.Itoa(pid)))
	}
}

// CreateBoundary makes the permissions boundary of a stack's roles in the
// emulator, as the administrator does once per stack before the stack's
// first up (the stack's roles are made with it). One that exists is kept.
func CreateBoundary(ctx context.Context, endpoint, name, region string) error {
	client := iam.NewFromConfig(aws.Config{Region: region, BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")})
	_, err := client.CreatePolicy(ctx, &iam.CreatePolicyInput{
		PolicyName: aws.String(stack.BoundaryName(name, region)), Path: aws.String("/provision/"),
		PolicyDocument: aws.String(stack.BoundaryPolicy(name, region).JSON()),
	})
	var exists *iamtypes.EntityAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("create the boundary of stack %s: %w", name, err)
	}
	return nil
}

// stackLine finds the stack's name in a configuration file's text.
var stackLine = regexp.MustCompile(`(?m)^stack:\s*"?([a-z0-9-]+)"?\s*$`)

// regionLine finds the region in a configuration file's text.
var regionLine = regexp.MustCompile(`(?m)^region:\s*"?([a-z0-9-]+)"?\s*$`)

// CreateBoundaryFor makes the boundary of the stack a configuration
// file's text names (nothing for a file that names none).
func CreateBoundaryFor(ctx context.Context, endpoint, configText, defaultRegion string) error {
	m := stackLine.FindStringSubmatch(configText)
	if m == nil {
		return nil
	}
	region := defaultRegion
	if r := regionLine.FindStringSubmatch(configText); r != nil {
		region = r[1]
	}
	return CreateBoundary(ctx, endpoint, m[1], region)
}
