package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision"
	"github.com/provision-dev/provision/pkg/provision/awstest"
	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/state"
)

// TestBenchmark measures fresh up, no-op up, down and a sequential up
// under a model of AWS's latencies (awstest.AWSLatencies), and compares
// each with its floor: the time spent outside the walk, plus the critical
// path through the walk's graph when every step costs only its own calls
// and the waits AWS imposes (a poll that found the resource not ready and
// a launch EC2 refused are not counted). It runs only from scripts/bench
// (PROVISION_BENCH=1): timings are not assertions.
func TestBenchmark(t *testing.T) {
	if os.Getenv("PROVISION_BENCH") == "" {
		t.Skip("run scripts/bench")
	}
	rounds := 1
	if n, err := strconv.Atoi(os.Getenv("PROVISION_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	if info, err := os.Stat(binary); err == nil {
		t.Logf("bench binary: %.1f MiB", float64(info.Size())/(1<<20))
	}
	type scenario struct {
		name string
		walk string // whose calls make the walk's graph
		args []string
	}
	measure := func(t *testing.T, h *harness, s scenario) (time.Duration, []awstest.Call) {
		model := awstest.NewLatencyModel(awstest.AWSLatencies)
		h.proxy.Reset()
		h.proxy.SetFault(model.Fault())
		h.proxy.SetRewrite(model.Rewrite())
		start := time.Now()
		r := h.mustRun(0, s.args...)
		end := time.Now()
		parallel := !strings.Contains(s.name, "sequential")
		floor, path := h.floor(s.walk, parallel, h.proxy.Calls(), model.Waits(), start, end)
		wall := end.Sub(start)
		t.Logf("bench %-15s wall %5.1fs  floor %5.1fs  ratio %.3f  calls %3d (%d mutating)  peak RSS %3.0f MiB",
			s.name, wall.Seconds(), floor.Seconds(), wall.Seconds()/floor.Seconds(), len(h.proxy.Calls()), len(h.proxy.Mutating()), float64(r.maxRSS)/1024)
		if parallel && len(path) > 0 {
			t.Logf("bench %-15s critical path: %s", s.name, path)
		}
		t.Logf("bench %-15s calls by action: %s", s.name, byAction(h.proxy.Calls()))
		return wall, h.proxy.Calls()
	}
	for i := 0; i < rounds; i++ {
		t.Run(fmt.Sprintf("round=%d", i), func(t *testing.T) {
			h := newHarness(t)
			h.writeConfig(baseConfig)
			for _, s := range []scenario{
				{"fresh up", "apply", []string{"up", "--auto-approve", "--no-wait"}},
				{"no-op up", "plan", []string{"up", "--auto-approve", "--no-wait"}},
				{"no-op plan", "plan", []string{"plan"}},
				{"down", "delete", []string{"down", "--auto-approve", "--keep-runner"}},
				{"sequential up", "apply", []string{"up", "--auto-approve", "--no-wait", "--parallelism", "1"}},
			} {
				measure(t, h, s)
			}
			// Tuning: a new version of ssm/runner-config, which the manager
			// applies at its next look (every ConfigPollSeconds) and
			// gitlab-runner reloads (it checks config.toml every 3 s).
			h.writeConfig(baseConfig + "runners:\n  max_instances: 20\n  idle_count: 2\n")
			wall, calls := measure(t, h, scenario{"tuning up", "apply", []string{"up", "--auto-approve", "--no-wait"}})
			replaced := 0
			for _, c := range calls {
				if c.Action == "RunInstances" || c.Action == "TerminateInstances" {
					replaced++
				}
			}
			const reload = 3 * time.Second
			applied := wall + bootstrap.ConfigPollSeconds*time.Second + reload
			t.Logf("bench tuning applied within %.1fs modelled (up %.1fs + the manager's look every %ds + gitlab-runner's reload %s); instance launches and terminations: %d",
				applied.Seconds(), wall.Seconds(), bootstrap.ConfigPollSeconds, reload, replaced)
			h.mustRun(0, "down", "--auto-approve", "--keep-runner")

			// Three zones, a NAT gateway in each: the gateways wait for
			// AWS side by side.
			z := newHarness(t)
			z.writeConfig(zonesConfig)
			measure(t, z, scenario{"3-zone up", "apply", []string{"up", "--auto-approve", "--no-wait"}})
			measure(t, z, scenario{"3-zone down", "delete", []string{"down", "--auto-approve", "--keep-runner"}})
		})
	}
}

// floor is the shortest time the run could have taken: what it spent
// before the walk's first call and after its last, plus the walk's
// critical path (or, for a sequential walk, the sum of its steps).
func (h *harness) floor(walk string, parallel bool, calls []awstest.Call, waits map[string]time.Duration, start, end time.Time) (time.Duration, string) {
	h.t.Helper()
	prefix := walk + "="
	cost := map[plan.ID]time.Duration{}
	began, ended := map[plan.ID]time.Time{}, map[plan.ID]time.Time{}
	var first, last time.Time
	for _, c := range calls {
		step, ok := strings.CutPrefix(c.Step, prefix)
		if !ok {
			continue
		}
		if first.IsZero() || c.Start.Before(first) {
			first = c.Start
		}
		if e := c.Start.Add(c.Took); e.After(last) {
			last = e
		}
		if c.Status != -1 && !c.NotReady {
			cost[plan.ID(step)] += c.Took
		}
		if b, ok := began[plan.ID(step)]; !ok || c.Start.Before(b) {
			began[plan.ID(step)] = c.Start
		}
		if e := c.Start.Add(c.Took); e.After(ended[plan.ID(step)]) {
			ended[plan.ID(step)] = e
		}
	}
	if first.IsZero() {
		return end.Sub(start), ""
	}
	for key, d := range waits {
		if step, ok := strings.CutPrefix(key, prefix); ok {
			cost[plan.ID(step)] += d
		}
	}
	destroy := walk == "delete" || walk == "plan-delete"
	cfg, err := config.LoadConfig(filepath.Join(h.dir, "provision.yaml"), "")
	if err != nil {
		h.t.Fatal(err)
	}
	g, err := provision.AWSStack{Cfg: cfg, AWS: aws.Config{Region: region}}.Steps(state.NewLedger(state.New(cfg.Stack, region), nil), stack.EnvOptions{Teardown: destroy})
	if err != nil {
		h.t.Fatal(err)
	}
	// needs[s]: what must finish before s in this walk.
	needs := map[plan.ID][]plan.ID{}
	for _, s := range g.Order(false) {
		for _, d := range s.DependsOn() {
			if destroy {
				needs[d] = append(needs[d], s.ID())
			} else {
				needs[s.ID()] = append(needs[s.ID()], d)
			}
		}
	}
	var path time.Duration
	var tail plan.ID
	finish := map[plan.ID]time.Duration{}
	via := map[plan.ID]plan.ID{} // the input that finished last
	for _, s := range g.Order(destroy) {
		ready := time.Duration(0)
		for _, d := range needs[s.ID()] {
			if finish[d] >= ready {
				ready, via[s.ID()] = finish[d], d
			}
		}
		finish[s.ID()] = ready + cost[s.ID()]
		if finish[s.ID()] > path {
			path, tail = finish[s.ID()], s.ID()
		}
	}
	var chain []string
	for id := tail; id != ""; id = via[id] {
		// A step's floor, and in brackets when its calls began and ended.
		span := "[no calls of its own]"
		if b, ok := began[id]; ok {
			span = fmt.Sprintf("[%.1f-%.1f]", b.Sub(start).Seconds(), ended[id].Sub(start).Seconds())
		}
		chain = append([]string{fmt.Sprintf("%s %.1fs %s", id, cost[id].Seconds(), span)}, chain...)
	}
	if !parallel {
		path = 0
		for _, c := range cost {
			path += c
		}
	}
	return first.Sub(start) + path + end.Sub(last), fmt.Sprintf("before %.1fs, %s, after %.1fs", first.Sub(start).Seconds(), strings.Join(chain, " > "), end.Sub(last).Seconds())
}

// byAction counts calls by action, most first: "DescribeNatGateways 17, ...".
func byAction(calls []awstest.Call) string {
	n := map[string]int{}
	for _, c := range calls {
		n[c.Action]++
	}
	actions := make([]string, 0, len(n))
	for a := range n {
		actions = append(actions, a)
	}
	sort.Slice(actions, func(i, j int) bool {
		if n[actions[i]] != n[actions[j]] {
			return n[actions[i]] > n[actions[j]]
		}
		return actions[i] < actions[j]
	})
	parts := make([]string, len(actions))
	for i, a := range actions {
		parts[i] = fmt.Sprintf("%s %d", strings.TrimPrefix(a, "AmazonSSM."), n[a])
	}
	return strings.Join(parts, ", ")
}
