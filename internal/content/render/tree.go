package render

import (
	"fmt"
	"slices"
	"text/template/parse"
)

// The engine rewrites parsed templates before their first execution:
//
//   - every template and every range body starts with {{$… := hookline_tick}},
//     so that a render past its deadline stops at its next loop iteration
//     or template call instead of running on in the background (a
//     declaration prints nothing, and html/template leaves it alone);
//   - in text templates, every action that prints ends in
//     "| hookline_value", so a missing key or a JSON null prints as
//     empty text, as it does in html/template, instead of "<no value>".
var (
	tickNode  *parse.ActionNode
	valueNode *parse.CommandNode
)

func init() {
	noop := func() string { return "" }
	trees, err := parse.Parse("hookline", "{{$hookline_tick := hookline_tick}}{{. | hookline_value}}", "", "",
		map[string]any{tickFunc: noop, valueFunc: noop})
	if err != nil {
		panic(err)
	}
	nodes := trees["hookline"].Root.Nodes
	tickNode = nodes[0].(*parse.ActionNode)
	valueNode = nodes[1].(*parse.ActionNode).Pipe.Cmds[1]
}

// instrument rewrites one parsed template tree (see above).
func instrument(t *parse.Tree, text bool) {
	if t == nil || t.Root == nil {
		return
	}
	prependTick(t.Root)
	walk(t.Root, text)
}

func prependTick(l *parse.ListNode) {
	l.Nodes = slices.Insert(l.Nodes, 0, parse.Node(tickNode.Copy()))
}

func walk(n parse.Node, text bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, text)
		}
	case *parse.ActionNode:
		if text && len(n.Pipe.Decl) == 0 {
			n.Pipe.Cmds = append(n.Pipe.Cmds, valueNode.Copy().(*parse.CommandNode))
		}
	case *parse.IfNode:
		walk(n.List, text)
		walk(n.ElseList, text)
	case *parse.WithNode:
		walk(n.List, text)
		walk(n.ElseList, text)
	case *parse.RangeNode:
		walk(n.List, text)
		walk(n.ElseList, text)
		prependTick(n.List)
	}
}

// checkRecursion rejects a template that calls itself, directly or not:
// text/template allows 100,000 nested calls, a stack far larger than a
// notification needs.
func checkRecursion(trees map[string]*parse.Tree) error {
	calls := map[string][]string{}
	for name, t := range trees {
		if t != nil && t.Root != nil {
			collectCalls(t.Root, &calls, name)
		}
	}
	const (
		unvisited = iota
		visiting
		done
	)
	mark := map[string]int{}
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch mark[name] {
		case visiting:
			return fmt.Errorf("template %q calls itself (%s); recursion is not allowed", name, joinPath(append(path, name)))
		case done:
			return nil
		}
		mark[name] = visiting
		for _, c := range calls[name] {
			if err := visit(c, append(path, name)); err != nil {
				return err
			}
		}
		mark[name] = done
		return nil
	}
	names := make([]string, 0, len(trees))
	for name := range trees {
		names = append(names, name)
	}
	slices.Sort(names) // the same error every time
	for _, name := range names {
		if err := visit(name, nil); err != nil {
			return err
		}
	}
	return nil
}

func joinPath(path []string) string {
	// Only the cycle: from the first occurrence of the repeated name.
	last := path[len(path)-1]
	i := slices.Index(path, last)
	s := ""
	for j, p := range path[i:] {
		if j > 0 {
			s += " → "
		}
		s += p
	}
	return s
}

func collectCalls(n parse.Node, calls *map[string][]string, from string) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			collectCalls(c, calls, from)
		}
	case *parse.TemplateNode:
		(*calls)[from] = append((*calls)[from], n.Name)
	case *parse.IfNode:
		collectCalls(n.List, calls, from)
		collectCalls(n.ElseList, calls, from)
	case *parse.WithNode:
		collectCalls(n.List, calls, from)
		collectCalls(n.ElseList, calls, from)
	case *parse.RangeNode:
		collectCalls(n.List, calls, from)
		collectCalls(n.ElseList, calls, from)
	}
}
