package yamlguard

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"
)

// extent is what a node becomes when its aliases are expanded: about how
// many bytes it takes, and how deep it nests.
type extent struct {
	size   int64
	height int
}

// expansion walks a parsed document in document order, sizing each anchored
// node once (so an alias costs a map lookup, not a walk), as the decoder
// will resolve it: an alias names the latest anchor before it.
type expansion struct {
	lim     Limits
	anchors map[string]extent
	total   int64
	err     error
}

func checkExpansion(file *ast.File, lim Limits) error {
	x := expansion{lim: lim, anchors: map[string]extent{}}
	for _, doc := range file.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		e := x.node(doc.Body, 1)
		if x.err != nil {
			return x.err
		}
		x.total += e.size
	}
	return nil
}

// node returns n's extent; depth is the nesting at which n appears, so that
// an alias deep in the document to a deep anchor is refused too.
func (x *expansion) node(n ast.Node, depth int) extent {
	if x.err != nil || n == nil {
		return extent{}
	}
	var e extent
	switch n := n.(type) {
	case *ast.AnchorNode:
		e = x.node(n.Value, depth)
		x.anchors[anchorName(n)] = e
		return e
	case *ast.AliasNode:
		e = x.anchors[n.Value.GetToken().Value]
		x.limit(n, depth+e.height-1, x.total+e.size)
		return e
	case *ast.TagNode:
		return x.node(n.Value, depth)
	case *ast.MappingKeyNode:
		return x.node(n.Value, depth)
	case *ast.MappingNode:
		// goccy writes a one-key mapping as a bare MappingValueNode, so
		// the level is counted there and this node only groups them.
		e = extent{size: 2}
		for _, v := range n.Values {
			c := x.node(v, depth)
			e = extent{size: e.size + c.size, height: max(e.height, c.height)}
		}
		return e
	case *ast.MappingValueNode:
		k := x.node(n.Key, depth+1)
		v := x.node(n.Value, depth+1)
		e = extent{size: k.size + v.size + 4, height: 1 + max(k.height, v.height)}
	case *ast.SequenceNode:
		e = extent{size: 2, height: 1}
		for _, v := range n.Values {
			e = e.add(x.node(v, depth+1))
		}
	case *ast.CommentGroupNode:
		return extent{}
	default:
		if s, ok := n.(ast.ScalarNode); ok {
			return extent{size: int64(len(fmt.Sprint(s.GetValue()))) + 2}
		}
		return extent{size: int64(len(n.String()))}
	}
	x.limit(n, depth+e.height-1, x.total+e.size)
	return e
}

func (e extent) add(child extent) extent {
	return extent{size: e.size + child.size + 1, height: max(e.height, child.height+1)}
}

// limit records an *Error at n if depth or size is past the limits.
func (x *expansion) limit(n ast.Node, depth int, size int64) {
	if x.err != nil {
		return
	}
	pos := n.GetToken().Position
	switch {
	case depth > x.lim.MaxDepth:
		x.err = deepError(pos.Line, pos.Column, x.lim.MaxDepth)
		x.err.(*Error).Msg += " once its aliases are expanded"
	case size > x.lim.MaxBytes:
		x.err = &Error{Line: pos.Line, Column: pos.Column, TooLarge: true,
			Msg: fmt.Sprintf("document's aliases expand to more than %d bytes", x.lim.MaxBytes)}
	}
}

func anchorName(n *ast.AnchorNode) string {
	if n.Name == nil {
		return ""
	}
	return n.Name.GetToken().Value
}
