package engine_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/store"
)

// claimAsOther claims every due task as another node would.
func (r *rig) claimAsOther(t *testing.T) []store.Task {
	t.Helper()
	ts, err := r.store.ClaimTasks(t.Context(), store.Claim{Now: time.Now(), Lease: time.Hour, Owner: "node-other", Limit: 100})
	require.NoError(t, err)
	return ts
}

// TestLeaseRenewedWhileRunning: an attempt that runs five times as long
// as the lease keeps its task: the lease is renewed every third of it,
// no one else can claim the task meanwhile, and it runs once.
func TestLeaseRenewedWhileRunning(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// No poll in the meantime: one would claim the task again for this
		// node whenever its lease lapsed, hiding a renewal that failed.
		r := newRig(t, func(c *engine.Config) { c.PollInterval = time.Hour })
		r.takes("dst_1", 5*testLease)
		id := r.send(t, "dst_1")[0]
		for range 4 {
			time.Sleep(testLease)
			synctest.Wait()
			got := r.task(t, id)
			require.Equal(t, store.StatusPending, got.Status)
			require.GreaterOrEqual(t, got.LeaseUntil.Sub(time.Now()), testLease*2/3, "renewed within a third of the lease")
			require.Empty(t, r.claimAsOther(t), "no one else can claim it")
		}
		time.Sleep(testLease)
		synctest.Wait()
		got := r.task(t, id)
		require.Equal(t, store.StatusSucceeded, got.Status)
		require.Equal(t, 1, got.Attempts)
		require.Len(t, r.attempts(), 1)
	})
}

// TestStopReleasesLeases: Stop gives up the leases of queued tasks and,
// once its grace period has cut them off, of running ones, so another
// node claims them at once instead of when the leases would expire.
// Kill, a crash, leaves them: they wait for the lease.
func TestStopReleasesLeases(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		stop func(*testing.T, *engine.Engine)
		// claimable is how long after the stop another node can claim
		// the tasks.
		claimable time.Duration
	}{
		{name: "stop", stop: func(t *testing.T, e *engine.Engine) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			require.NoError(t, e.Stop(ctx))
		}},
		{name: "kill", stop: func(_ *testing.T, e *engine.Engine) { e.Kill() }, claimable: testLease},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, nil)
				r.setLimits("dst_1", engine.Limits{MaxInFlight: 1})
				r.takes("dst_1", time.Hour) // until cut off
				ids := r.sendN(t, "dst_1", 3)
				synctest.Wait()
				require.Len(t, r.attempts(), 1, "one runs, two are queued")

				stopped := time.Now()
				tc.stop(t, r.eng)
				require.LessOrEqual(t, time.Since(stopped), time.Second, "the running attempt is cut off after the grace period")
				if tc.claimable > 0 {
					require.Empty(t, r.claimAsOther(t), "a crashed node's leases hold")
					time.Sleep(tc.claimable - time.Since(stopped))
				}
				var claimed []string
				for _, c := range r.claimAsOther(t) {
					claimed = append(claimed, c.ID)
					require.Zero(t, c.Attempts, "the cut-off attempt is not recorded")
				}
				require.ElementsMatch(t, ids, claimed)
			})
		})
	}
}
