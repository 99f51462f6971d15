package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/provision-dev/provision/pkg/termtext"
)

// Summary counts the changes of a plan.
type Summary struct {
	Add     int `json:"add"`
	Change  int `json:"change"`
	Destroy int `json:"destroy"`
}

// Summarize counts changes by action.
func Summarize(changes []Change) Summary {
	var s Summary
	for _, c := range changes {
		switch c.Action {
		case Create:
			s.Add++
		case Update:
			s.Change++
		case Delete:
			s.Destroy++
		case Replace:
			// As Terraform counts it: one resource goes, a new one comes.
			s.Add++
			s.Destroy++
		}
	}
	return s
}

// HasChanges reports whether anything would be created, updated or deleted.
func (s Summary) HasChanges() bool { return s.Add+s.Change+s.Destroy > 0 }

// Header names what a plan is about.
type Header struct {
	Stack   string
	Region  string
	Destroy bool
}

// TextOptions say how a plan is written as text.
type TextOptions struct {
	// ShowUnchanged lists unchanged steps too.
	ShowUnchanged bool
	// Color colours the symbols (a terminal without NO_COLOR).
	Color bool
}

// symbolColors are the ANSI colours of the plan symbols, as Terraform
// uses them: green to add, yellow to change, red to destroy.
var symbolColors = map[Action]string{Create: "\x1b[32m", Update: "\x1b[33m", Delete: "\x1b[31m", Replace: "\x1b[35m"}

// RenderText writes a plan the way operators know from Terraform: one line
// per step with its symbol, kind, name and key attributes, reasons for
// updates indented below, and a summary line. Unchanged steps are listed
// only when showUnchanged is set.
func RenderText(w io.Writer, h Header, changes []Change, o TextOptions) error {
	showUnchanged := o.ShowUnchanged
	var b strings.Builder
	sum := Summarize(changes)
	if sum.HasChanges() {
		verb := "apply"
		if h.Destroy {
			verb = "destroy"
		}
		fmt.Fprintf(&b, "Changes to %s stack %q in %s:\n\n", verb, h.Stack, h.Region)
	}
	width, nameWidth, symWidth := 0, 0, 1
	for _, c := range changes {
		if c.Action != NoOp || showUnchanged {
			symWidth = max(symWidth, len(c.Action.Symbol()))
			width = max(width, len(c.Step))
			nameWidth = max(nameWidth, len(displayName(c)))
		}
	}
	for _, c := range changes {
		if c.Action == NoOp && !showUnchanged {
			continue
		}
		sym := fmt.Sprintf("%*s", symWidth, c.Action.Symbol())
		if o.Color && symbolColors[c.Action] != "" {
			sym = symbolColors[c.Action] + sym + "\x1b[0m"
		}
		// Names, ids, attribute values and reasons may quote what AWS or
		// the manager said (a tag value, a boot report): outside text.
		line := fmt.Sprintf("  %s %-*s  %-*s", sym, width, c.Step, nameWidth, termtext.Clean(displayName(c)))
		for _, a := range c.Attrs {
			if a.Value != "" { // not known in this walk (e.g. the AMI of a teardown)
				line += fmt.Sprintf("  %s=%s", a.Key, termtext.Clean(a.Value))
			}
		}
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
		for _, r := range c.Reasons {
			fmt.Fprintf(&b, "    %s %s %s\n", strings.Repeat(" ", symWidth), strings.Repeat(" ", width), termtext.Clean(r))
		}
	}
	if !sum.HasChanges() {
		if showUnchanged && len(changes) > 0 {
			b.WriteByte('\n')
		}
		if h.Destroy {
			b.WriteString("No changes. Nothing of this stack is left to destroy.\n")
		} else {
			b.WriteString("No changes. The environment matches the configuration.\n")
		}
	} else {
		fmt.Fprintf(&b, "\nPlan: %d to add, %d to change, %d to destroy.\n", sum.Add, sum.Change, sum.Destroy)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// displayName is the name, with the AWS id when one is known.
func displayName(c Change) string {
	if c.ID != "" && c.ID != c.Name {
		return c.Name + " (" + c.ID + ")"
	}
	return c.Name
}

// JSONFormatVersion is bumped when a field of the JSON plan changes meaning.
const JSONFormatVersion = 1

// JSONPlan is the document `plan --json` prints. Field names are stable.
type JSONPlan struct {
	FormatVersion int          `json:"format_version"`
	Stack         string       `json:"stack"`
	Region        string       `json:"region"`
	Destroy       bool         `json:"destroy"`
	Changes       []JSONChange `json:"changes"`
	Summary       Summary      `json:"summary"`
}

// JSONChange is one step of a JSON plan; unchanged steps are included with
// action "no-op".
type JSONChange struct {
	Step       string            `json:"step"`
	Kind       string            `json:"kind"`
	Action     string            `json:"action"`
	Name       string            `json:"name"`
	ID         string            `json:"id,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Reasons    []string          `json:"reasons,omitempty"`
}

// RenderJSON writes the plan as one JSON document.
func RenderJSON(w io.Writer, h Header, changes []Change) error {
	doc := JSONPlan{
		FormatVersion: JSONFormatVersion,
		Stack:         h.Stack,
		Region:        h.Region,
		Destroy:       h.Destroy,
		Changes:       JSONChanges(changes),
		Summary:       Summarize(changes),
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// JSONChanges turns changes into their JSON form (never nil).
func JSONChanges(changes []Change) []JSONChange {
	out := []JSONChange{}
	for _, c := range changes {
		jc := JSONChange{Step: string(c.Step), Kind: c.Kind, Action: c.Action.String(), Name: c.Name, ID: c.ID, Reasons: c.Reasons}
		if len(c.Attrs) > 0 {
			jc.Attributes = map[string]string{}
			for _, a := range c.Attrs {
				if a.Value != "" {
					jc.Attributes[a.Key] = a.Value
				}
			}
		}
		out = append(out, jc)
	}
	return out
}

// ParseAction reads an action as Action.String writes it (NoOp for
// anything else).
func ParseAction(s string) Action {
	for _, a := range []Action{Create, Update, Delete, Replace} {
		if a.String() == s {
			return a
		}
	}
	return NoOp
}

// ChangesFromJSON turns the JSON form back into changes, attributes in
// the order of their names.
func ChangesFromJSON(in []JSONChange) []Change {
	out := make([]Change, 0, len(in))
	for _, jc := range in {
		c := Change{Step: ID(jc.Step), Kind: jc.Kind, Action: ParseAction(jc.Action), Name: jc.Name, ID: jc.ID, Reasons: jc.Reasons}
		keys := make([]string, 0, len(jc.Attributes))
		for k := range jc.Attributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			c.Attrs = append(c.Attrs, Attr{Key: k, Value: jc.Attributes[k]})
		}
		out = append(out, c)
	}
	return out
}

// GitLabReport is the plan's counts in the form GitLab's
// artifacts:reports:terraform reads, which the merge request widget
// shows: {"create": N, "update": N, "delete": N}. A replacement counts
// once as a create and once as a delete, as Terraform's actions do.
type GitLabReport struct {
	Create int `json:"create"`
	Update int `json:"update"`
	Delete int `json:"delete"`
}

// GitLabReportOf counts a plan's changes for GitLab.
func GitLabReportOf(changes []Change) GitLabReport {
	s := Summarize(changes)
	return GitLabReport{Create: s.Add, Update: s.Change, Delete: s.Destroy}
}
