package command

import (
	"context"
	"strings"
	"testing"
)

// The steps view draws each step and an arrow to what it needs, in dot or in mermaid.
func TestGraphSteps(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	code, err := Graph(ctx, ct.options(false, ""), GraphOptions{Format: "dot", View: "steps"})
	ct.want("graph dot", code, 0, err, `digraph "steps of stack unit`, `"a" [label="a"]`, `"b" -> "a"`)
	code, err = Graph(ctx, ct.options(false, ""), GraphOptions{Format: "mermaid", View: "steps"})
	ct.want("graph mermaid", code, 0, err, "flowchart LR", "b --> a")
	if strings.Contains(ct.out.String(), "digraph") {
		t.Errorf("mermaid output is dot:\n%s", ct.out.String())
	}
}

// The network view shows the ids a local state records.
func TestGraphNetworkShowsIDs(t *testing.T) {
	ct := newCommandTest(t)
	ct.withOutputs()
	code, err := Graph(context.Background(), ct.options(false, ""), GraphOptions{Format: "dot", View: "network"})
	ct.want("graph network", code, 0, err, `digraph "stack unit"`, `Elastic IP (manager)\neipalloc-1`)
}

// An unknown --format or --view is refused, naming the valid ones, and prints nothing.
func TestGraphBadFlags(t *testing.T) {
	ct := newCommandTest(t)
	ctx := context.Background()
	code, err := Graph(ctx, ct.options(false, ""), GraphOptions{Format: "svg", View: "steps"})
	ct.want("graph --format svg", code, 1, err, `--format "svg": use dot or mermaid`)
	code, err = Graph(ctx, ct.options(false, ""), GraphOptions{Format: "dot", View: "world"})
	ct.want("graph --view world", code, 1, err, `--view "world": use network or steps`)
	if ct.out.Len() != 0 {
		t.Errorf("a refused graph printed %q", ct.out.String())
	}
}
