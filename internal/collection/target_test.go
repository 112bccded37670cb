package collection_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/store"
)

// TestSyncTargetReused: the sync executor reuses a subscription it loaded
// for a while, so a deletion through another node shows once that time
// is over, and one through this process (Invalidate) at once.
func TestSyncTargetReused(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	clk := clock.NewManual(time.Now())
	svc := collection.New(collection.Config{Store: s, Clock: clk})
	t.Cleanup(svc.Close)
	in := customers("targets")
	newCollection(t, s, in)
	ctx := context.Background()
	x := svc.Executor()
	n := 0
	execute := func(subID string) (outcome string, permanent bool) {
		n++
		e := ev("customer.updated", map[string]any{"id": n, "version": n})
		out := x.Execute(ctx, &store.Task{ID: fmt.Sprint("dlv_", n), TenantID: tenant, EventID: e.ID, Kind: collection.Kind, DestinationID: subID, Event: e})
		return out.Attempt.Outcome, out.Permanent
	}
	// loadDeleted has subscription id loaded here, then deleted in the
	// store only, as another node would.
	loadDeleted := func(id string) {
		t.Helper()
		require.NoError(t, s.CreateSubscription(ctx, store.Subscription{ID: id, TenantID: tenant, Kind: collection.Kind, DestinationID: in.Name,
			EventTypes: []string{"customer.updated"}, Enabled: true, CreatedAt: clk.Now(), UpdatedAt: clk.Now()}))
		outcome, _ := execute(id)
		require.Equal(t, collection.Applied, outcome)
		require.NoError(t, s.DeleteSubscription(ctx, tenant, id))
		outcome, _ = execute(id)
		require.Equal(t, collection.Applied, outcome, "deleted elsewhere, still known here for a while")
	}

	loadDeleted("sub_a")
	svc.Invalidate("ten_other")
	outcome, _ := execute("sub_a")
	require.Equal(t, collection.Applied, outcome, "another tenant's change")
	svc.Invalidate(tenant)
	outcome, permanent := execute("sub_a")
	require.Equal(t, "subscription_deleted", outcome, "invalidated")
	require.True(t, permanent)

	loadDeleted("sub_b")
	clk.Advance(2 * time.Second)
	outcome, _ = execute("sub_b")
	require.Equal(t, "subscription_deleted", outcome, "loaded again once its time is over")
}
