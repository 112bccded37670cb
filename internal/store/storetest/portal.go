package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// testPortalSessions: a link opens its session once, before it expires;
// the session is found by its token's hash; long-expired sessions go when
// a new one is made.
func testPortalSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid := tenant(t, s, "acme")
	ps := store.PortalSession{
		ID: event.NewID(event.PrefixPortal, base), TenantID: tid, KeyHash: []byte{1, 2}, Label: "Shop GmbH",
		EventTypes: []string{"order.*", "invoice.paid"}, LinkHash: []byte("link-1"), CreatedAt: base, ExpiresAt: base.Add(time.Hour),
	}
	require.NoError(t, s.CreatePortalSession(ctx, ps))
	require.ErrorIs(t, s.CreatePortalSession(ctx, ps), store.ErrConflict, "a link hash is unique")
	require.ErrorIs(t, errOf(s.PortalSessionByHash(ctx, []byte("session-1"))), store.ErrNotFound, "not opened yet")
	require.ErrorIs(t, errOf(s.OpenPortalSession(ctx, []byte("no-such-link"), []byte("s"), base)), store.ErrNotFound)

	at := base.Add(time.Minute)
	opened := ps
	opened.SessionHash, opened.OpenedAt = []byte("session-1"), at
	read(t, opened)(s.OpenPortalSession(ctx, ps.LinkHash, []byte("session-1"), at))
	read(t, opened)(s.PortalSessionByHash(ctx, []byte("session-1")))

	again, err := s.OpenPortalSession(ctx, ps.LinkHash, []byte("session-2"), at.Add(time.Second))
	require.ErrorIs(t, err, store.ErrConflict, "a link opens once")
	require.Equal(t, opened, again, "the session as it was opened")
	require.ErrorIs(t, errOf(s.PortalSessionByHash(ctx, []byte("session-2"))), store.ErrNotFound)

	// Every type: stored as [] and read back as [].
	late := store.PortalSession{ID: event.NewID(event.PrefixPortal, base), TenantID: tid, KeyHash: []byte{1, 2},
		LinkHash: []byte("link-2"), CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	require.NoError(t, s.CreatePortalSession(ctx, late))
	got, err := s.OpenPortalSession(ctx, late.LinkHash, []byte("session-3"), late.ExpiresAt)
	require.ErrorIs(t, err, store.ErrConflict, "expired at its ExpiresAt")
	require.True(t, got.OpenedAt.IsZero(), "an expired link is not opened")
	require.Equal(t, []string{}, got.EventTypes)

	// A day after both expired, a new session prunes them.
	next := store.PortalSession{ID: event.NewID(event.PrefixPortal, base), TenantID: tid, KeyHash: []byte{1, 2},
		LinkHash: []byte("link-3"), CreatedAt: base.Add(time.Hour + store.PortalPruneAfter + time.Second)}
	next.ExpiresAt = next.CreatedAt.Add(time.Hour)
	require.NoError(t, s.CreatePortalSession(ctx, next))
	require.ErrorIs(t, errOf(s.PortalSessionByHash(ctx, []byte("session-1"))), store.ErrNotFound, "pruned")
	require.ErrorIs(t, errOf(s.OpenPortalSession(ctx, late.LinkHash, []byte("s"), next.CreatedAt)), store.ErrNotFound, "pruned")
	_, err = s.OpenPortalSession(ctx, next.LinkHash, []byte("session-4"), next.CreatedAt)
	require.NoError(t, err)
}
