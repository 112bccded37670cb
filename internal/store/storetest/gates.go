package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

func testRunGates(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	one := []store.RunGate{{Kind: store.GateConcurrency, Key: "cus_1", Limit: 1}}
	limited := func(err error) *store.LimitError {
		t.Helper()
		var le *store.LimitError
		require.ErrorAs(t, err, &le)
		require.ErrorIs(t, err, store.ErrLimited)
		return le
	}
	r1 := newRun(a, "run_1")
	write(t, s.SaveRun, store.RunSave{Run: r1, Gates: one})
	r2 := newRun(a, "run_2")
	r2.CreatedAt, r2.UpdatedAt = base.Add(time.Second), base.Add(time.Second)
	le := limited(s.SaveRun(ctx, store.RunSave{Run: r2, Gates: one}))
	require.Equal(t, store.GateConcurrency, le.Kind)
	require.ErrorIs(t, errOf(s.GetRun(ctx, a, "run_2")), store.ErrNotFound, "a refused save writes nothing")
	other := newRun(a, "run_other")
	write(t, s.SaveRun, store.RunSave{Run: other, Gates: []store.RunGate{{Kind: store.GateConcurrency, Key: "cus_2", Limit: 1}}})

	// Queued in arrival order: run_2, then run_3.
	r2.Status = store.RunQueued
	write(t, s.SaveRun, store.RunSave{Run: r2, Gates: one})
	r3 := newRun(a, "run_3")
	r3.Status, r3.CreatedAt = store.RunQueued, base.Add(2*time.Second)
	write(t, s.SaveRun, store.RunSave{Run: r3, Gates: one})
	id, err := s.OldestQueued(ctx, a, "onboard", "cus_1")
	require.NoError(t, err)
	require.Equal(t, "run_2", id)
	_, err = s.OldestQueued(ctx, a, "onboard", "cus_2")
	require.ErrorIs(t, err, store.ErrNotFound)

	// run_1 ends: its slot frees; run_3 may not pass run_2.
	r1.Status = store.RunSucceeded
	write(t, s.SaveRun, store.RunSave{Run: r1, Rev: 1})
	r3.Status = store.RunRunning
	limited(s.SaveRun(ctx, store.RunSave{Run: r3, Rev: 1, Gates: one}))
	r2.Status = store.RunRunning
	write(t, s.SaveRun, store.RunSave{Run: r2, Rev: 1, Gates: one})
	id, err = s.OldestQueued(ctx, a, "onboard", "cus_1")
	require.NoError(t, err)
	require.Equal(t, "run_3", id, "run_2 left the queue")
	r2.Status = store.RunCancelled
	write(t, s.SaveRun, store.RunSave{Run: r2, Rev: 2})
	write(t, s.SaveRun, store.RunSave{Run: r3, Rev: 1, Gates: one})

	// Throttle: two starts a minute; the oldest slot says when one frees.
	throttle := func(now time.Time) []store.RunGate {
		return []store.RunGate{{Kind: store.GateThrottle, Key: "", Limit: 2, Since: now.Add(-time.Minute)}}
	}
	for i, at := range []time.Duration{0, 10 * time.Second} {
		r := newRun(a, fmt.Sprintf("run_t%d", i))
		r.Workflow, r.UpdatedAt = "report", base.Add(at)
		write(t, s.SaveRun, store.RunSave{Run: r, Gates: throttle(r.UpdatedAt)})
	}
	late := newRun(a, "run_t2")
	late.Workflow, late.UpdatedAt = "report", base.Add(30*time.Second)
	le = limited(s.SaveRun(ctx, store.RunSave{Run: late, Gates: throttle(late.UpdatedAt)}))
	require.Equal(t, store.GateThrottle, le.Kind)
	require.Equal(t, base, le.Oldest)
	late.UpdatedAt = base.Add(61 * time.Second)
	write(t, s.SaveRun, store.RunSave{Run: late, Gates: throttle(late.UpdatedAt)})

	// Pruning forgets throttle slots taken before its cutoff.
	_, err = s.PruneRuns(ctx, base.Add(time.Minute), 100)
	require.NoError(t, err)
	wide := []store.RunGate{{Kind: store.GateThrottle, Limit: 2, Since: base.Add(-time.Hour)}}
	again := newRun(a, "run_t3")
	again.Workflow, again.UpdatedAt = "report", base.Add(62*time.Second)
	write(t, s.SaveRun, store.RunSave{Run: again, Gates: wide}) // only run_t2's slot is left
	fourth := newRun(a, "run_t4")
	fourth.Workflow = "report"
	limited(s.SaveRun(ctx, store.RunSave{Run: fourth, Gates: wide}))
}

// testRunGateRace starts runs of one concurrency key from many
// goroutines at once: no more than the limit get in.
func testRunGateRace(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	var in atomic.Int32
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			err := s.SaveRun(ctx, store.RunSave{Run: newRun(a, fmt.Sprintf("run_%d", i)),
				Gates: []store.RunGate{{Kind: store.GateConcurrency, Key: "k", Limit: 3}}})
			switch {
			case err == nil:
				in.Add(1)
			case !errors.Is(err, store.ErrLimited):
				t.Errorf("save: %v", err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int32(3), in.Load())
}

func testDebounce(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, _, task := workflowEvent(t, s, "digest#debounce")
	_, err := s.GetDebounce(ctx, a, "digest", "cus_1")
	require.ErrorIs(t, err, store.ErrNotFound)
	first := store.Debounce{TenantID: a, Workflow: "digest", Key: "cus_1", EventID: "evt_1", DueAt: base.Add(time.Minute)}
	require.NoError(t, s.Debounce(ctx, first, task("dlv_1", first.DueAt)))
	second := first
	second.EventID, second.DueAt = "evt_2", base.Add(2*time.Minute)
	require.NoError(t, s.Debounce(ctx, second, task("dlv_2", second.DueAt)))
	got, err := s.GetDebounce(ctx, a, "digest", "cus_1")
	require.NoError(t, err)
	require.Equal(t, second, got, "the latest event replaces the one before")
	tk, err := s.GetTask(ctx, a, "dlv_1")
	require.NoError(t, err)
	require.Equal(t, first.DueAt, tk.NextAt, "each event's task is added")

	require.NoError(t, s.ClearDebounce(ctx, first))
	_, err = s.GetDebounce(ctx, a, "digest", "cus_1")
	require.NoError(t, err, "a replaced event clears nothing")
	require.NoError(t, s.ClearDebounce(ctx, second))
	_, err = s.GetDebounce(ctx, a, "digest", "cus_1")
	require.ErrorIs(t, err, store.ErrNotFound)

	// Pruning forgets records long due (their check found them gone).
	require.NoError(t, s.Debounce(ctx, first, task("dlv_3", first.DueAt)))
	_, err = s.PruneRuns(ctx, base.Add(time.Hour), 100)
	require.NoError(t, err)
	_, err = s.GetDebounce(ctx, a, "digest", "cus_1")
	require.ErrorIs(t, err, store.ErrNotFound)
}
