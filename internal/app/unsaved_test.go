package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/testkit"
)

// newAnsweringReceiver answers every delivery 200 with a 4 KiB body (so
// that recording it needs room) after calling first once, on the first
// one; its counts are the deliveries by event id.
func newAnsweringReceiver(t *testing.T, first func()) *receiver {
	var once sync.Once
	body := strings.Repeat("r", 4<<10)
	return startReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		once.Do(first)
		w.Write([]byte(body))
	})
}

// requireOnceEach waits until every event was delivered and checks none
// was delivered twice and each delivery succeeded.
func requireOnceEach(t *testing.T, rc *receiver, c *client.Client, ids []string) {
	t.Helper()
	ctx := context.Background()
	require.Eventually(t, func() bool {
		page, err := c.ListDeliveries(ctx, client.DeliveryListOptions{Status: client.DeliverySucceeded, ListOptions: client.ListOptions{Limit: 1000}})
		return err == nil && len(page.Data) == len(ids)
	}, 30*time.Second, 20*time.Millisecond, "every delivery recorded as succeeded")
	seen := rc.counts()
	for _, id := range ids {
		require.Equal(t, 1, seen[id], "event %s delivered once: its result was kept and saved, not sent again", id)
	}
}

// sendBatch publishes evs in one commit, before any of them is delivered.
func sendBatch(t *testing.T, c *client.Client, evs []client.EventCreate) []string {
	t.Helper()
	res, err := c.SendEvents(context.Background(), client.EventBatch{Events: evs})
	require.NoError(t, err)
	ids := make([]string, 0, len(evs))
	for _, r := range res.Results {
		require.Nil(t, r.Error)
		ids = append(ids, r.ID)
	}
	return ids
}

// TestResultSavedAfterDiskFull: the receiver takes deliveries while the
// SQLite disk is full (max_page_count, for real: the attempt rows do not
// fit). Their results are held and saved once room is made, and nothing
// is sent twice, although the tasks' leases (500 ms here) ran out
// meanwhile.
func TestResultSavedAfterDiskFull(t *testing.T) {
	t.Parallel()
	const lease = 500 * time.Millisecond
	b := setup(t, withLease(lease))
	ctx := context.Background()
	st, ok := b.app.Store().(*sqlite.Store)
	require.True(t, ok)
	var fillErr error
	rc := newAnsweringReceiver(t, func() {
		// The first delivery fills the disk before it is answered: no
		// result of this batch can be recorded.
		fillErr = st.LimitGrowth(ctx, 0)
	})
	b.endpoint(client.EndpointCreate{URL: rc.URL, MaxInFlight: 20})
	const n = 20
	pad := strings.Repeat("p", 4<<10)
	evs := make([]client.EventCreate, n)
	for i := range evs {
		evs[i] = client.EventCreate{Type: "order.created", Data: json.RawMessage(fmt.Sprintf(`{"i":%d,"pad":%q}`, i, pad))}
	}
	ids := sendBatch(t, b.client, evs)
	require.Eventually(t, func() bool { return gaugeValue(t, b.url, "hookline_results_unsaved") == n }, 20*time.Second, 20*time.Millisecond,
		"every result held while the disk is full")
	require.NoError(t, fillErr)
	// Past the leases the tasks were claimed with, by the store's clock
	// (SQLite's is this process's), and renewed since: a task whose result
	// were dropped would have lost its lease and run again by now.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(b.cfg.DataDir, "hookline.db")+"?mode=ro")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	leases := func() (pending int, first, last int64) {
		require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*), coalesce(min(lease_until), 0), coalesce(max(lease_until), 0)
			FROM tasks WHERE status = 'pending'`).Scan(&pending, &first, &last))
		return pending, first, last
	}
	pending, _, claimed := leases()
	require.Equal(t, n, pending, "every task pending while its result is held")
	require.Eventually(t, func() bool {
		pending, first, _ := leases()
		return pending == n && time.Now().UnixMilli() > claimed && first > claimed
	}, 20*time.Second, 20*time.Millisecond, "the leases the tasks were claimed with expired, and every task's lease was renewed since")
	require.Equal(t, float64(n), gaugeValue(t, b.url, "hookline_results_unsaved"), "still held")
	for _, id := range ids {
		require.Equal(t, 1, rc.counts()[id], "event %s not sent again while its result waits", id)
	}
	made := time.Now()
	require.NoError(t, st.LimitGrowth(ctx, -1))
	requireOnceEach(t, rc, b.client, ids)
	t.Logf("%d held results saved %s after room was made", n, time.Since(made).Round(time.Millisecond))
	require.Zero(t, gaugeValue(t, b.url, "hookline_results_unsaved"))
}

// TestResultSavedAfterDatabaseOutage: PostgreSQL goes away (every
// connection cut, new ones refused) just as the receiver answers; the
// results are held and saved once it is back, and nothing is sent twice,
// although the tasks' leases (500 ms here) ran out meanwhile.
func TestResultSavedAfterDatabaseOutage(t *testing.T) {
	t.Parallel()
	dsn := testkit.PostgresSchema(t)
	px := newProxy(t, dsn)
	rc := newAnsweringReceiver(t, px.cut)
	const lease = 500 * time.Millisecond
	n := startNode(t, px.dsn, "solo", withLease(lease))
	c := client.New(n.url, clusterKey)
	ctx := context.Background()
	_, err := c.CreateEndpoint(ctx, client.EndpointCreate{URL: rc.URL, MaxInFlight: 20})
	require.NoError(t, err)
	evs := make([]client.EventCreate, 20)
	for i := range evs {
		evs[i] = client.EventCreate{Type: "order.created", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
	}
	ids := sendBatch(t, c, evs)
	require.Eventually(t, func() bool { return gaugeValue(t, n.url, "hookline_results_unsaved") == float64(len(ids)) },
		20*time.Second, 20*time.Millisecond, "every result held while the database is away")
	// Past the leases, by the database's clock: with the database away
	// nothing renews them, so a task whose result were dropped would run
	// again as soon as it is back.
	pg, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { pg.Close(context.Background()) })
	require.Eventually(t, func() bool {
		var pending, leased int
		err := pg.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE lease_until > now()) FROM tasks WHERE status = 'pending'`).Scan(&pending, &leased)
		require.NoError(t, err)
		return pending == len(ids) && leased == 0
	}, 20*time.Second, 20*time.Millisecond, "every task's lease expired while its result is held")
	for _, id := range ids {
		require.Equal(t, 1, rc.counts()[id], "event %s not sent again while its result waits", id)
	}
	back := time.Now()
	px.restore(t)
	requireOnceEach(t, rc, c, ids)
	t.Logf("%d held results saved %s after the database came back", len(ids), time.Since(back).Round(time.Millisecond))
}
