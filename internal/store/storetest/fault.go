package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

// testFaults: CheckWrite passes on a working store, and an accept whose
// deadline has passed fails as store.ErrUnavailable and commits nothing;
// under a deadline still ahead it commits as usual.
func testFaults(t *testing.T, s store.Store) {
	ctx := context.Background()
	require.NoError(t, s.CheckWrite(ctx))
	require.NoError(t, s.CheckWrite(ctx), "CheckWrite leaves nothing behind that a second one trips on")

	tid, ep := acme(t, s)
	late := newEvent(tid, "order.created", "late", base, ep.ID)
	late.IdempotentSince = base.Add(-time.Hour)
	dead, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	_, err := s.AcceptEvents(dead, []store.NewEvent{late})
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.NotErrorIs(t, err, store.ErrCommitUnknown, "nothing was sent: the outcome is known")
	require.ErrorIs(t, errOf(s.GetEvent(ctx, tid, late.Event.ID)), store.ErrNotFound, "a failed accept commits nothing")

	ahead, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := s.AcceptEvents(ahead, []store.NewEvent{late})
	require.NoError(t, err)
	require.False(t, res[0].Duplicate, "the key of the failed accept was not taken")
	require.NoError(t, errOf(s.GetEvent(ctx, tid, late.Event.ID)))
	require.NoError(t, s.CheckWrite(ahead), "a deadline on the check is fine")
}
