package expr

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/event"
)

func TestFilter(t *testing.T) {
	t.Parallel()
	ev := &event.Event{ID: "evt_1", Type: "order.created", Data: json.RawMessage(`{"amount":150,"currency":"EUR","items":[1,2,3]}`)}
	env, err := EventEnv(ev)
	require.NoError(t, err)
	cases := []struct {
		src  string
		want bool
	}{
		{`data.amount > 100 && data.currency == "EUR"`, true},
		{`data.amount > 200`, false},
		{`type == "order.created"`, true},
		{`event.type startsWith "order."`, true},
		{`len(data.items) == 3`, true},
		{`data.missing == nil`, true},
	}
	for _, c := range cases {
		f, err := CompileFilter(c.src)
		require.NoError(t, err, c.src)
		got, err := f.Match(env)
		require.NoError(t, err, c.src)
		require.Equal(t, c.want, got, c.src)
	}
}

func TestFilterRejects(t *testing.T) {
	t.Parallel()
	for _, src := range []string{`data.amount >`, `unknown_var > 1`, `"text"`, strings.Repeat("a", MaxLength+1)} {
		_, err := CompileFilter(src)
		require.Error(t, err, src)
	}
}

func TestFilterMemoryBound(t *testing.T) {
	t.Parallel()
	f, err := CompileFilter(`len(map(1..1000000, # * 2)) > 0`)
	require.NoError(t, err)
	env, err := EventEnv(&event.Event{Data: json.RawMessage(`{}`)})
	require.NoError(t, err)
	_, err = f.Match(env)
	require.ErrorContains(t, err, "memory budget")
}
