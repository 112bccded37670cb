package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/testkit"
)

// BenchmarkSync measures events/s from POST /v1/events/batch until every
// sync task has applied its event to a collection (SQLite, fsync'd), over
// 1,000 keys, and with a PostgreSQL mirror when HOOKLINE_TEST_POSTGRES is
// set (until the mirror has caught up too). Run with:
//
//	go test ./internal/app -run '^$' -bench Sync -benchtime 20000x
func BenchmarkSync(b *testing.B) {
	b.Run("collection", func(b *testing.B) { benchSync(b, "") })
	b.Run("mirror", func(b *testing.B) {
		benchSync(b, testkit.PostgresDSN(b))
	})
}

func benchSync(b *testing.B, mirrorDSN string) {
	_, c, _ := benchApp(b, func(cfg *config.Config) {
		cfg.AllowPrivateNetworks = false
		if mirrorDSN != "" {
			cfg.AllowNetworks = []string{"127.0.0.0/8", "::1/128"} // the test database
		}
	})
	ctx := context.Background()
	spec := client.CollectionSpec{Name: "customers", Key: "data.id", Version: "data.v",
		Events: map[string]client.CollectionOp{"customer.updated": {Op: "upsert"}}}
	if mirrorDSN != "" {
		table := fmt.Sprintf("hl_bench_%d", time.Now().UnixNano())
		spec.Mirror = &client.CollectionMirror{DSN: mirrorDSN, Table: table, Create: true,
			Columns: []client.MirrorColumn{{Name: "name", Value: "record.name"}}}
		defer dropTable(mirrorDSN, table)
	}
	if _, err := c.CreateCollection(ctx, spec); err != nil {
		b.Fatal(err)
	}
	if _, err := c.CreateSubscription(ctx, client.SubscriptionCreate{Destination: &client.SubDest{Kind: "sync", Collection: "customers"}}); err != nil {
		b.Fatal(err)
	}
	var batches []client.EventBatch
	for i := 0; i < b.N; i += 1000 {
		var batch client.EventBatch
		for j := i; j < min(i+1000, b.N); j++ {
			data, _ := json.Marshal(map[string]any{"id": j % 1000, "v": j, "name": strings.Repeat("n", 40)})
			batch.Events = append(batch.Events, client.EventCreate{Type: "customer.updated", Data: data})
		}
		batches = append(batches, batch)
	}
	b.ResetTimer()
	for _, batch := range batches {
		if _, err := c.SendEvents(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	pollUntil(5*time.Millisecond, func() bool {
		page, err := c.ListDeliveries(ctx, client.DeliveryListOptions{Status: client.DeliveryPending, ListOptions: client.ListOptions{Limit: 1}})
		if err != nil {
			b.Fatal(err)
		}
		return len(page.Data) == 0
	})
	if mirrorDSN != "" {
		// The mirror follows on its own: done when it holds every change.
		pollUntil(5*time.Millisecond, func() bool {
			col, err := c.GetCollection(ctx, "customers")
			if err != nil {
				b.Fatal(err)
			}
			if m := col.MirrorStatus; m.LastError != "" && m.State != "ok" {
				b.Fatal(m.LastError)
			}
			return col.MirrorStatus.State == "ok"
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func dropTable(dsn, table string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, "DROP TABLE IF EXISTS "+table)
}

// BenchmarkCapture measures row changes/s from INSERT on a watched
// PostgreSQL table to committed db.{table}.inserted events in Hookline's
// SQLite store (HOOKLINE_TEST_POSTGRES). Run with:
//
//	go test ./internal/app -run '^$' -bench Capture -benchtime 20000x
func BenchmarkCapture(b *testing.B) {
	dsn := testkit.PostgresDSN(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("hl_bench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema+"; CREATE TABLE "+schema+".items (id int PRIMARY KEY, name text)"); err != nil {
		b.Fatal(err)
	}
	defer conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE; DROP SCHEMA IF EXISTS "+schema+"_outbox CASCADE")

	_, c, _ := benchApp(b, nil)
	if _, err := c.CreateSource(ctx, client.SourceCreate{Name: "db", Postgres: &client.SourcePostgres{
		DSN: dsn, Tables: []string{schema + ".items"}, Schema: schema + "_outbox"}}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += 1000 {
		if _, err := conn.Exec(ctx, "INSERT INTO "+schema+".items SELECT g, 'item ' || g FROM generate_series($1::int, $2::int) g", i, min(i+1000, b.N)-1); err != nil {
			b.Fatal(err)
		}
	}
	poll := time.NewTicker(10 * time.Millisecond) // the benchmark's end is polled, not awaited
	defer poll.Stop()
	var n int
	for n < b.N {
		<-poll.C
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+schema+"_outbox.capture_outbox").Scan(&n); err != nil {
			b.Fatal(err)
		}
		n = b.N - n // rows still in the outbox are not emitted yet
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "changes/s")
}
