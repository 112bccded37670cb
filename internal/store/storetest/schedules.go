package storetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

func testSchedules(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	daily := store.Schedule{TenantID: a, Workflow: "digest", Key: "0 9 * * *|UTC", NextAt: base.Add(time.Hour)}
	hourly := store.Schedule{TenantID: a, Workflow: "digest", Key: "0 * * * *|UTC", NextAt: base.Add(10 * time.Minute)}
	other := store.Schedule{TenantID: b, Workflow: "report", Key: "0 9 * * *|UTC", NextAt: base.Add(2 * time.Hour)}
	for _, sc := range []store.Schedule{daily, hourly, other} {
		require.NoError(t, s.PlanSchedule(ctx, sc))
	}
	again := daily
	again.NextAt = base.Add(48 * time.Hour)
	require.NoError(t, s.PlanSchedule(ctx, again), "planning a planned schedule is no error")
	list, err := s.ListSchedules(ctx, a)
	require.NoError(t, err)
	require.Equal(t, []store.Schedule{hourly, daily}, list, "by workflow and key; a schedule planned again keeps its time")

	due, err := s.DueSchedules(ctx, base.Add(90*time.Minute), 10)
	require.NoError(t, err)
	require.Equal(t, []store.Schedule{hourly, daily}, due, "every tenant's, earliest first, none not yet due")
	due, err = s.DueSchedules(ctx, base.Add(3*time.Hour), 1)
	require.NoError(t, err)
	require.Equal(t, []store.Schedule{hourly}, due, "up to the limit")

	ok, err := s.AdvanceSchedule(ctx, hourly, base.Add(70*time.Minute))
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.AdvanceSchedule(ctx, hourly, base.Add(70*time.Minute))
	require.NoError(t, err)
	require.False(t, ok, "advanced from a time it is no longer due at")
	list, err = s.ListSchedules(ctx, a)
	require.NoError(t, err)
	require.Equal(t, base.Add(70*time.Minute), list[0].NextAt)

	require.NoError(t, s.DeleteSchedule(ctx, a, "digest", daily.Key))
	require.NoError(t, s.DeleteSchedule(ctx, a, "digest", daily.Key), "deleting a missing schedule is no error")
	list, err = s.ListSchedules(ctx, a)
	require.NoError(t, err)
	require.Len(t, list, 1)
	list, err = s.ListSchedules(ctx, b)
	require.NoError(t, err)
	require.Equal(t, []store.Schedule{other}, list, "tenants are apart")
}

// testScheduleRace advances one schedule from the same time many times at
// once, as nodes sharing the database do: exactly one wins.
func testScheduleRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	sc := store.Schedule{TenantID: a, Workflow: "digest", Key: "* * * * *|UTC", NextAt: base}
	require.NoError(t, s.PlanSchedule(ctx, sc))
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ok, err := s.AdvanceSchedule(ctx, sc, base.Add(time.Minute))
			if err == nil && ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(1), wins.Load())
}
