package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// TestIdempotencyFollowsFirstInBatch pins what the SQLite driver does when
// events of one batch share a key but not a window: only the first is
// checked against stored events, and the later ones duplicate its outcome.
func TestIdempotencyFollowsFirstInBatch(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	tid := event.NewID(event.PrefixTenant, base)
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: tid, Name: "acme", CreatedAt: base}))
	ev := func(at, since time.Time) store.NewEvent {
		return store.NewEvent{IdempotentSince: since, Event: event.Event{ID: event.NewID(event.PrefixEvent, at), TenantID: tid,
			Type: "a.b", Source: "api", Data: json.RawMessage(`{}`), OccurredAt: at, IdempotencyKey: "k", CreatedAt: at}}
	}
	stored := ev(base, base.Add(-time.Hour))
	_, err := s.AcceptEvents(ctx, []store.NewEvent{stored})
	require.NoError(t, err)

	// The first duplicates the stored event; the second, whose window
	// alone would not reach it, duplicates the first and is not written.
	wide, narrow := ev(base.Add(time.Hour), base.Add(-time.Hour)), ev(base.Add(time.Hour), base.Add(time.Minute))
	res, err := s.AcceptEvents(ctx, []store.NewEvent{wide, narrow})
	require.NoError(t, err)
	for i, r := range res {
		require.True(t, r.Duplicate, "event %d", i)
		require.Equal(t, stored.Event.ID, r.Event.ID, "event %d", i)
	}

	// The first is new; the second duplicates it, not the stored event.
	narrow, wide = ev(base.Add(2*time.Hour), base.Add(90*time.Minute)), ev(base.Add(2*time.Hour), base.Add(-time.Hour))
	res, err = s.AcceptEvents(ctx, []store.NewEvent{narrow, wide})
	require.NoError(t, err)
	require.False(t, res[0].Duplicate)
	require.True(t, res[1].Duplicate)
	require.Equal(t, narrow.Event.ID, res[1].Event.ID)

	evs, err := s.ListEvents(ctx, tid, store.EventQuery{})
	require.NoError(t, err)
	require.Equal(t, []string{narrow.Event.ID, stored.Event.ID}, []string{evs[0].ID, evs[1].ID})
	require.Len(t, evs, 2)
}
