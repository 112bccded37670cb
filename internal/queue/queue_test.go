package queue

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/route"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/testkit"
)

func TestTakes(t *testing.T) {
	t.Parallel()
	q := store.Queue{Source: "stripe", EventTypes: []string{"invoice.*", "charge.refunded"}}
	all := store.Queue{}
	takes := func(in [3]string) (bool, error) {
		qq := &q
		if in[0] == "all" {
			qq = &all
		}
		return Takes(qq, &event.Event{Source: in[1], Type: in[2]}), nil
	}
	testkit.Table(t, takes, []testkit.Case[[3]string, bool]{
		{In: [3]string{"q", "stripe", "invoice.paid"}, Want: true},
		{In: [3]string{"q", "stripe", "charge.refunded"}, Want: true},
		{In: [3]string{"q", "stripe", "charge.created"}, Want: false},
		{In: [3]string{"q", "github", "invoice.paid"}, Want: false},
		{In: [3]string{"q", "", "invoice.paid"}, Want: false},
		{In: [3]string{"all", "", "order.created"}, Want: true},
		{In: [3]string{"all", "github", "github.push"}, Want: true},
	})
}

type queues []store.Queue

func (qs queues) ListQueues(context.Context, string) ([]store.Queue, error) { return qs, nil }

func TestRoutes(t *testing.T) {
	t.Parallel()
	tbl := route.New(route.Config{})
	tbl.Register(Routes{Store: queues{
		{ID: "q_a", Source: "stripe", EventTypes: []string{"invoice.*"}},
		{ID: "q_b"},
	}})
	got, err := tbl.Route(t.Context(), &event.Event{TenantID: "t", Source: "stripe", Type: "invoice.paid"})
	require.NoError(t, err)
	require.ElementsMatch(t, []engine.Target{{Kind: engine.KindQueue, DestinationID: "q_a"}, {Kind: engine.KindQueue, DestinationID: "q_b"}}, got)
	got, err = tbl.Route(t.Context(), &event.Event{TenantID: "t", Source: "github", Type: "invoice.paid"})
	require.NoError(t, err)
	require.Equal(t, []engine.Target{{Kind: engine.KindQueue, DestinationID: "q_b"}}, got, "the source of q_a's cond")
}
