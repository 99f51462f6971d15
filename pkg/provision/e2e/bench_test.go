package e2e

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/provision-dev/provision/pkg/provision/awstest"
)

// TestBenchmarkParallelism measures a fresh up and a down with AWS-like
// latency on every call, at --parallelism 1 and the default 8. It runs
// only from scripts/bench (PROVISION_BENCH=1): timings are not assertions.
func TestBenchmarkParallelism(t *testing.T) {
	if os.Getenv("PROVISION_BENCH") == "" {
		t.Skip("run scripts/bench")
	}
	latency := 100 * time.Millisecond
	if v, err := time.ParseDuration(os.Getenv("PROVISION_BENCH_LATENCY")); err == nil {
		latency = v
	}
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv("PROVISION_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	for _, p := range []int{1, 8} {
		var upTotal, downTotal time.Duration
		calls := 0
		for i := 0; i < rounds; i++ {
			// A subtest per round: its emulator goes back to the pool.
			t.Run(fmt.Sprintf("p=%d/round=%d", p, i), func(t *testing.T) {
				h := newHarness(t)
				h.writeConfig(baseConfig)
				h.proxy.SetFault(awstest.Delay(latency))
				start := time.Now()
				h.mustRun(0, "up", "--auto-approve", "--no-wait", "--parallelism", strconv.Itoa(p))
				upTotal += time.Since(start)
				calls = len(h.proxy.Calls())
				start = time.Now()
				h.mustRun(0, "down", "--auto-approve")
				downTotal += time.Since(start)
			})
		}
		t.Logf("bench parallelism=%d latency=%s rounds=%d: up %.1fs (%d calls), down %.1fs",
			p, latency, rounds, (upTotal / time.Duration(rounds)).Seconds(), calls, (downTotal / time.Duration(rounds)).Seconds())
	}
}
