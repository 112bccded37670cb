package expr_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/expr"
)

// TestUntyped: an untyped variable takes any operation at compile time
// and evaluates to its value; a typo is still an unknown name.
func TestUntyped(t *testing.T) {
	vars := []string{"event", expr.Untyped("item"), expr.Untyped("index")}
	for _, tc := range []struct {
		src  string
		item any
		want any
	}{
		{"item * 2 + index", 3.0, 9.0},
		{`item == "vip"`, "vip", true},
		{"item.sku", map[string]any{"sku": "A"}, "A"},
		{"len(item)", []any{1, 2}, 2},
		{"event.data.n + item", 1.0, 3.0},
		{`{"item": item}.item`, "x", "x"},
	} {
		p, err := expr.Compile(tc.src, vars...)
		require.NoError(t, err, tc.src)
		got, err := p.Eval(map[string]any{"event": map[string]any{"data": map[string]any{"n": 2.0}}, "item": tc.item, "index": 3})
		require.NoError(t, err, tc.src)
		require.Equal(t, tc.want, got, tc.src)
	}
	_, err := expr.Compile("items * 2", vars...)
	require.ErrorContains(t, err, "unknown name items")
	_, err = expr.Compile("item * 2", "event")
	require.ErrorContains(t, err, "unknown name item", "undeclared, it stays unknown")
	tmpl, err := expr.CompileTemplate("{{ item }}-{{ index + 1 }}", vars...)
	require.NoError(t, err)
	out, err := tmpl.Render(map[string]any{"item": "a", "index": 0})
	require.NoError(t, err)
	require.Equal(t, "a-1", out)
}
