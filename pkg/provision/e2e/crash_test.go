package e2e

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// PROVISION_CRASH_MATRIX=full kills provision after every mutating call
// (scripts/test and CI do); otherwise a sample covers the first calls, the
// last ones and a spread in between.
func crashMatrixMode() string {
	if os.Getenv("PROVISION_CRASH_MATRIX") == "full" {
		return "full"
	}
	return "sample"
}

var executors = map[string]string{
	"docker-autoscaler": baseConfig,
	"docker+machine":    baseConfig + "runners:\n  executor: docker+machine\n",
	// Every optional part: interface endpoints, the cache bucket, Spot
	// through a mixed-instances policy, a schedule and metrics.
	"docker-autoscaler-options": optionsConfig,
	// Three fleets: x86 on demand, Arm on Spot, docker+machine.
	"fleets": baseConfig + threeFleets,
}

// optionsConfig turns on every optional part of a docker-autoscaler stack.
var optionsConfig = strings.Replace(baseConfig, "network:\n", "network:\n  endpoints: [ssm]\n", 1) + `cache: {s3: true}
runners:
  spot: true
  instance_types: [t3a.medium]
  on_demand_percentage: 20
  schedule:
    - {periods: ["* 8-19 * * mon-fri"], idle_count: 1, idle_time: 20m}
manager:
  metrics_cidrs: [198.51.100.0/24]
`

// crashPoints returns the k to test out of n mutating calls.
// PROVISION_CRASH_POINTS (say "4,7") picks them instead, to go back to a
// crash point that failed.
func crashPoints(n int) []int {
	if only := os.Getenv("PROVISION_CRASH_POINTS"); only != "" {
		var ks []int
		for _, f := range strings.Split(only, ",") {
			if k, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && k >= 1 && k <= n {
				ks = append(ks, k)
			}
		}
		return ks
	}
	if crashMatrixMode() == "full" {
		ks := make([]int, n)
		for i := range ks {
			ks[i] = i + 1
		}
		return ks
	}
	seen := map[int]bool{}
	var ks []int
	for _, k := range []int{1, 2, 3, n / 4, n / 3, n / 2, 2 * n / 3, 3 * n / 4, n - 2, n - 1, n} {
		if k >= 1 && k <= n && !seen[k] {
			seen[k] = true
			ks = append(ks, k)
		}
	}
	sort.Ints(ks)
	return ks
}

// inventory counts the stack's live EC2 resources by kind and step.
func (h *harness) inventory(stackName string) map[string]int {
	inv := map[string]int{}
	for _, r := range h.taggedWithStep(stackName) {
		inv[r]++
	}
	return inv
}

// baseline builds the stack once without faults and returns its inventory
// and the mutating calls of a fresh up and of a down.
func baseline(t *testing.T, config string) (inv map[string]int, up, down []string) {
	// A subtest of its own, so its emulator goes back to the pool before
	// the crash points (which run in parallel) need it.
	t.Run("baseline", func(t *testing.T) {
		h := newHarness(t)
		h.writeConfig(config)
		up = h.countMutating(func() { h.mustRun(0, "up", "--auto-approve") })
		inv = h.inventory("net")
		down = h.countMutating(func() { h.mustRun(0, "down", "--auto-approve") })
	})
	return inv, up, down
}

// Kill provision right after its k-th mutating call of `up` took effect
// (before it hears the answer), run `up` again: the environment is
// complete, every resource exists once, and plan agrees with AWS.
func TestCrashMatrixUp(t *testing.T) {
	t.Parallel()
	for _, executor := range []string{"docker-autoscaler", "docker+machine", "docker-autoscaler-options", "fleets"} {
		t.Run(executor, func(t *testing.T) {
			config := executors[executor]
			want, upCalls, _ := baseline(t, config)
			t.Logf("%s: a fresh up makes %d mutating calls; testing %s", executor, len(upCalls), crashMatrixMode())
			for _, k := range crashPoints(len(upCalls)) {
				t.Run(fmt.Sprintf("k=%02d", k), func(t *testing.T) {
					t.Parallel()
					h := newHarness(t)
					defer logCrashPoint(t, h, "up", executor, k, len(upCalls))
					h.writeConfig(config)
					h.killAfter(k)
					if r := h.run("up", "--auto-approve"); r.code == 0 {
						t.Fatalf("provision was not killed after call %d:\n%s", k, r)
					}
					h.killAfter(0)
					h.mustRun(0, "up", "--auto-approve")
					if got := h.inventory("net"); fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("after resuming, the stack differs from a clean build:\n%s", inventoryDiff(got, want))
					}
					h.mustRun(0, "plan", "--detailed-exitcode")
					h.mustRun(0, "down", "--auto-approve")
					if left := h.tagged("net"); len(left) > 0 {
						t.Fatalf("down left: %v", left)
					}
				})
			}
		})
	}
}

// Kill provision after its k-th mutating call of `down`, run `down` again:
// nothing is left and the state file is gone.
func TestCrashMatrixDown(t *testing.T) {
	t.Parallel()
	for _, executor := range []string{"docker-autoscaler", "docker+machine", "docker-autoscaler-options", "fleets"} {
		t.Run(executor, func(t *testing.T) {
			config := executors[executor]
			_, _, downCalls := baseline(t, config)
			t.Logf("%s: down makes %d mutating calls; testing %s", executor, len(downCalls), crashMatrixMode())
			for _, k := range crashPoints(len(downCalls)) {
				t.Run(fmt.Sprintf("k=%02d", k), func(t *testing.T) {
					t.Parallel()
					h := newHarness(t)
					defer logCrashPoint(t, h, "down", executor, k, len(downCalls))
					h.writeConfig(config)
					h.mustRun(0, "up", "--auto-approve")
					h.killAfter(k)
					if r := h.run("down", "--auto-approve"); r.code == 0 {
						t.Fatalf("provision was not killed after call %d:\n%s", k, r)
					}
					h.killAfter(0)
					h.mustRun(0, "down", "--auto-approve")
					if left := h.tagged("net"); len(left) > 0 {
						t.Fatalf("the second down left: %v", left)
					}
					if _, err := os.Stat(h.statePath("net")); !os.IsNotExist(err) {
						t.Fatalf("state file survives: %v", err)
					}
					wantGitLabRules(t, h, []string{"tcp 22-22 198.51.100.8/32 admin ssh", "tcp 443-443 198.51.100.7/32 office"})
				})
			}
		})
	}
}

// logCrashPoint prints the line scripts/crash-matrix shows for one point;
// deferred, it runs after the point passed or failed (also by Fatal).
func logCrashPoint(t *testing.T, h *harness, command, executor string, k, n int) {
	status := "ok"
	if t.Failed() {
		status = "FAILED"
	}
	h.mu.Lock()
	action := h.killedAfter
	h.mu.Unlock()
	t.Logf("crash-matrix %s %s k=%02d/%d killed after %-36s %s", command, executor, k, n, action, status)
}

func inventoryDiff(got, want map[string]int) string {
	var lines []string
	for k, w := range want {
		if got[k] != w {
			lines = append(lines, fmt.Sprintf("  %s: %d, want %d", k, got[k], w))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			lines = append(lines, fmt.Sprintf("  %s: %d, want 0", k, g))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
