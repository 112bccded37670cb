package collection_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/event"
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
