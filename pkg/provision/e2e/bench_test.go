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
	if info, err := os.Stat(binary); err == nil {
		t.Logf("bench binary: %.1f MiB", float64(info.Size())/(1<<20))
	}
	for _, p := range []int{1, 8} {
		var upTotal, noopTotal, downTotal time.Duration
		var calls, noopCalls, downCalls int
		var peakRSS int64
		for i := 0; i < rounds; i++ {
			// A subtest per round: its emulator goes back to the pool.
			t.Run(fmt.Sprintf("p=%d/round=%d", p, i), func(t *testing.T) {
				h := newHarness(t)
				h.writeConfig(baseConfig)
				h.proxy.SetFault(awstest.Delay(latency))
				start := time.Now()
				r := h.mustRun(0, "up", "--auto-approve", "--no-wait", "--parallelism", strconv.Itoa(p))
				upTotal += time.Since(start)
				calls, peakRSS = len(h.proxy.Calls()), max(peakRSS, r.maxRSS)
				h.proxy.Reset()
				start = time.Now()
				r = h.mustRun(0, "up", "--auto-approve", "--no-wait", "--parallelism", strconv.Itoa(p))
				noopTotal += time.Since(start)
				noopCalls, peakRSS = len(h.proxy.Calls()), max(peakRSS, r.maxRSS)
				h.proxy.Reset()
				start = time.Now()
				r = h.mustRun(0, "down", "--auto-approve")
				downTotal += time.Since(start)
				downCalls, peakRSS = len(h.proxy.Calls()), max(peakRSS, r.maxRSS)
			})
		}
		avg := func(d time.Duration) float64 { return (d / time.Duration(rounds)).Seconds() }
		t.Logf("bench parallelism=%d latency=%s rounds=%d: up %.1fs (%d calls), no-op up %.1fs (%d calls), down %.1fs (%d calls), peak RSS %.0f MiB",
			p, latency, rounds, avg(upTotal), calls, avg(noopTotal), noopCalls, avg(downTotal), downCalls, float64(peakRSS)/1024)
	}
}
