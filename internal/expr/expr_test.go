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

func TestProgram(t *testing.T) {
	t.Parallel()
	p, err := Compile(`"github." + headers["X-GitHub-Event"]`, "headers", "data")
	require.NoError(t, err)
	out, err := p.Eval(map[string]any{"headers": map[string]any{"X-GitHub-Event": "push"}, "data": map[string]any{}})
	require.NoError(t, err)
	require.Equal(t, "github.push", out)
	_, err = Compile(`nope.x`, "data")
	require.Error(t, err)
	p, err = Compile(`{"order": data.id, "total": data.amount * 2}`, "data")
	require.NoError(t, err)
	out, err = p.Eval(map[string]any{"data": map[string]any{"id": "o1", "amount": 2.5}})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"order": "o1", "total": 5.0}, out)
}
