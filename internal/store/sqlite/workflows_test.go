package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
)

// openWithTenant opens a store on a new database with tenant tenantID,
// closed when the test ends.
func openWithTenant(tb testing.TB, tenantID string, created time.Time) *Store {
	tb.Helper()
	box, err := secretbox.New(make([]byte, secretbox.KeySize))
	require.NoError(tb, err)
	s, err := Open(context.Background(), Config{Path: filepath.Join(tb.TempDir(), "hookline.db"), Box: box})
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	require.NoError(tb, s.CreateTenant(context.Background(), store.Tenant{ID: tenantID, Name: "acme", CreatedAt: created}))
	return s
}

// TestSaveRunsBatchFailures writes a batch of saves of which two fail, one
// after it wrote rows: the others commit, the failed ones leave nothing.
func TestSaveRunsBatchFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	at := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	s := openWithTenant(t, "ten_a", at)
	run := func(id string) store.Run {
		return store.Run{ID: id, TenantID: "ten_a", Workflow: "w", Version: 1, Status: store.RunRunning, EventID: "evt_" + id,
			State: []byte(`{}`), CreatedAt: at, UpdatedAt: at}
	}
	require.NoError(t, s.SaveRun(ctx, store.RunSave{Run: run("run_0")}))

	moved := run("run_0")
	moved.Status = store.RunSucceeded
	batch := []*pendingSave{
		{ctx: ctx, sv: store.RunSave{Run: run("run_1")}},
		// Updates run_0 and writes its step, then fails on its child,
		// whose id is taken.
		{ctx: ctx, sv: store.RunSave{Run: moved, Rev: 1, Steps: []store.RunStep{{Seq: 1, StepID: "s1", Kind: "set", Status: "succeeded",
			Attempts: 1, StartedAt: at}}, Children: []store.Run{run("run_1")}}},
		{ctx: ctx, sv: store.RunSave{Run: run("run_2")}},
		// run_1 was created by the first save of the batch.
		{ctx: ctx, sv: store.RunSave{Run: run("run_1")}},
	}
	s.saveRuns(ctx, batch)
	require.NoError(t, batch[0].err)
	require.ErrorIs(t, batch[1].err, store.ErrConflict)
	require.NoError(t, batch[2].err)
	require.ErrorIs(t, batch[3].err, store.ErrConflict)

	for _, id := range []string{"run_1", "run_2"} {
		got, err := s.GetRun(ctx, "ten_a", id)
		require.NoError(t, err)
		require.Equal(t, 1, got.Rev, id)
	}
	got, err := s.GetRun(ctx, "ten_a", "run_0")
	require.NoError(t, err)
	require.Equal(t, 1, got.Rev, "the failed save's update is undone")
	require.Equal(t, store.RunRunning, got.Status)
	steps, err := s.ListRunSteps(ctx, "ten_a", "run_0")
	require.NoError(t, err)
	require.Empty(t, steps, "the failed save's step is undone")
}

// BenchmarkSaveRuns is the run saves of W1's steady state: each op
// commits one batch of 32 saves, each moving a run on by one step (its
// state with a 1 KiB event, a step log entry, the task of the next
// step), fsync on. cpu-µs/save is the process's CPU time (user and
// system) per save, which the machine's other load moves less than the
// time per op.
func BenchmarkSaveRuns(b *testing.B) {
	ctx := context.Background()
	at := time.Now()
	s := openWithTenant(b, "ten_1", at)
	ev := event.Event{ID: "evt_1", TenantID: "ten_1", Type: "a.b", Source: "api", Data: []byte(`{}`), OccurredAt: at, CreatedAt: at}
	_, err := s.AcceptEvents(ctx, []store.NewEvent{{Event: ev}})
	require.NoError(b, err)
	const batch = 32
	data := `{"seq":1,"note":"` + strings.Repeat("x", 1000) + `"}`
	state := []byte(`{"event":{"id":"evt_1","type":"a.b","data":` + data + `},"vars":{"total":2},"steps":{"reserve":{"status":"succeeded",` +
		`"output":{"status":200,"body":{"reservation":"res_1"}}}},"current":"total","seq":2}`)
	runs := make([]store.Run, batch)
	for i := range runs {
		runs[i] = store.Run{ID: fmt.Sprintf("run_%d", i), TenantID: "ten_1", Workflow: "w", Version: 1, Status: store.RunRunning,
			EventID: "evt_1", State: state, CreatedAt: at, UpdatedAt: at}
		require.NoError(b, s.SaveRun(ctx, store.RunSave{Run: runs[i]}))
	}
	var before syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &before))
	b.ResetTimer()
	for n := range b.N {
		saves := make([]*pendingSave, batch)
		for i, r := range runs {
			now := time.Now()
			saves[i] = &pendingSave{ctx: ctx, sv: store.RunSave{Run: r, Rev: n + 1,
				Steps: []store.RunStep{{Seq: n + 2, StepID: "total", Kind: "set", Status: "succeeded", Attempts: 1,
					Input: []byte(data), Output: []byte(`{"total":2}`), StartedAt: now}},
				Tasks: []store.Task{{ID: event.NewID(event.PrefixDelivery, now), TenantID: "ten_1", EventID: "evt_1", EventType: "a.b",
					Kind: "workflow", DestinationID: r.ID, Status: store.StatusPending, NextAt: now, CreatedAt: now, UpdatedAt: now,
					LeaseFor: time.Minute, LeaseOwner: "node"}}}}
		}
		s.saveRuns(ctx, saves)
		for _, sv := range saves {
			if sv.err != nil {
				b.Fatal(sv.err)
			}
		}
	}
	b.StopTimer()
	var after syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &after))
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*batch), "cpu-µs/save")
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "saves/s")
}
