package expr

import (
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// Equality finds in a condition an equality that correlates an event
// with something else: a conjunct (the whole condition, or one of its
// top-level &&) of the form `event.data.a.b == other` (either way round)
// where other does not read event. It returns the field's path as
// written ("event.data.a.b") and other's source, which evaluates the
// value the field must equal; ok is false when there is none.
func Equality(src string) (field, other string, ok bool) {
	if len(src) > MaxLength {
		return "", "", false
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return "", "", false
	}
	for _, n := range conjuncts(tree.Node, nil) {
		b, isBin := n.(*ast.BinaryNode)
		if !isBin || b.Operator != "==" {
			continue
		}
		for _, side := range [][2]ast.Node{{b.Left, b.Right}, {b.Right, b.Left}} {
			if path, isPath := dataPath(side[0]); isPath && !reads(side[1], "event") {
				return path, side[1].String(), true
			}
		}
	}
	return "", "", false
}

// conjuncts lists the operands of the top-level && of n.
func conjuncts(n ast.Node, out []ast.Node) []ast.Node {
	if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
		return conjuncts(b.Right, conjuncts(b.Left, out))
	}
	return append(out, n)
}

// dataPath is n as a path "event.data.x.y" of plain property names.
func dataPath(n ast.Node) (string, bool) {
	var names []string
	for {
		switch x := n.(type) {
		case *ast.MemberNode:
			s, ok := x.Property.(*ast.StringNode)
			if !ok || x.Optional || x.Method || s.Value == "" || strings.Contains(s.Value, ".") {
				return "", false
			}
			names = append(names, s.Value)
			n = x.Node
			continue
		case *ast.IdentifierNode:
			if x.Value != "event" || len(names) < 2 || names[len(names)-1] != "data" {
				return "", false
			}
			names = append(names, "event")
			for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
				names[i], names[j] = names[j], names[i]
			}
			return strings.Join(names, "."), true
		}
		return "", false
	}
}

// reads reports whether n reads the variable name.
func reads(n ast.Node, name string) bool {
	return ast.Find(n, func(x ast.Node) bool {
		id, ok := x.(*ast.IdentifierNode)
		return ok && id.Value == name
	}) != nil
}
