package e2e

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/provision-dev/provision/pkg/provision/awstest"
)

// A NAT gateway that takes its time: up says what it waits for at least
// every 10 s, and the first Ctrl-C stops the wait at once, says what was
// awaited and that up continues it; the next up does.
func TestWaitsAreVisibleAndInterruptible(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.writeConfig(baseConfig)
	h.proxy.SetRewrite(awstest.PendingNAT(13 * time.Second))
	up := h.mustRun(0, "up", "--auto-approve", "--no-wait")
	still := regexp.MustCompile(`nat: still creating \(nat-[0-9a-f]+, pending\) \[1[0-9]s elapsed\]`)
	if !strings.Contains(up.stdout, "nat: creating") || !still.MatchString(up.stdout) || !regexp.MustCompile(`nat: created \(nat-[0-9a-f]+\) \[(1[3-9]|[2-3][0-9])s\]`).MatchString(up.stdout) {
		t.Errorf("the NAT gateway's wait is not visible:\n%s", up.stdout)
	}
	if strings.Contains(up.stderr, "WARN") && strings.Contains(up.stderr, "aws-sdk") {
		t.Errorf("the SDK's own log lines reach the user:\n%s", up.stderr)
	}
	// A NAT gateway that is still pending is pending in status, not drifted.
	h.proxy.SetRewrite(func(c awstest.Call, body []byte) []byte {
		if c.Action == "DescribeNatGateways" {
			return bytes.ReplaceAll(body, []byte("<state>available</state>"), []byte("<state>pending</state>"))
		}
		return body
	})
	st := h.mustRun(2, "status")
	if !regexp.MustCompile(`(?m)^nat +nat-gateway +nat-[0-9a-f]+ +pending$`).MatchString(st.stdout) || strings.Contains(st.stdout, "drifted") ||
		!strings.Contains(st.stdout, "Pending resources become ready by themselves") {
		t.Errorf("status does not show the pending NAT gateway as pending:\n%s", st.stdout)
	}
	h.proxy.SetRewrite(nil)
	h.mustRun(0, "status")
	h.mustRun(0, "down", "--auto-approve", "--keep-runner")

	// Interrupted while waiting. The calls so far are forgotten first: the
	// CreateNatGateway to wait for is this run's, not the first up's
	// (seeing that one, the interrupt came before this run had reached the
	// NAT gateway whenever the machine was slow).
	h.proxy.SetRewrite(awstest.PendingNAT(time.Hour))
	h.proxy.Reset()
	go func() {
		for i := 0; i < 300; i++ {
			time.Sleep(100 * time.Millisecond)
			for _, c := range h.proxy.Calls() {
				if c.Action == "CreateNatGateway" {
					time.Sleep(time.Second) // well inside the wait
					h.signal(os.Interrupt)
					return
				}
			}
		}
	}()
	start := time.Now()
	r := h.run("up", "--auto-approve")
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("up took %s after the interrupt", took)
	}
	if r.code != 1 || !regexp.MustCompile(`nat: stopped waiting for nat-[0-9a-f]+ to be available \(last seen: nat-[0-9a-f]+, pending\): interrupted`).MatchString(r.stderr) ||
		!strings.Contains(r.stderr, "run the same command again to continue") {
		t.Fatalf("the interrupt does not say what was awaited and how to go on: %s", r)
	}
	h.proxy.SetRewrite(nil)
	h.mustRun(0, "up", "--auto-approve")
	h.mustRun(0, "plan", "--detailed-exitcode")
	h.mustRun(0, "down", "--auto-approve")
}
