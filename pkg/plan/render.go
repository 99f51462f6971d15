package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
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

// RenderText writes a plan the way operators know from Terraform: one line
// per step with its symbol, kind, name and key attributes, reasons for
// updates indented below, and a summary line. Unchanged steps are listed
// only when showUnchanged is set.
func RenderText(w io.Writer, h Header, changes []Change, showUnchanged bool) error {
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
		line := fmt.Sprintf("  %*s %-*s  %-*s", symWidth, c.Action.Symbol(), width, c.Step, nameWidth, displayName(c))
		for _, a := range c.Attrs {
			if a.Value != "" { // not known in this walk (e.g. the AMI of a teardown)
				line += fmt.Sprintf("  %s=%s", a.Key, a.Value)
			}
		}
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
		for _, r := range c.Reasons {
			fmt.Fprintf(&b, "    %s %s %s\n", strings.Repeat(" ", symWidth), strings.Repeat(" ", width), r)
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
		Changes:       []JSONChange{},
		Summary:       Summarize(changes),
	}
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
		doc.Changes = append(doc.Changes, jc)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
