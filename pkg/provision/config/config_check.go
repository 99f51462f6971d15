package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/invopop/jsonschema"
	schemacheck "github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// compiledSchema is ConfigSchemaJSON compiled once for checking files.
var compiledSchema = sync.OnceValues(func() (*schemacheck.Schema, error) {
	doc, err := schemacheck.UnmarshalJSON(bytes.NewReader(ConfigSchemaJSON()))
	if err != nil {
		return nil, err
	}
	c := schemacheck.NewCompiler()
	if err := c.AddResource(SchemaID, doc); err != nil {
		return nil, err
	}
	return c.Compile(SchemaID)
})

// errEmptyConfig is what a file without any setting gets: empty, only
// comments, or only `---`.
var errEmptyConfig = errors.New("the file holds no settings; at least `stack:` is required (`provision init` writes a commented configuration)")

// schemaProblems checks a configuration document against the schema and
// returns every problem at once, in the user's words: each unknown key
// (with the closest known key when one is close), each value of the wrong
// type (what was expected, what was found), each value outside its list.
func schemaProblems(data []byte) ([]Problem, error) {
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, errEmptyConfig
	}
	asJSON, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("the file is not a mapping of keys: %w", err)
	}
	inst, err := schemacheck.UnmarshalJSON(bytes.NewReader(asJSON))
	if err != nil {
		return nil, err
	}
	sch, err := compiledSchema()
	if err != nil {
		return nil, fmt.Errorf("the configuration schema does not compile: %w", err)
	}
	verr := &schemacheck.ValidationError{}
	if err := sch.Validate(inst); err == nil {
		return nil, nil
	} else if !errors.As(err, &verr) {
		return nil, err
	}
	root := ConfigSchema()
	var ps []Problem
	for _, leaf := range leaves(verr) {
		ps = append(ps, problemsOf(root, inst, leaf)...)
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Key < ps[j].Key })
	return ps, nil
}

// leaves are the errors without causes: the actual problems.
func leaves(e *schemacheck.ValidationError) []*schemacheck.ValidationError {
	if len(e.Causes) == 0 {
		return []*schemacheck.ValidationError{e}
	}
	var out []*schemacheck.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

func problemsOf(root *jsonschema.Schema, inst any, e *schemacheck.ValidationError) []Problem {
	key := dotted(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		known := propertyNames(root, e.InstanceLocation)
		var ps []Problem
		for _, p := range k.Properties {
			msg := "is not a known key"
			if s := Closest(p, known); s != "" {
				msg += fmt.Sprintf("; did you mean `%s`?", s)
			} else if len(known) > 0 {
				msg += "; the keys here are " + strings.Join(known, ", ")
			}
			ps = append(ps, Problem{Key: join(key, p), Msg: msg})
		}
		return ps
	case *kind.Type:
		return []Problem{{Key: key, Msg: typeMessage(k, valueAt(inst, e.InstanceLocation))}}
	case *kind.Enum:
		var want []string
		for _, w := range k.Want {
			want = append(want, fmt.Sprint(w))
		}
		msg := fmt.Sprintf("must be one of %s, not %q", strings.Join(want, ", "), fmt.Sprint(k.Got))
		if s := Closest(fmt.Sprint(k.Got), want); s != "" {
			msg += fmt.Sprintf("; did you mean `%s`?", s)
		}
		return []Problem{{Key: key, Msg: msg}}
	case *kind.Required:
		var ps []Problem
		for _, m := range k.Missing {
			ps = append(ps, Problem{Key: join(key, m), Msg: "is required"})
		}
		return ps
	}
	return []Problem{{Key: key, Msg: e.ErrorKind.LocalizedString(message.NewPrinter(language.English))}}
}

// typeMessage says what was expected and what was found, without Go's or
// JSON's type names.
func typeMessage(k *kind.Type, found any) string {
	words := map[string]string{
		"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
		"object": "a mapping (indented `key: value` lines)", "array": "a list (`[a, b]` or `- item` lines)", "null": "nothing",
	}
	var want []string
	for _, w := range k.Want {
		want = append(want, words[w])
	}
	if s, ok := found.(string); ok && len(k.Want) == 1 && k.Want[0] == "boolean" {
		switch strings.ToLower(s) {
		case "yes", "no", "on", "off", "y", "n":
			return fmt.Sprintf("%q is text here: use true or false", s)
		}
	}
	got := words[k.Got]
	switch v := found.(type) {
	case string:
		got = fmt.Sprintf("the text %q", v)
	case json.Number, float64, bool:
		got = fmt.Sprint(v)
	}
	if got == "" {
		got = k.Got
	}
	return fmt.Sprintf("expected %s, found %s", strings.Join(want, " or "), got)
}

// propertyNames are the keys the schema knows at a location.
func propertyNames(root *jsonschema.Schema, loc []string) []string {
	s := root
	for _, p := range loc {
		if s == nil || s.Properties == nil {
			return nil
		}
		next, ok := s.Properties.Get(p)
		if !ok {
			return nil
		}
		s = next
	}
	if s == nil || s.Properties == nil {
		return nil
	}
	var names []string
	for pair := s.Properties.Oldest(); pair != nil; pair = pair.Next() {
		names = append(names, pair.Key)
	}
	return names
}

// Closest is the candidate nearest to s when it is near enough to be a
// typo (at most a third of its letters differ), else "".
func Closest(s string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" || bestDist > max(1, len(s)/3) {
		return ""
	}
	return best
}

// editDistance counts the edits from a to b: a letter added, removed or
// changed, or two neighbours swapped (the optimal string alignment
// distance). A swap is the commonest typo (plna, regoin), so it counts as
// one edit, not two.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

func valueAt(v any, loc []string) any {
	for _, p := range loc {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// dotted turns a schema location into the key form problems use:
// gitlab.ssh_source_cidrs[0].
func dotted(loc []string) string {
	var b strings.Builder
	for _, p := range loc {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}
