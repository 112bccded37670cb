package portal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/field"
)

func TestScope(t *testing.T) {
	t.Parallel()
	all := Scope(nil)
	require.True(t, all.All())
	require.True(t, all.Type("anything"))
	require.True(t, all.Patterns(nil), "an endpoint of every type, in a scope of every type")

	sc := Scope{"order.*", "invoice.paid"}
	require.False(t, sc.All())
	require.True(t, sc.Type("order.created"))
	require.True(t, sc.Type("invoice.paid"))
	require.False(t, sc.Type("invoice.created"))
	require.False(t, sc.Type("order.created.v2"))

	cases := []struct {
		patterns []string
		want     bool
	}{
		{nil, false},
		{[]string{}, false},
		{[]string{"order.created"}, true},
		{[]string{"order.*", "invoice.paid"}, true},
		{[]string{"order.created", "invoice.created"}, false},
		{[]string{"order.**"}, false},
		{[]string{"*"}, false},
		{[]string{"invoice.*"}, false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, sc.Patterns(c.patterns), "%v", c.patterns)
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	a, ha := NewToken()
	b, hb := NewToken()
	require.NotEqual(t, a, b)
	require.Len(t, a, 43)
	require.Equal(t, ha, Hash(a))
	require.NotEqual(t, ha, hb)
	require.True(t, ValidToken(a))
	for _, bad := range []string{"", "open", a[:42], a + "x", a[:42] + "!", a[:42] + "/"} {
		require.False(t, ValidToken(bad), bad)
	}
}

func TestCheck(t *testing.T) {
	ttl, label, err := Check(nil, 0, "  Acme  ")
	require.NoError(t, err)
	require.Equal(t, DefaultTTL, ttl)
	require.Equal(t, "Acme", label)
	ttl, _, err = Check([]string{"order.*"}, 120, "")
	require.NoError(t, err)
	require.Equal(t, 2*time.Minute, ttl)
	for want, args := range map[string]struct {
		types []string
		in    int
		label string
	}{
		"expires_in":  {in: 30},
		"label":       {label: "a\x00b"},
		"event_types": {types: []string{"order..x"}},
	} {
		_, _, err := Check(args.types, args.in, args.label)
		path, ok := field.Of(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, want, path)
	}
}
