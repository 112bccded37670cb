package expr_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/expr"
)

func TestEquality(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ src, field, other string }{
		{"event.data.order == trigger.data.id", "event.data.order", "trigger.data.id"},
		{"vars.order_id == event.data.order.id", "event.data.order.id", "vars.order_id"},
		{`event.data.kind == "x" && event.data.order_id == vars.id`, "event.data.kind", `"x"`},
		{`event.data.amount > 10 and event.data["order_id"] == vars.id`, "event.data.order_id", "vars.id"},
		{"event.data.a == event.data.b", "", ""},
		{"event.data.a != vars.x", "", ""},
		{"event.data.a == vars.x || true", "", ""},
		{"event.id == vars.x", "", ""},
		{"event.data == vars.x", "", ""},
		{"event?.data.a == vars.x", "", ""},
		{"data.a == vars.x", "", ""},
		{"event.data.a ==", "", ""},
	} {
		field, other, ok := expr.Equality(tc.src)
		require.Equal(t, tc.field != "", ok, tc.src)
		require.Equal(t, tc.field, field, tc.src)
		require.Equal(t, tc.other, other, tc.src)
	}
}
