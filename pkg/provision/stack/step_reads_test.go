package stack_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/provision/stack/stacktest"
)

// Steps read each other's results through Env.IDOf and Env.AttrOf. Every
// such read must be of a step the reader depends on (directly or not):
// otherwise the reader may run before what it reads exists, and plan
// "(known after apply)" or fail now and then. The walks run one step at a
// time, so each read belongs to the step that started last.
func TestStepsReadOnlyWhatTheyDependOn(t *testing.T) {
	for name, change := range executorVariants {
		t.Run(name, func(t *testing.T) {
			e, c := stacktest.NewEnv(t, change)
			stacktest.AnswerCreations(c)
			var deps map[plan.ID]map[plan.ID]bool
			teardown := false
			var mu sync.Mutex
			current := plan.ID("")
			e.OnRead = func(step plan.ID) {
				mu.Lock()
				defer mu.Unlock()
				if current != "" && step != current && !deps[current][step] && !(teardown && teardownReads[current][step]) {
					t.Errorf("%s reads the record of %s but does not depend on it", current, step)
				}
			}
			observe := func(ev plan.Event) {
				if ev.Phase == plan.PhaseStarted {
					mu.Lock()
					current = ev.Change.Step
					mu.Unlock()
				}
			}
			for _, destroy := range []bool{false, true} {
				for _, apply := range []bool{true, false} {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					x := &plan.Executor{Parallelism: 1, Apply: apply, Destroy: destroy, StepTimeout: 5 * time.Second,
						RetryDelay: func(int) time.Duration { return time.Millisecond }, Observe: observe}
					e.Teardown = destroy
					g, err := stack.Steps(e)
					if err != nil {
						t.Fatal(err)
					}
					mu.Lock()
					deps, teardown = closure(g), destroy
					mu.Unlock()
					if r := x.Run(ctx, g); r.Err() != nil {
						t.Fatalf("walk (apply %v, destroy %v): %v", apply, destroy, r.Err())
					}
					cancel()
				}
			}
		})
	}
}

// teardownReads are reads a teardown makes of steps it does not wait
// for, where a record already forgotten changes nothing.
var teardownReads = map[plan.ID]map[plan.ID]bool{
	// The manager's group only puts the current generation's group first;
	// every group of the stack is deleted either way.
	"asg/runner": {"instance/manager": true},
}

// closure maps each step to every step it depends on, directly or not.
func closure(g *plan.Graph) map[plan.ID]map[plan.ID]bool {
	direct := map[plan.ID][]plan.ID{}
	for _, s := range g.Order(false) {
		direct[s.ID()] = s.DependsOn()
	}
	out := map[plan.ID]map[plan.ID]bool{}
	var visit func(root, id plan.ID)
	visit = func(root, id plan.ID) {
		for _, d := range direct[id] {
			if !out[root][d] {
				out[root][d] = true
				visit(root, d)
			}
		}
	}
	for id := range direct {
		out[id] = map[plan.ID]bool{}
		visit(id, id)
	}
	return out
}
