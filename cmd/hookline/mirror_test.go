package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/testkit"
)

func TestMirrorText(t *testing.T) {
	t.Parallel()
	at := client.TimeOf(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	retry := client.TimeOf(at.Add(5 * time.Second))
	for _, tc := range []struct {
		in   client.MirrorStatus
		want string
	}{
		{client.MirrorStatus{State: "ok"}, "ok"},
		{client.MirrorStatus{State: "catching_up", Lag: 12}, "catching up, 12 behind"},
		{client.MirrorStatus{State: "failing", Lag: 3, LastError: "connection refused", FailingSince: &at, RetryAt: &retry},
			"failing since 2026-11-27T10:00:00Z, 3 behind, next try 2026-11-27T10:00:05Z: connection refused"},
		{client.MirrorStatus{State: "ok", RowsFailed: 2, LastRowError: `record "7" (change 9): bad value`},
			`ok; 2 rows passed over, last: record "7" (change 9): bad value`},
	} {
		require.Equal(t, tc.want, mirrorText(&tc.in))
	}
}

// TestKillDashNineMirrorResumes runs the real binary with a mirror whose
// table is locked, so the mirror falls behind while the collection keeps
// applying; SIGKILLs it; starts it again; and unlocks the table: the
// mirror resumes from its cursor and ends equal to the collection.
//
// How many changes a batch of events makes depends on the order of its
// deliveries, which run concurrently: an event delivered after a newer
// version of its record is stale and changes nothing. So the test counts
// changes in the changes feed once every delivery has settled, not one
// per event sent.
func TestKillDashNineMirrorResumes(t *testing.T) {
	t.Parallel()
	bin := buildHookline(t)
	dsn := testkit.PostgresSchema(t)
	srv := startServe(t, bin, "mirror", "--data-dir", filepath.Join(t.TempDir(), "data"))
	c := srv.client()
	ctx := context.Background()
	_, err := c.CreateCollection(ctx, client.CollectionSpec{Name: "customers", Key: "data.id", Version: "data.v",
		Events: map[string]client.CollectionOp{"customer.deleted": {Op: "delete"}, "customer.*": {Op: "upsert"}},
		Mirror: &client.CollectionMirror{DSN: dsn, Table: "customers_mirror", Create: true}})
	require.NoError(t, err)
	_, err = c.CreateSubscription(ctx, client.SubscriptionCreate{Destination: &client.SubDest{Kind: "sync", Collection: "customers"}})
	require.NoError(t, err)
	send := func(from, n int) {
		t.Helper()
		var batch client.EventBatch
		for v := from; v < from+n; v++ {
			typ := "customer.updated"
			if v%5 == 0 {
				typ = "customer.deleted"
			}
			batch.Events = append(batch.Events, client.EventCreate{Type: typ, Data: json.RawMessage(fmt.Sprintf(`{"id": "k%d", "v": %d}`, v%7, v))})
		}
		_, err := c.SendEvents(ctx, batch)
		require.NoError(t, err)
	}
	status := func() *client.MirrorStatus {
		col, err := c.GetCollection(ctx, "customers")
		require.NoError(t, err)
		require.NotNil(t, col.MirrorStatus)
		return col.MirrorStatus
	}
	send(1, 20)
	testkit.Settled(t, c)
	cursor := testkit.LastChange(t, c, "customers")
	require.Positive(t, cursor)
	require.Eventually(t, func() bool { m := status(); return m.State == "ok" && m.Lag == 0 && m.Seq == cursor }, 20*time.Second, 20*time.Millisecond)

	lock, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer lock.Close(ctx)
	tx, err := lock.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `LOCK TABLE customers_mirror IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)
	send(21, 25)
	testkit.Settled(t, c)
	applied := testkit.LastChange(t, c, "customers")
	require.Greater(t, applied, cursor, "the collection applies while its mirror table is locked")
	m := status()
	require.Equal(t, cursor, m.Seq)
	require.Equal(t, applied-cursor, m.Lag)

	srv.signal(t, os.Kill)
	srv.restart(t)
	m = status()
	require.Equal(t, cursor, m.Seq, "the cursor survived SIGKILL")
	require.Equal(t, applied-cursor, m.Lag)

	require.NoError(t, tx.Rollback(ctx))
	back := time.Now()
	require.Eventually(t, func() bool { m = status(); return m.State == "ok" && m.Lag == 0 }, 20*time.Second, 20*time.Millisecond,
		"the mirror catches up from its cursor")
	t.Logf("mirror caught up %s after the table was unlocked", time.Since(back).Round(time.Millisecond))

	page, err := c.ListRecords(ctx, "customers", client.RecordListOptions{ListOptions: client.ListOptions{Limit: 100}})
	require.NoError(t, err)
	want := map[string]string{}
	for _, r := range page.Data {
		want[r.Key] = string(r.Data)
	}
	rows, err := lock.Query(ctx, `SELECT id, data::text FROM customers_mirror`)
	require.NoError(t, err)
	got := map[string]string{}
	for rows.Next() {
		var id, data string
		require.NoError(t, rows.Scan(&id, &data))
		got[id] = data
	}
	require.NoError(t, rows.Err())
	require.Len(t, got, len(want), "one row per live record")
	for k, v := range want {
		require.JSONEq(t, v, got[k], "row %s", k)
	}
}
