package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Locate returns the line of raw, a declaration file, that an apply error
// is about. resource is the error's details.resource ("sources[1]") and
// field its details.field ("verification.kind"), which may be empty. It
// returns the line of the field's key, else of its nearest ancestor that
// the file has, else of the resource; ok is false when the file does not
// have the resource either.
func Locate(raw []byte, resource, field string) (line int, ok bool) {
	at, err := parsePath(resource)
	if err != nil || len(at) == 0 {
		return 0, false
	}
	minLen := len(at)
	if field != "" {
		sub, err := parsePath(field)
		if err == nil {
			at = append(at, sub...)
		}
	}
	return locatePath(raw, at, minLen)
}

// locatePath is Locate for a parsed path: the line of at, else of its
// nearest ancestor in raw that is at least minLen segments long.
func locatePath(raw []byte, at yamlPath, minLen int) (int, bool) {
	file, err := parser.ParseBytes(raw, 0)
	if err != nil {
		return 0, false
	}
	for n := len(at); n >= max(minLen, 1); n-- {
		if line, ok := lineOf(file, at[:n]); ok {
			return line, true
		}
	}
	return 0, false
}

// lineOf returns the line of the node at at: for a mapping key the line of
// the key, for a list item the line its value starts on.
func lineOf(file *ast.File, at yamlPath) (int, bool) {
	last := at[len(at)-1]
	if last.isIndex {
		node, ok := find(file, at)
		if !ok {
			return 0, false
		}
		return node.GetToken().Position.Line, true
	}
	parent, ok := find(file, at[:len(at)-1])
	if !ok {
		return 0, false
	}
	var pairs []*ast.MappingValueNode
	switch n := parent.(type) {
	case *ast.MappingNode:
		pairs = n.Values
	case *ast.MappingValueNode:
		pairs = []*ast.MappingValueNode{n}
	}
	for _, mv := range pairs {
		if mv.Key != nil && mv.Key.GetToken() != nil && mv.Key.GetToken().Value == last.name {
			return mv.Key.GetToken().Position.Line, true
		}
	}
	return 0, false
}

// find returns the node at at; the empty path is the document body.
func find(file *ast.File, at yamlPath) (ast.Node, bool) {
	if len(at) == 0 {
		if len(file.Docs) == 0 || file.Docs[0].Body == nil {
			return nil, false
		}
		return file.Docs[0].Body, true
	}
	s, ok := at.String()
	if !ok {
		return nil, false
	}
	p, err := yaml.PathString(s)
	if err != nil {
		return nil, false
	}
	node, err := p.FilterFile(file)
	if err != nil || node == nil || node.GetToken() == nil {
		return nil, false
	}
	return node, true
}

// yamlPath is a path into a YAML document: keys and list indexes.
type yamlPath []pathSeg

type pathSeg struct {
	name    string
	index   int
	isIndex bool
}

// key returns p extended by a mapping key; p itself is not changed.
func (p yamlPath) key(name string) yamlPath {
	return append(p[:len(p):len(p)], pathSeg{name: name})
}

// index returns p extended by a list index; p itself is not changed.
func (p yamlPath) index(i int) yamlPath {
	return append(p[:len(p):len(p)], pathSeg{index: i, isIndex: true})
}

// plainKey is a key that a path string can hold unquoted.
var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// String returns p as a goccy/go-yaml path string ("$.sources[1].name");
// ok is false for a key it cannot spell.
func (p yamlPath) String() (s string, ok bool) {
	var b strings.Builder
	b.WriteString("$")
	for _, seg := range p {
		switch {
		case seg.isIndex:
			fmt.Fprintf(&b, "[%d]", seg.index)
		case plainKey.MatchString(seg.name):
			b.WriteString("." + seg.name)
		case !strings.Contains(seg.name, "'"):
			b.WriteString(".'" + seg.name + "'")
		default:
			return "", false
		}
	}
	return b.String(), true
}

// display returns p for people: "sources[1].verification.kind".
func (p yamlPath) display() string {
	var b strings.Builder
	for i, seg := range p {
		switch {
		case seg.isIndex:
			fmt.Fprintf(&b, "[%d]", seg.index)
		case i > 0:
			b.WriteString("." + seg.name)
		default:
			b.WriteString(seg.name)
		}
	}
	return b.String()
}

// segPattern matches one dotted segment of a resource or field path:
// a key with optional indexes, "sources[1]" or "secrets".
var segPattern = regexp.MustCompile(`^([A-Za-z0-9_-]+)((?:\[\d+\])*)$`)

// parsePath parses a path such as "sources[1]" or "verification.kind" as
// the API's error details write them.
func parsePath(s string) (yamlPath, error) {
	var p yamlPath
	for part := range strings.SplitSeq(s, ".") {
		m := segPattern.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("invalid path %q", s)
		}
		p = p.key(m[1])
		for idx := range strings.SplitSeq(strings.Trim(m[2], "[]"), "][") {
			if idx == "" {
				continue
			}
			n, err := strconv.Atoi(idx)
			if err != nil {
				return nil, fmt.Errorf("invalid path %q", s)
			}
			p = p.index(n)
		}
	}
	return p, nil
}

// LocateField returns the line of field ("steps[2].http.url") in raw, a
// file that holds one resource at its top level, or of its nearest
// ancestor the file has.
func LocateField(raw []byte, field string) (line int, ok bool) {
	at, err := parsePath(field)
	if err != nil || len(at) == 0 {
		return 0, false
	}
	return locatePath(raw, at, 1)
}
