package provision

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/provision-dev/provision/pkg/provision/bootstrap"
)

// maxConfigBytes bounds the file: a configuration is a few kilobytes.
const maxConfigBytes = 1 << 20

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
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, nil // the decoder reports it, with its line
	}
	anchors := map[string]int{}
	for _, doc := range file.Docs {
		if n, line := expandedSize(doc, anchors); n > maxConfigValues {
			return nil, fmt.Errorf("line %d: the aliases (*name) expand the file to more than %d values: write the values out instead of repeating anchors", line, maxConfigValues)
		}
	}
	var ps []Problem
	for _, doc := range file.Docs {
		ast.Walk(textChecker{problems: &ps}, doc)
	}
	return ps, nil
}

// expandedSize counts the values of n with every alias replaced by what
// its anchor holds; anchors records the size of each anchor met so far
// (an alias refers to an anchor above it). line is where the count went
// over the budget.
func expandedSize(n ast.Node, anchors map[string]int) (size, line int) {
	if n == nil {
		return 0, 0
	}
	sum := func(nodes ...ast.Node) (int, int) {
		total := 1
		for _, c := range nodes {
			s, l := expandedSize(c, anchors)
			total += s
			if total > maxConfigValues {
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
		s, l := expandedSize(x.Value, anchors)
		anchors[x.Name.String()] = s
		return s, l
	case *ast.AliasNode:
		s := anchors[x.Value.String()]
		if s > maxConfigValues {
			return s, nodeLine(x)
		}
		return s, 0
	}
	return 1, 0
}

// textChecker refuses characters no configuration value needs and that
// change what a value means where it lands: control characters (a
// newline ends a line of a script or a values file, an escape sequence
// rewrites the terminal), Unicode line and paragraph separators (YAML
// readers such as cloud-init's take them for line breaks) and the
// bidirectional controls (they make text read otherwise than it is).
type textChecker struct{ problems *[]Problem }

func (c textChecker) Visit(n ast.Node) ast.Visitor {
	s, ok := n.(*ast.StringNode)
	if !ok {
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
var bootPlaceholders = []string{bootstrap.TokenPlaceholder, bootstrap.TokenObtainedPlaceholder, bootstrap.TokenExpiresPlaceholder, bootstrap.ListenPlaceholder}

// pathKey is the dotted key of a node, as problems name keys.
func pathKey(n ast.Node) string {
	key := strings.TrimPrefix(strings.TrimPrefix(n.GetPath(), "$"), ".")
	if key == "" {
		return "(top level)"
	}
	return key
}

// forbiddenRune returns the first character of s that no configuration
// value may hold.
func forbiddenRune(s string) (rune, bool) {
	for _, r := range s {
		switch {
		case unicode.IsControl(r), r == '\u2028', r == '\u2029', r == '\ufeff',
			r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
			return r, true
		}
	}
	return 0, false
}
