package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/testkit"
)

// mirrorStatus is the mirror_status of a collection.
func (b *bundle) mirrorStatus(name string) *client.MirrorStatus {
	b.t.Helper()
	return mirrorStatusAt(b.t, b.client, name)
}

func mirrorStatusAt(t *testing.T, c *client.Client, name string) *client.MirrorStatus {
	t.Helper()
	col, err := c.GetCollection(context.Background(), name)
	require.NoError(t, err)
	require.NotNil(t, col.MirrorStatus, "a collection with a mirror shows mirror_status")
	return col.MirrorStatus
}

// mirrorCaughtUp waits until every change of the collection is in its
// mirror table.
func (b *bundle) mirrorCaughtUp(name string) {
	b.t.Helper()
	var m *client.MirrorStatus
	eventually(b.t, func() bool { m = b.mirrorStatus(name); return m.State == "ok" && m.Lag == 0 }, "mirror never caught up: %+v", &m)
}

// setupMirror starts a server whose customers collection is mirrored
// into customers_mirror of dsn, with its first n customers in the mirror.
func setupMirror(t *testing.T, dsn string, n int) *bundle {
	t.Helper()
	b := setup(t)
	syncSetup(t, b, mirrorSpec(dsn, "customers_mirror"))
	_, err := b.client.SendEvents(context.Background(), client.EventBatch{Events: customerStream(n, 1)})
	require.NoError(t, err)
	b.settled()
	b.mirrorCaughtUp("customers")
	return b
}

// mirrorSpec is the customers spec's mirror into table of dsn.
func mirrorSpec(dsn, table string) map[string]any {
	return map[string]any{"mirror": map[string]any{
		"dsn": dsn, "table": table, "create": true,
		"columns": []any{
			map[string]any{"name": "name", "value": "record.name"},
			map[string]any{"name": "plan", "value": "record.plan"},
			map[string]any{"name": "doc", "value": "record", "type": "jsonb"},
		},
	}}
}

// customerStream makes n changes over 10 keys, in version order: updates,
// merges and deletes, starting at version from.
func customerStream(n, from int) []client.EventCreate {
	var out []client.EventCreate
	for i := range n {
		v, id := from+i, fmt.Sprintf("k%d", i%10)
		switch i % 7 {
		case 3:
			out = append(out, client.EventCreate{Type: "customer.deleted", Data: json.RawMessage(fmt.Sprintf(`{"id": %q, "updated_at": %d}`, id, v))})
		case 5:
			out = append(out, client.EventCreate{Type: "customer.patched", Data: json.RawMessage(fmt.Sprintf(`{"id": %q, "updated_at": %d, "plan": "p%d"}`, id, v, v))})
		default:
			out = append(out, client.EventCreate{Type: "customer.updated", Data: json.RawMessage(fmt.Sprintf(`{"id": %q, "updated_at": %d, "name": "n%d"}`, id, v, v))})
		}
	}
	return out
}

// requireMirrorEqual checks the mirror table holds exactly the live
// records of the collection, each row written by the record's last change.
func requireMirrorEqual(t *testing.T, c *client.Client, dsn, table, name string) {
	t.Helper()
	ctx := context.Background()
	want := map[string]client.Record{}
	page, err := c.ListRecords(ctx, name, client.RecordListOptions{ListOptions: client.ListOptions{Limit: 1000}})
	require.NoError(t, err)
	for _, r := range page.Data {
		want[r.Key] = r
	}
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id, doc::text, hookline_seq FROM `+table)
	require.NoError(t, err)
	got := map[string]bool{}
	for rows.Next() {
		var (
			id, doc string
			seq     int64
		)
		require.NoError(t, rows.Scan(&id, &doc, &seq))
		r, ok := want[id]
		require.True(t, ok, "row %s is not a live record (a deleted record came back)", id)
		require.JSONEq(t, string(r.Data), doc, "row %s", id)
		require.Equal(t, r.Seq, seq, "row %s was written by the record's last change", id)
		got[id] = true
	}
	require.NoError(t, rows.Err())
	require.Len(t, got, len(want), "every live record has its row (0 lost)")
}

// mirrorFault makes a mirror table unavailable until the returned func
// is called (or the test ends).
type mirrorFault struct {
	name string
	// via routes the mirror's DSN (through a proxy the fault stops).
	via   func(t *testing.T, dsn string) (string, func() func())
	state string // what mirror_status shows during the fault
}

// once makes restore idempotent and runs it when the test ends, so a
// failed assertion cannot leave the table locked (which would block the
// schema's cleanup).
func once(t *testing.T, restore func()) func() {
	var done bool
	f := func() {
		if !done {
			done = true
			restore()
		}
	}
	t.Cleanup(f)
	return f
}

// TestMirrorOutage makes the mirror table unavailable while events flow
// (over 1.5 s; an unreachable database until the mirror has backed off as
// far as a 3 s outage takes it): every event is applied to the collection
// and its changes feed while the table is still unavailable, the sync
// subscription's circuit stays closed, the mirror falls behind and says
// so, and once the table is back it catches up within seconds and equals
// the collection.
func TestMirrorOutage(t *testing.T) {
	const outage = 3 * time.Second
	faults := []mirrorFault{
		{
			name: "table locked", state: "catching_up",
			via: func(t *testing.T, dsn string) (string, func() func()) {
				return dsn, func() func() {
					ctx := context.Background()
					conn, err := pgx.Connect(ctx, dsn)
					require.NoError(t, err)
					tx, err := conn.Begin(ctx)
					require.NoError(t, err)
					_, err = tx.Exec(ctx, `LOCK TABLE customers_mirror IN ACCESS EXCLUSIVE MODE`)
					require.NoError(t, err)
					return once(t, func() {
						_ = tx.Rollback(ctx)
						_ = conn.Close(ctx)
					})
				}
			},
		},
		{
			name: "database unreachable", state: "failing",
			via: func(t *testing.T, dsn string) (string, func() func()) {
				px := newProxy(t, dsn)
				return px.dsn, func() func() {
					px.cut()
					return once(t, func() { px.restore(t) })
				}
			},
		},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			direct := testkit.PostgresSchema(t)
			dsn, fault := f.via(t, direct)
			b := setupMirror(t, dsn, 10)
			ctx := context.Background()
			before := testkit.LastChange(t, b.client, "customers")

			restore := fault()
			down := time.Now()
			stream := customerStream(30, 11)
			pace := time.NewTicker(outage / 2 / time.Duration(len(stream))) // a steady flow over half the outage
			defer pace.Stop()
			for _, e := range stream {
				_, err := b.client.SendEvent(ctx, e)
				require.NoError(t, err)
				<-pace.C
			}
			// Every event is applied while the table is still unavailable:
			// the fault lasts until these checks are done.
			b.settled()
			// Every delivery succeeded: each event was applied, or found
			// stale behind a newer version of its record that arrived
			// first (deliveries run concurrently and reuse ten keys), so
			// the changes number up to len(stream), not exactly that.
			failed, err := b.client.ListDeliveries(ctx, client.DeliveryListOptions{Status: client.DeliveryFailed})
			require.NoError(t, err)
			require.Empty(t, failed.Data, "no sync delivery failed during the outage")
			applied := testkit.LastChange(t, b.client, "customers")
			require.Greater(t, applied, before, "events applied to the collection and its changes feed during the outage")
			require.LessOrEqual(t, applied, before+int64(len(stream)))
			subs, err := b.client.ListSubscriptions(ctx, client.ListOptions{})
			require.NoError(t, err)
			require.Equal(t, "closed", subs.Data[0].Circuit, "the sync subscription's circuit stays closed")
			m := b.mirrorStatus("customers")
			require.Equal(t, f.state, m.State, "%+v", m)
			require.Positive(t, m.Lag, "the mirror is behind: %+v", m)
			if f.state == "failing" {
				t.Logf("during the outage: %+v", *m)
				require.Contains(t, m.LastError, `write mirror table "customers_mirror": `)
				require.NotNil(t, m.FailingSince)
				require.NotNil(t, m.RetryAt)
			}

			if f.state == "failing" {
				// The outage lasts until the mirror has backed off as far
				// as an outage of that length takes it: failed again and
				// again until its next try is due outage after its first
				// failure.
				eventually(t, func() bool {
					m = b.mirrorStatus("customers")
					return m.State == "failing" && m.FailingSince != nil && m.RetryAt != nil &&
						m.RetryAt.Sub(m.FailingSince.Time) >= outage
				}, "the mirror did not back off during the outage: %+v", &m)
			}
			restore()
			back := time.Now()
			t.Logf("%s for %s; %d events applied meanwhile", f.name, back.Sub(down).Round(time.Millisecond), len(stream))
			eventually(t, func() bool { m = b.mirrorStatus("customers"); return m.State == "ok" && m.Lag == 0 }, "mirror never caught up: %+v", &m)
			caughtUp := time.Since(back)
			t.Logf("%s: mirror caught up %s after the table returned", f.name, caughtUp.Round(time.Millisecond))
			require.Less(t, caughtUp, 7*time.Second, "the mirror retries at most ~6 s apart")
			require.Equal(t, applied, m.Seq)
			require.Empty(t, m.LastError)
			require.Nil(t, m.FailingSince)
			requireMirrorEqual(t, b.client, direct, "customers_mirror", "customers")
		})
	}
}

// TestMirrorResumesAfterRestart: a server killed while its mirror is
// behind resumes from the mirror's cursor when it starts again.
func TestMirrorResumesAfterRestart(t *testing.T) {
	t.Parallel()
	direct := testkit.PostgresSchema(t)
	px := newProxy(t, direct)
	b := setupMirror(t, px.dsn, 20)
	ctx := context.Background()
	cursor := b.mirrorStatus("customers").Seq

	px.cut()
	_, err := b.client.SendEvents(ctx, client.EventBatch{Events: customerStream(25, 21)})
	require.NoError(t, err)
	b.settled()
	// The 25 events reuse ten keys and are applied concurrently, so one
	// may reach its record after a newer version and change nothing:
	// the lag is the changes made, up to 25.
	changes := testkit.LastChange(t, b.client, "customers") - cursor
	require.Positive(t, changes)
	require.LessOrEqual(t, changes, int64(25))
	eventually(t, func() bool { return b.mirrorStatus("customers").State == "failing" }, "mirror never failed")
	b.restart(true)

	m := b.mirrorStatus("customers")
	require.Equal(t, cursor, m.Seq, "the cursor survives the crash")
	require.Equal(t, changes, m.Lag)
	require.Equal(t, "failing", m.State, "still failing: the database is still unreachable")
	px.restore(t)
	b.mirrorCaughtUp("customers")
	requireMirrorEqual(t, b.client, direct, "customers_mirror", "customers")
}

// TestMirrorOnTwoNodes: two nodes share a collection with a mirror; one
// writes the table at a time, and when one is killed the other carries
// on. The events are delivered by both nodes at once, so one may reach
// the collection after a newer version of its record and change nothing
// (stale): the test waits for the deliveries to settle and reads how
// many changes they made, rather than expecting one per event.
func TestMirrorOnTwoNodes(t *testing.T) {
	t.Parallel()
	dsn := testkit.PostgresSchema(t)
	a, b := startNode(t, dsn, "a"), startNode(t, dsn, "b")
	ca, cb := client.New(a.url, clusterKey), client.New(b.url, clusterKey)
	ctx := context.Background()
	var spec client.CollectionSpec
	require.NoError(t, json.Unmarshal([]byte(customersSpec), &spec))
	spec.Mirror = &client.CollectionMirror{DSN: dsn, Table: "customers_mirror", Create: true,
		Columns: []client.MirrorColumn{{Name: "doc", Value: "record", Type: "jsonb"}}}
	_, err := ca.CreateCollection(ctx, spec)
	require.NoError(t, err)
	_, err = ca.CreateSubscription(ctx, client.SubscriptionCreate{Destination: &client.SubDest{Kind: "sync", Collection: "customers"}})
	require.NoError(t, err)

	stream := customerStream(60, 1)
	for i, e := range stream[:40] {
		c := ca
		if i%2 == 1 {
			c = cb
		}
		_, err := c.SendEvent(ctx, e)
		require.NoError(t, err)
	}
	caughtUp := func(c *client.Client, n int64) {
		t.Helper()
		require.Eventually(t, func() bool {
			m := mirrorStatusAt(t, c, "customers")
			return m.State == "ok" && m.Seq >= n && m.Lag == 0
		}, 30*time.Second, 20*time.Millisecond, "mirror caught up to %d", n)
	}
	testkit.Settled(t, cb)
	before := testkit.LastChange(t, cb, "customers")
	require.Positive(t, before)
	caughtUp(cb, before)
	requireMirrorEqual(t, cb, dsn, "customers_mirror", "customers")

	a.app.Kill()
	for _, e := range stream[40:] {
		_, err := cb.SendEvent(ctx, e)
		require.NoError(t, err)
	}
	testkit.Settled(t, cb)
	after := testkit.LastChange(t, cb, "customers")
	require.Greater(t, after, before, "the node left applies the events sent after the kill")
	caughtUp(cb, after)
	requireMirrorEqual(t, cb, dsn, "customers_mirror", "customers")
}

// TestMirrorPassesOverRefusedRows: a row the table refuses (a value that
// does not cast to its column) is passed over and counted, and does not
// hold up the changes after it; the record's next change writes its row.
func TestMirrorPassesOverRefusedRows(t *testing.T) {
	t.Parallel()
	dsn := testkit.PostgresSchema(t)
	b := setup(t)
	syncSetup(t, b, map[string]any{"mirror": map[string]any{
		"dsn": dsn, "table": "customers_mirror", "create": true,
		"columns": []any{
			map[string]any{"name": "n", "value": "record.n", "type": "bigint"},
			map[string]any{"name": "doc", "value": "record", "type": "jsonb"},
		},
	}})
	ctx := context.Background()
	send := func(evs ...string) {
		t.Helper()
		var batch client.EventBatch
		for _, e := range evs {
			batch.Events = append(batch.Events, client.EventCreate{Type: "customer.updated", Data: json.RawMessage(e)})
		}
		_, err := b.client.SendEvents(ctx, batch)
		require.NoError(t, err)
		b.settled()
		b.mirrorCaughtUp("customers")
	}
	send(`{"id": "a", "updated_at": 1, "n": 1}`, `{"id": "bad", "updated_at": 1, "n": "not a number"}`, `{"id": "c", "updated_at": 1, "n": 3}`)
	m := b.mirrorStatus("customers")
	require.Equal(t, int64(1), m.RowsFailed, "%+v", m)
	require.Contains(t, m.LastRowError, `record "bad"`)
	require.Contains(t, m.LastRowError, "bigint")

	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	keys := func() []string {
		var out []string
		require.NoError(t, conn.QueryRow(ctx, `SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM customers_mirror`).Scan(&out))
		return out
	}
	require.Equal(t, []string{"a", "c"}, keys(), "the rows around the refused one are written")

	send(`{"id": "bad", "updated_at": 2, "n": 2}`)
	require.Equal(t, []string{"a", "bad", "c"}, keys(), "the record's next change writes its row")
	require.Equal(t, int64(1), b.mirrorStatus("customers").RowsFailed)
	requireMirrorEqual(t, b.client, dsn, "customers_mirror", "customers")
}

// TestMirrorTableDroppedIsCreatedAgain: with create, a mirror table
// dropped while in use is created again at the next try and gets the
// changes from then on.
func TestMirrorTableDroppedIsCreatedAgain(t *testing.T) {
	t.Parallel()
	dsn := testkit.PostgresSchema(t)
	b := setupMirror(t, dsn, 10)
	ctx := context.Background()

	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `DROP TABLE customers_mirror`)
	require.NoError(t, err)
	b.send("customer.updated", `{"id": "new", "updated_at": 1, "name": "after the drop"}`)
	b.settled()
	b.mirrorCaughtUp("customers")
	var ids []string
	require.NoError(t, conn.QueryRow(ctx, `SELECT array_agg(id) FROM customers_mirror`).Scan(&ids))
	require.Equal(t, []string{"new"}, ids, "the table is back with the changes since")
	require.Zero(t, b.mirrorStatus("customers").RowsFailed)
}
