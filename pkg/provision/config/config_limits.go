package config

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/provision-dev/provision/pkg/provision/bootstrap"
	"github.com/provision-dev/provision/pkg/termtext"
)

// maxConfigBytes bounds the file: a configuration is a few kilobytes, and
// the YAML parser's time and memory grow faster than the file (a 60 KB
// file of nested brackets takes it 1.4 s and 1.4 GB).
const maxConfigBytes = 32 << 10

// maxLineBytes, maxFlowDepth and maxValueBytes bound what the parser and
// the error messages are given: no configuration line is this long, no
// value is nested this deep or is this large.
const (
	maxLineBytes  = 4096
	maxFlowDepth  = 32
	maxValueBytes = 4096
	// maxExpandedBytes bounds the text the aliases expand to: a long
	// string repeated by aliases costs as much as its copies.
	maxExpandedBytes = 256 << 10
)

// maxConfigValues bounds how many values the file holds once its aliases
// are expanded. A YAML alias repeats what its anchor holds, so nine
// anchors of nine aliases each make 9^9 values out of 500 bytes (the
// "billion laughs"); decoding that takes gigabytes. A real configuration
// holds a few hundred values.
const maxConfigValues = 10000

// checkDocument looks at the file before anything decodes it: its size,
// what its aliases expand to, and the characters of every key and value.
// A file too large to be a configuration is an error of its own; the
// characters are problems reported with the others.
func checkDocument(data []byte) ([]Problem, error) {
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("the file is %d bytes; a configuration is a few kilobytes (at most %d): is it the right file?", len(data), maxConfigBytes)
	}
	if err := shapeProblem(data); err != nil {
		return nil, err
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, nil // the decoder reports it, with its line
	}
	anchors := map[string]expansion{}
	var total expansion
	for _, doc := range file.Docs {
		e, line := expandedSize(doc, anchors)
		total = total.plus(e)
		if total.over() {
			if aliasesIn(doc) {
				return nil, fmt.Errorf("line %d: the aliases (*name) expand the file to more than %d values or %d bytes: write the values out instead of repeating anchors", line, maxConfigValues, maxExpandedBytes)
			}
			return nil, fmt.Errorf("the file holds more than %d values: a configuration holds a few hundred; is it the right file?", maxConfigValues)
		}
	}
	var ps []Problem
	for _, doc := range file.Docs {
		ast.Walk(textChecker{problems: &ps}, doc)
	}
	return ps, nil
}

// expansion is what a node amounts to once its aliases are expanded.
type expansion struct{ values, bytes int }

func (e expansion) plus(o expansion) expansion {
	return expansion{values: e.values + o.values, bytes: e.bytes + o.bytes}
}

func (e expansion) over() bool { return e.values > maxConfigValues || e.bytes > maxExpandedBytes }

// expandedSize counts the values and the text of n with every alias
// replaced by what its anchor holds; anchors records each anchor met so
// far (an alias refers to an anchor above it). line is where the count
// went over the budget.
func expandedSize(n ast.Node, anchors map[string]expansion) (expansion, int) {
	if n == nil {
		return expansion{}, 0
	}
	sum := func(nodes ...ast.Node) (expansion, int) {
		total := expansion{values: 1}
		for _, c := range nodes {
			e, l := expandedSize(c, anchors)
			total = total.plus(e)
			if total.over() {
				if l == 0 {
					l = nodeLine(c)
				}
				return total, l
			}
		}
		return total, 0
	}
	switch x := n.(type) {
	case *ast.DocumentNode:
		return sum(x.Body)
	case *ast.MappingNode:
		nodes := make([]ast.Node, len(x.Values))
		for i, v := range x.Values {
			nodes[i] = v
		}
		return sum(nodes...)
	case *ast.MappingValueNode:
		return sum(x.Key, x.Value)
	case *ast.MappingKeyNode:
		return sum(x.Value)
	case *ast.SequenceNode:
		return sum(x.Values...)
	case *ast.TagNode:
		return sum(x.Value)
	case *ast.AnchorNode:
		e, l := expandedSize(x.Value, anchors)
		anchors[x.Name.String()] = e
		return e, l
	case *ast.AliasNode:
		e := anchors[x.Value.String()]
		if e.over() {
			return e, nodeLine(x)
		}
		return e, 0
	}
	return expansion{values: 1, bytes: len(n.String())}, 0
}

// aliasesIn reports whether a document uses an alias.
func aliasesIn(n ast.Node) bool {
	found := false
	ast.Walk(visitFunc(func(n ast.Node) { _, ok := n.(*ast.AliasNode); found = found || ok }), n)
	return found
}

type visitFunc func(ast.Node)

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	f(n)
	return f
}

// shapeProblem refuses, before the parser sees them, lines longer than
// any configuration has and brackets nested deeper than any configuration
// needs (quoted text and comments aside): the parser's cost grows with
// both far faster than the file does.
func shapeProblem(data []byte) error {
	line, col, depth := 1, 0, 0
	var quote byte
	comment := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c == '\n' {
			line, col, comment = line+1, 0, false
			if quote == '\'' {
				quote = 0 // a single-quoted scalar spanning lines is rare; depth stays safe either way
			}
			continue
		}
		if col++; col > maxLineBytes {
			return fmt.Errorf("line %d is longer than %d characters: no configuration value is this long", line, maxLineBytes)
		}
		switch {
		case comment:
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' {
				i++
				col++
			}
		case c == '#' && (col == 1 || data[i-1] == ' ' || data[i-1] == '\t'):
			comment = true
		case c == '"' || c == '\'':
			quote = c
		case c == '[' || c == '{':
			if depth++; depth > maxFlowDepth {
				return fmt.Errorf("line %d: brackets nested more than %d deep: no configuration needs this", line, maxFlowDepth)
			}
		case c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return nil
}

// textChecker refuses characters no configuration value needs and that
// change what a value means where it lands: control characters (a
// newline ends a line of a script or a values file, an escape sequence
// rewrites the terminal), Unicode line and paragraph separators (YAML
// readers such as cloud-init's take them for line breaks) and the
// bidirectional controls (they make text read otherwise than it is).
type textChecker struct{ problems *[]Problem }

func (c textChecker) Visit(n ast.Node) ast.Visitor {
	if t, ok := n.(*ast.TagNode); ok {
		// A tag (!!binary, !!str, !custom) turns the text into something
		// else after the checks here: no configuration needs one.
		*c.problems = append(*c.problems, Problem{Key: pathKey(t), Line: nodeLine(t),
			Msg: fmt.Sprintf("holds the YAML tag %s, which no value here takes: write the value plainly", t.Start.Value)})
		return nil
	}
	s, ok := n.(*ast.StringNode)
	if !ok {
		return c
	}
	if len(s.Value) > maxValueBytes {
		*c.problems = append(*c.problems, Problem{Key: pathKey(s), Line: nodeLine(s),
			Msg: fmt.Sprintf("is %d characters long; no value here takes more than %d", len(s.Value), maxValueBytes)})
		return c
	}
	for _, p := range bootPlaceholders {
		if strings.Contains(s.Value, p) {
			*c.problems = append(*c.problems, Problem{Key: pathKey(s), Line: nodeLine(s),
				Msg: fmt.Sprintf("holds %s, which the manager replaces at boot (with the runner token, for one): choose another value", p)})
			return c
		}
	}
	if r, bad := forbiddenRune(s.Value); bad {
		*c.problems = append(*c.problems, Problem{Key: pathKey(s), Line: nodeLine(s),
			Msg: fmt.Sprintf("%q holds the character %U, which no value here may hold (control characters, line and paragraph separators, bidirectional controls): remove it", s.Value, r)})
	}
	return c
}

// bootPlaceholders stand in config.toml for what the manager fills in at
// boot: a value holding one would be filled in too (a tag value would
// carry the runner token onto every machine).
var bootPlaceholders = []string{bootstrap.TokenPlaceholder, bootstrap.TokenObtainedPlaceholder, bootstrap.TokenExpiresPlaceholder, bootstrap.ListenPlaceholder, bootstrap.GroupPlaceholder}

// pathKey is the dotted key of a node, as problems name keys.
func pathKey(n ast.Node) string {
	key := strings.TrimPrefix(strings.TrimPrefix(n.GetPath(), "$"), ".")
	if key == "" {
		return "(top level)"
	}
	return key
}

// forbiddenRune returns the first character of s that no configuration
// value may hold: what a terminal would act on (the characters the
// terminal sanitiser removes), and newline and tab too, which end a line
// of the values file or a script.
func forbiddenRune(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) || termtext.Acted(r) {
			return r, true
		}
	}
	return 0, false
}
