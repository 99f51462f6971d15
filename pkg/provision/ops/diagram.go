package ops

import (
	"fmt"
	"slices"
	"strings"

	"github.com/provision-dev/provision/pkg/plan"
	"github.com/provision-dev/provision/pkg/provision/config"
	"github.com/provision-dev/provision/pkg/provision/stack"
)

// Diagram is a picture for `provision graph`: boxes in groups, and arrows
// with labels. It renders as Graphviz dot or as Mermaid.
type Diagram struct {
	Title  string
	Groups []DiagramGroup
	Nodes  []DiagramNode // outside any group
	Edges  []DiagramEdge
}

// DiagramGroup is a box around nodes (a subnet, the VPC).
type DiagramGroup struct {
	ID, Label string
	Nodes     []DiagramNode
}

// DiagramNode is one thing in the picture.
type DiagramNode struct{ ID, Label string }

// DiagramEdge is an arrow; Dashed for what answers (return traffic).
type DiagramEdge struct {
	From, To, Label string
	Dashed          bool
}

// NetworkDiagram draws the network the configuration builds and the
// traffic that crosses it: subnets, gateways, the two Elastic IPs,
// GitLab's group, the ports between them. Ids and addresses from the
// state are shown when there is one.
func NetworkDiagram(cfg *config.Config, doc map[string]string) Diagram {
	n := cfg.Network
	id := func(step plan.ID, label string) string {
		if v := doc[string(step)]; v != "" {
			return label + "\\n" + v
		}
		return label
	}
	machinePorts := "22"
	if cfg.Machines() {
		machinePorts = "22, 2376"
	}
	var executors []string
	for _, f := range cfg.FleetList() {
		if !slices.Contains(executors, f.Executor) {
			executors = append(executors, f.Executor)
		}
	}
	gitlab := "GitLab"
	if cfg.GitLab.URL != "" {
		gitlab += "\\n" + cfg.GitLab.URL
	}
	d := Diagram{
		Title: "stack " + cfg.Stack,
		Groups: []DiagramGroup{
			{ID: "public", Label: "public subnet " + n.PublicSubnetCIDR + " (nacl/public)", Nodes: []DiagramNode{
				{ID: "manager", Label: id(stack.StepManager, "manager (sg/manager)")},
				{ID: "nat", Label: id(stack.StepNAT, "NAT gateway")},
			}},
			{ID: "private", Label: "private subnet " + n.PrivateSubnetCIDR + " (nacl/private)", Nodes: []DiagramNode{
				{ID: "machines", Label: "runner machines (sg/runner)\\n" + strings.Join(executors, ", ")},
			}},
		},
		Nodes: []DiagramNode{
			{ID: "igw", Label: id(stack.StepIGW, "internet gateway")},
			{ID: "eip_manager", Label: id(stack.StepManagerAddress, "Elastic IP (manager)")},
			{ID: "eip_nat", Label: id(stack.StepNATAddress, "Elastic IP (NAT)")},
			{ID: "gitlab", Label: gitlab},
			{ID: "gitlab_sg", Label: "GitLab's group " + cfg.GitLab.SecurityGroupID + "\\nadmits both addresses on 443"},
		},
		Edges: []DiagramEdge{
			{From: "manager", To: "eip_manager", Label: "443 to GitLab"},
			{From: "eip_manager", To: "igw", Label: ""},
			{From: "machines", To: "nat", Label: "443 to GitLab, packages"},
			{From: "nat", To: "eip_nat", Label: ""},
			{From: "eip_nat", To: "igw", Label: ""},
			{From: "igw", To: "gitlab_sg", Label: "tcp 443"},
			{From: "gitlab_sg", To: "gitlab", Label: ""},
			{From: "manager", To: "machines", Label: "tcp " + machinePorts},
			{From: "gitlab", To: "igw", Label: "answers to ports 1024-65535, ICMP 3/4", Dashed: true},
		},
	}
	if len(cfg.GitLab.SSHSourceCIDRs) > 0 {
		d.Nodes = append(d.Nodes, DiagramNode{ID: "ssh", Label: "SSH sources\\n" + strings.Join(cfg.GitLab.SSHSourceCIDRs, ", ")})
		d.Edges = append(d.Edges, DiagramEdge{From: "ssh", To: "manager", Label: "tcp 22"})
	}
	return d
}

// StepDiagram draws the step dependency graph: an arrow from each step to
// what it needs.
func StepDiagram(title string, g *plan.Graph) Diagram {
	d := Diagram{Title: title}
	for _, s := range g.Order(false) {
		d.Nodes = append(d.Nodes, DiagramNode{ID: string(s.ID()), Label: string(s.ID())})
		for _, dep := range s.DependsOn() {
			d.Edges = append(d.Edges, DiagramEdge{From: string(s.ID()), To: string(dep)})
		}
	}
	return d
}

// Dot renders the diagram for Graphviz.
func (d Diagram) Dot() string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %q {\n  label=%q;\n  rankdir=LR;\n  node [shape=box];\n", d.Title, d.Title)
	for _, g := range d.Groups {
		fmt.Fprintf(&b, "  subgraph \"cluster_%s\" {\n    label=%q;\n", g.ID, g.Label)
		for _, n := range g.Nodes {
			fmt.Fprintf(&b, "    %q [label=\"%s\"];\n", n.ID, escapeDot(n.Label))
		}
		b.WriteString("  }\n")
	}
	for _, n := range d.Nodes {
		fmt.Fprintf(&b, "  %q [label=\"%s\"];\n", n.ID, escapeDot(n.Label))
	}
	for _, e := range d.Edges {
		attrs := []string{}
		if e.Label != "" {
			attrs = append(attrs, fmt.Sprintf("label=%q", e.Label))
		}
		if e.Dashed {
			attrs = append(attrs, "style=dashed")
		}
		fmt.Fprintf(&b, "  %q -> %q", e.From, e.To)
		if len(attrs) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(attrs, ", "))
		}
		b.WriteString(";\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// Mermaid renders the diagram as a Mermaid flowchart.
func (d Diagram) Mermaid() string {
	var b strings.Builder
	fmt.Fprintf(&b, "---\ntitle: %s\n---\nflowchart LR\n", d.Title)
	node := func(n DiagramNode, indent string) {
		fmt.Fprintf(&b, "%s%s[\"%s\"]\n", indent, mermaidID(n.ID), strings.ReplaceAll(strings.ReplaceAll(n.Label, `"`, "'"), "\\n", "<br/>"))
	}
	for _, g := range d.Groups {
		fmt.Fprintf(&b, "  subgraph %s[\"%s\"]\n", mermaidID(g.ID), g.Label)
		for _, n := range g.Nodes {
			node(n, "    ")
		}
		b.WriteString("  end\n")
	}
	for _, n := range d.Nodes {
		node(n, "  ")
	}
	for _, e := range d.Edges {
		arrow := "-->"
		if e.Dashed {
			arrow = "-.->"
		}
		if e.Label != "" {
			fmt.Fprintf(&b, "  %s %s|\"%s\"| %s\n", mermaidID(e.From), arrow, e.Label, mermaidID(e.To))
		} else {
			fmt.Fprintf(&b, "  %s %s %s\n", mermaidID(e.From), arrow, mermaidID(e.To))
		}
	}
	return b.String()
}

// mermaidID makes a step id (subnet/public) a Mermaid node id.
func mermaidID(id string) string {
	return strings.NewReplacer("/", "_", "-", "_", ".", "_").Replace(id)
}

// escapeDot keeps the \n line breaks of a label and escapes quotes.
func escapeDot(s string) string { return strings.ReplaceAll(s, `"`, `\"`) }
