package config

import (
	"fmt"
	"strings"

	"github.com/invopop/jsonschema"
)

// templateStack is the stack name `provision init` proposes.
const templateStack = "ci-runners"

// requiredForUpKeys are left empty in the template, for the user to fill.
var requiredForUpKeys = map[string]bool{"gitlab.url": true, "gitlab.security_group_id": true}

// ConfigTemplate is the commented configuration `provision init` writes:
// every key of the schema in its order, with what it is for and its
// default. Keys with a default are set to it; optional keys without one
// are commented out; the two keys `up` needs are empty, to fill in.
func ConfigTemplate() string {
	var b strings.Builder
	b.WriteString("# provision configuration: every key, its default and what it is for.\n")
	b.WriteString("# Fill in gitlab.url and gitlab.security_group_id, then run `provision validate`.\n")
	b.WriteString("# Editors can check this file with the schema `provision schema` prints (see docs/configuration.md).\n\n")
	writeTemplate(&b, ConfigSchema(), "", 0, false)
	return b.String()
}

// writeTemplate writes the keys of s. example: the block is written
// commented out as a whole, so its keys are shown set (to their default,
// or empty).
func writeTemplate(b *strings.Builder, s *jsonschema.Schema, path string, depth int, example bool) {
	indent := strings.Repeat("  ", depth)
	for pair := s.Properties.Oldest(); pair != nil; pair = pair.Next() {
		key, prop := pair.Key, pair.Value
		full := key
		if path != "" {
			full = path + "." + key
		}
		if depth == 0 && b.Len() > 0 && prop.Type == "object" && prop.Properties != nil {
			b.WriteByte('\n')
		}
		for _, line := range wrap(prop.Description, 96-len(indent)) {
			fmt.Fprintf(b, "%s# %s\n", indent, line)
		}
		switch {
		case key == "stack" && depth == 0:
			fmt.Fprintf(b, "%s%s: %s\n", indent, key, templateStack)
		case full == "fleets":
			// A map of fleets: an example of two, commented out (runners:
			// above is the one-fleet form; the file may have one or the other).
			for _, line := range []string{"fleets:", "  default:", "    instance_type: t3.medium", "  arm:", "    instance_type: c7g.large", "    spot: true", "    on_demand_percentage: 20"} {
				fmt.Fprintf(b, "%s# %s\n", indent, line)
			}
		case requiredForUpKeys[full]:
			fmt.Fprintf(b, "%s%s: \"\"   # REQUIRED for up\n", indent, key)
		case prop.Type == "object" && prop.Properties != nil && optionalBlock(full):
			// An optional block: shown commented out, with its keys.
			var inner strings.Builder
			fmt.Fprintf(&inner, "%s:\n", key)
			writeTemplate(&inner, prop, full, 1, true)
			for _, line := range strings.Split(strings.TrimRight(inner.String(), "\n"), "\n") {
				fmt.Fprintf(b, "%s# %s\n", indent, line)
			}
		case prop.Type == "object" && prop.Properties != nil:
			fmt.Fprintf(b, "%s%s:\n", indent, key)
			writeTemplate(b, prop, full, depth+1, example)
		case prop.Default != nil:
			fmt.Fprintf(b, "%s%s: %s\n", indent, key, yamlScalar(prop.Default))
		case example:
			fmt.Fprintf(b, "%s%s:\n", indent, key)
		case prop.Type == "object":
			fmt.Fprintf(b, "%s# %s: {team: ci}\n", indent, key)
		case prop.Type == "array":
			fmt.Fprintf(b, "%s# %s: []\n", indent, key)
		default:
			fmt.Fprintf(b, "%s# %s:\n", indent, key)
		}
	}
}

// optionalBlock: blocks whose presence turns a feature on, and secrets,
// whose only key has no default (a block of commented keys alone would
// be an empty value, which the schema refuses).
func optionalBlock(key string) bool {
	return key == "gitlab.create_runner" || key == "state" || key == "secrets" || key == "runners.instance_requirements"
}

func yamlScalar(v any) string {
	if s, ok := v.(string); ok {
		if s == "" || strings.ContainsAny(s, ":#{}[],&*!|>'\"%@`") {
			return fmt.Sprintf("%q", s)
		}
		return s
	}
	return fmt.Sprint(v)
}

func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
