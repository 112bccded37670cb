package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
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

// settleStall is how long settled waits for one more delivery to settle.
const settleStall = 15 * time.Second

// settled waits until no delivery is pending or retrying. It fails when
// deliveries stop settling, not when many settle slowly: on a loaded
// machine a batch takes longer than any fixed deadline, yet each
// delivery still settles within seconds of the one before.
func settled(t *testing.T, c *client.Client) {
	t.Helper()
	left := func() int {
		n := 0
		for _, st := range []string{client.DeliveryPending, client.DeliveryRetrying} {
			page, err := c.ListDeliveries(context.Background(), client.DeliveryListOptions{Status: st,
				ListOptions: client.ListOptions{Limit: 1000}})
			require.NoError(t, err)
			n += len(page.Data)
		}
		return n
	}
	tick := time.NewTicker(20 * time.Millisecond) // between polls
	defer tick.Stop()
	last, progressed := left(), time.Now()
	for last > 0 {
		if time.Since(progressed) > settleStall {
			t.Fatalf("deliveries stopped settling: %d pending or retrying, none settled for %s", last, settleStall)
		}
		<-tick.C
		if n := left(); n != last {
			last, progressed = n, time.Now()
		}
	}
}

// lastChange is the collection's last change, read from its changes feed.
func lastChange(t *testing.T, c *client.Client, name string) int64 {
	t.Helper()
	var after int64
	for {
		page, err := c.ListChanges(context.Background(), name, strconv.FormatInt(after, 10), 1000, 0)
		require.NoError(t, err)
		n, err := strconv.ParseInt(page.Cursor, 10, 64)
		require.NoError(t, err)
		if n == after {
			return after
		}
		after = n
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
	dsn := testSchema(t)
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
	settled(t, c)
	cursor := lastChange(t, c, "customers")
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
	settled(t, c)
	applied := lastChange(t, c, "customers")
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

// testSchema returns a DSN on a fresh schema of HOOKLINE_TEST_POSTGRES,
// or skips the test.
func testSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("HOOKLINE_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("HOOKLINE_TEST_POSTGRES is not set; set it to a PostgreSQL DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "hl_test_" + hex.EncodeToString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err == nil {
			_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	})
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
