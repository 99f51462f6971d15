package ops

import (
	"slices"
	"strings"
	"testing"

	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
	"github.com/provision-dev/provision/pkg/provision/stack/stacktest"
)

// The step diagram has every step once and an arrow per dependency, in dot and in Mermaid.
func TestStepDiagramDrawsTheGraph(t *testing.T) {
	e, _ := stacktest.NewEnv(t, nil)
	g, err := stack.Steps(e)
	if err != nil {
		t.Fatal(err)
	}
	d := StepDiagram("steps of ci", g)
	if len(d.Nodes) != g.Len() {
		t.Errorf("%d nodes for %d steps", len(d.Nodes), g.Len())
	}
	edges := 0
	for _, s := range g.Order(false) {
		edges += len(s.DependsOn())
		for _, dep := range s.DependsOn() {
			if !slices.Contains(d.Edges, DiagramEdge{From: string(s.ID()), To: string(dep)}) {
				t.Errorf("no arrow %s -> %s", s.ID(), dep)
			}
		}
	}
	if edges == 0 || len(d.Edges) != edges {
		t.Errorf("%d arrows for %d dependencies", len(d.Edges), edges)
	}
	dot, mermaid := d.Dot(), d.Mermaid()
	for _, want := range []string{"digraph \"steps of ci\" {\n", "  \"instance/manager\" [label=\"instance/manager\"];\n", "  \"instance/manager\" -> \"sg/manager\";\n"} {
		if !strings.Contains(dot, want) {
			t.Errorf("dot lacks %q", want)
		}
	}
	for _, want := range []string{"---\ntitle: steps of ci\n---\nflowchart LR\n", "  instance_manager[\"instance/manager\"]\n", "  instance_manager --> sg_manager\n"} {
		if !strings.Contains(mermaid, want) {
			t.Errorf("mermaid lacks %q", want)
		}
	}
}

// The network diagram shows state ids, the executor's ports, dashed answers, and SSH sources only if any.
func TestNetworkDiagram(t *testing.T) {
	cfg := config.Defaults()
	cfg.Stack, cfg.GitLab.URL, cfg.GitLab.SecurityGroupID = "ci", "https://gitlab.example.com", "sg-gitlab"
	cfg.GitLab.SSHSourceCIDRs = []string{"203.0.113.10/32"}
	cfg.Runners.Executor = config.ExecutorDockerMachine
	d := NetworkDiagram(&cfg, map[string]string{string(stack.StepNATAddress): "eipalloc-1", string(stack.StepManager): "i-1"})
	dot := d.Dot()
	for _, want := range []string{
		"subgraph \"cluster_public\" {\n    label=\"public subnet " + cfg.Network.PublicSubnetCIDR + " (nacl/public)\";\n",
		"    \"manager\" [label=\"manager (sg/manager)\\ni-1\"];\n",
		"  \"eip_nat\" [label=\"Elastic IP (NAT)\\neipalloc-1\"];\n",
		"  \"eip_manager\" [label=\"Elastic IP (manager)\"];\n",
		"  \"gitlab\" [label=\"GitLab\\nhttps://gitlab.example.com\"];\n",
		"  \"manager\" -> \"machines\" [label=\"tcp 22, 2376\"];\n",
		"  \"gitlab\" -> \"igw\" [label=\"answers to ports 1024-65535, ICMP 3/4\", style=dashed];\n",
		"  \"eip_manager\" -> \"igw\";\n",
		"  \"ssh\" -> \"manager\" [label=\"tcp 22\"];\n",
	} {
		if !strings.Contains(dot, want) {
			t.Errorf("dot lacks %q:\n%s", want, dot)
		}
	}
	mermaid := d.Mermaid()
	for _, want := range []string{
		"  subgraph public[\"public subnet " + cfg.Network.PublicSubnetCIDR + " (nacl/public)\"]\n    manager[\"manager (sg/manager)<br/>i-1\"]\n",
		"  gitlab -.->|\"answers to ports 1024-65535, ICMP 3/4\"| igw\n",
		"  eip_nat --> igw\n",
		"  ssh -->|\"tcp 22\"| manager\n",
	} {
		if !strings.Contains(mermaid, want) {
			t.Errorf("mermaid lacks %q:\n%s", want, mermaid)
		}
	}

	cfg.GitLab.SSHSourceCIDRs, cfg.Runners.Executor = nil, config.ExecutorDockerAutoscaler
	d = NetworkDiagram(&cfg, nil)
	if dot := d.Dot(); strings.Contains(dot, "\"ssh\"") || !strings.Contains(dot, "[label=\"tcp 22\"]") || strings.Contains(dot, "2376") {
		t.Errorf("no SSH sources, docker-autoscaler:\n%s", dot)
	}
}

// A quote in a label is escaped for dot and replaced for Mermaid, so labels stay inside their quotes.
func TestDiagramLabelsAreQuoted(t *testing.T) {
	d := Diagram{Title: "t", Nodes: []DiagramNode{{ID: "a.b-c", Label: `say "hi"`}}}
	if dot := d.Dot(); !strings.Contains(dot, `"a.b-c" [label="say \"hi\""];`) {
		t.Errorf("dot: %s", dot)
	}
	if m := d.Mermaid(); !strings.Contains(m, `  a_b_c["say 'hi'"]`) {
		t.Errorf("mermaid: %s", m)
	}
}
