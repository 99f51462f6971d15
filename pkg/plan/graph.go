package plan

import (
	"fmt"
	"sort"
	"strings"
)

// Graph is a set of steps with their dependencies, validated: every
// dependency exists and there is no cycle.
type Graph struct {
	steps []Step // in the order given, which breaks ties in Order
	byID  map[ID]Step
	index map[ID]int
}

// NewGraph checks the steps and their dependencies.
func NewGraph(steps ...Step) (*Graph, error) {
	g := &Graph{byID: map[ID]Step{}, index: map[ID]int{}}
	for i, s := range steps {
		if _, dup := g.byID[s.ID()]; dup {
			return nil, fmt.Errorf("step %q is defined twice", s.ID())
		}
		g.byID[s.ID()] = s
		g.index[s.ID()] = i
		g.steps = append(g.steps, s)
	}
	for _, s := range steps {
		for _, d := range s.DependsOn() {
			if _, ok := g.byID[d]; !ok {
				return nil, fmt.Errorf("step %q depends on unknown step %q", s.ID(), d)
			}
		}
	}
	if _, err := g.order(false); err != nil {
		return nil, err
	}
	return g, nil
}

// Has reports whether the graph holds a step.
func (g *Graph) Has(id ID) bool {
	_, ok := g.byID[id]
	return ok
}

// Len is the number of steps.
func (g *Graph) Len() int { return len(g.steps) }

// Order returns the steps so that each comes after everything it depends on
// (reverse: before), ties broken by the order they were given in.
func (g *Graph) Order(reverse bool) []Step {
	o, _ := g.order(reverse)
	return o
}

// edges returns, for each step, the steps that must finish before it.
func (g *Graph) edges(reverse bool) map[ID][]ID {
	e := map[ID][]ID{}
	for _, s := range g.steps {
		for _, d := range s.DependsOn() {
			if reverse {
				e[d] = append(e[d], s.ID())
			} else {
				e[s.ID()] = append(e[s.ID()], d)
			}
		}
	}
	return e
}

// order is Kahn's algorithm with a stable tie-break.
func (g *Graph) order(reverse bool) ([]Step, error) {
	before := g.edges(reverse)
	waiting := map[ID]int{}
	after := map[ID][]ID{}
	for _, s := range g.steps {
		waiting[s.ID()] = len(before[s.ID()])
		for _, b := range before[s.ID()] {
			after[b] = append(after[b], s.ID())
		}
	}
	var ready, out []ID
	for _, s := range g.steps {
		if waiting[s.ID()] == 0 {
			ready = append(ready, s.ID())
		}
	}
	for len(ready) > 0 {
		sort.Slice(ready, func(i, j int) bool { return g.index[ready[i]] < g.index[ready[j]] })
		id := ready[0]
		ready = ready[1:]
		out = append(out, id)
		for _, a := range after[id] {
			waiting[a]--
			if waiting[a] == 0 {
				ready = append(ready, a)
			}
		}
	}
	if len(out) != len(g.steps) {
		var stuck []string
		for _, s := range g.steps {
			if waiting[s.ID()] > 0 {
				stuck = append(stuck, string(s.ID()))
			}
		}
		return nil, fmt.Errorf("dependency cycle among steps: %s", strings.Join(stuck, ", "))
	}
	steps := make([]Step, len(out))
	for i, id := range out {
		steps[i] = g.byID[id]
	}
	return steps, nil
}
