package collection_test

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// BenchmarkApply measures events/s applied to a collection on SQLite, one
// event per transaction as the sync executor does it, over 1,000 keys.
func BenchmarkApply(b *testing.B) {
	benchApply(b, nil)
}

// BenchmarkApplyMirror is BenchmarkApply with a PostgreSQL mirror table
// (HOOKLINE_TEST_POSTGRES), until the mirror, which follows on its own,
// has caught up.
func BenchmarkApplyMirror(b *testing.B) {
	dsn := os.Getenv("HOOKLINE_TEST_POSTGRES")
	if dsn == "" {
		b.Skip("HOOKLINE_TEST_POSTGRES is not set")
	}
	benchApply(b, &collection.MirrorDef{DSN: dsn, Table: "hl_bench_mirror", Create: true, Columns: []collection.ColumnDef{
		{Name: "name", Value: "record.name"}, {Name: "n", Value: "record.n", Type: "bigint"},
	}})
}

func benchApply(b *testing.B, mirror *collection.MirrorDef) {
	s := openStore(b)
	svc := collection.New(collection.Config{Store: s})
	defer svc.Close()
	svc.Start(context.Background())
	in := customers("bench")
	in.Mirror = mirror
	spec := newCollection(b, s, in)
	evs := make([]*event.Event, b.N)
	for i := range evs {
		evs[i] = ev("customer.updated", map[string]any{"id": i % 1000, "version": i, "name": fmt.Sprint("n", i), "n": i})
	}
	ctx := context.Background()
	b.ResetTimer()
	for _, e := range evs {
		if _, _, err := svc.ApplyEvent(ctx, spec, e); err != nil {
			b.Fatal(err)
		}
	}
	if mirror != nil {
		poll := time.NewTicker(5 * time.Millisecond) // polling the benchmark's end, not a test condition
		defer poll.Stop()
		for {
			c, err := s.GetCollection(ctx, tenant, in.Name)
			require.NoError(b, err)
			m, _, err := svc.MirrorStatus(ctx, c)
			require.NoError(b, err)
			require.Empty(b, m.LastError)
			if m.State == collection.MirrorOK {
				break
			}
			<-poll.C
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if mirror != nil {
		b.StopTimer()
		require.NoError(b, dropMirror(mirror.DSN, mirror.Table))
	}
}

func dropMirror(dsn, table string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP TABLE IF EXISTS "+table)
	return err
}

// BenchmarkSyncExecute measures one sync attempt as the engine runs it
// (Executor.Execute: its lookups, the change and its transaction, one at a
// time) on SQLite: allocations and CPU per attempt, which the load of the
// machine does not move as it moves events/s.
func BenchmarkSyncExecute(b *testing.B) {
	s := openStore(b)
	svc := collection.New(collection.Config{Store: s})
	defer svc.Close()
	in := customers("bench_sync")
	newCollection(b, s, in)
	ctx := context.Background()
	now := time.Now()
	sub := store.Subscription{ID: "sub_bench", TenantID: tenant, Kind: collection.Kind, DestinationID: in.Name,
		EventTypes: []string{"customer.updated"}, Enabled: true, CreatedAt: now, UpdatedAt: now}
	require.NoError(b, s.CreateSubscription(ctx, sub))
	x := svc.Executor()
	tasks := make([]*store.Task, b.N)
	for i := range tasks {
		e := ev("customer.updated", map[string]any{"id": i, "version": i, "name": fmt.Sprint("n", i), "n": i})
		tasks[i] = &store.Task{ID: fmt.Sprint("dlv_", i), TenantID: tenant, EventID: e.ID, Kind: collection.Kind, DestinationID: sub.ID, Event: e}
	}
	var before, after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	for _, t := range tasks {
		if out := x.Execute(ctx, t); out.Err != nil {
			b.Fatal(out.Err)
		}
	}
	b.StopTimer()
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
}
