package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

// testTraceparent checks that an event's trace context is kept: read back
// by GetEvent, ListEvents, an idempotent repeat, and with the task that a
// claim loads (the attempt continues the trace after a restart).
func testTraceparent(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid, ep := acme(t, s)
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	traced := newEvent(tid, "order.created", "k1", base, ep.ID)
	traced.Event.Traceparent = tp
	plain := newEvent(tid, "order.paid", "", base.Add(time.Millisecond))
	for _, ne := range []*store.NewEvent{&traced, &plain} {
		ne.IdempotentSince = base.Add(-time.Hour)
	}
	require.NoError(t, errOf(s.AcceptEvents(ctx, []store.NewEvent{traced, plain})))

	got, err := s.GetEvent(ctx, tid, traced.Event.ID)
	require.NoError(t, err)
	require.Equal(t, tp, got.Traceparent)
	got, err = s.GetEvent(ctx, tid, plain.Event.ID)
	require.NoError(t, err)
	require.Empty(t, got.Traceparent)
	evs, err := s.ListEvents(ctx, tid, store.EventQuery{Type: "order.created"})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, tp, evs[0].Traceparent)

	repeat := newEvent(tid, "order.created", "k1", base.Add(time.Minute))
	repeat.IdempotentSince = base.Add(-time.Hour)
	res, err := s.AcceptEvents(ctx, []store.NewEvent{repeat})
	require.NoError(t, err)
	require.True(t, res[0].Duplicate)
	require.Equal(t, tp, res[0].Event.Traceparent, "a repeat answers the stored event")

	claimed, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Minute, Owner: "node-a", Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.NotNil(t, claimed[0].Event)
	require.Equal(t, tp, claimed[0].Event.Traceparent)
}
