package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/collection/capture"
	"github.com/hookline/hookline/internal/testkit"
)

type dbEvent struct {
	Type string
	Data struct {
		Op        string
		Table     string
		Record    map[string]any
		OldRecord map[string]any `json:"old_record"`
	}
}

// dbEvents lists the events of a source, oldest first.
func (b *bundle) dbEvents(source string) []dbEvent {
	b.t.Helper()
	var out []dbEvent
	opts := client.EventListOptions{Source: source}
	opts.Limit = 1000
	for {
		page, err := b.client.ListEvents(context.Background(), opts)
		require.NoError(b.t, err)
		for _, e := range page.Data {
			var de dbEvent
			de.Type = e.Type
			require.NoError(b.t, json.Unmarshal(e.Data, &de.Data))
			out = append(out, de)
		}
		if page.NextCursor == "" {
			break
		}
		opts.Cursor = page.NextCursor
	}
	// Lists are newest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// captureDB is a PostgreSQL schema of a change-capture test's own, with
// a connection to it; the outbox schemas its sources install
// (schema+"_outbox", schema+"_other") are dropped when the test ends.
type captureDB struct {
	t      *testing.T
	dsn    string
	schema string
	conn   *pgx.Conn
}

// setupCaptureDB makes the schema and runs ddl in it; it skips the test
// without HOOKLINE_TEST_POSTGRES.
func setupCaptureDB(t *testing.T, ddl string) *captureDB {
	t.Helper()
	dsn := testkit.PostgresSchema(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	schema := conn.Config().RuntimeParams["search_path"]
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+"_outbox CASCADE; DROP SCHEMA IF EXISTS "+schema+"_other CASCADE")
			c.Close(context.Background())
		}
	})
	t.Cleanup(func() { conn.Close(context.Background()) })
	_, err = conn.Exec(ctx, ddl)
	require.NoError(t, err)
	return &captureDB{t: t, dsn: dsn, schema: schema, conn: conn}
}

// source is the body of a postgres source named name capturing table of
// the schema into the schema's outbox.
func (db *captureDB) source(name, table string) string {
	db.t.Helper()
	body, err := json.Marshal(map[string]any{"name": name, "postgres": map[string]any{
		"dsn": db.dsn, "tables": []string{db.schema + "." + table}, "schema": db.schema + "_outbox"}})
	require.NoError(db.t, err)
	return string(body)
}

// triggers counts the triggers of source on table.
func (db *captureDB) triggers(source, table string) int {
	db.t.Helper()
	var n int
	require.NoError(db.t, db.conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2`,
		pgx.Identifier{db.schema, table}.Sanitize(), "hookline_"+source).Scan(&n))
	return n
}

// TestChangeCapture: row changes of a real PostgreSQL table arrive as
// events in order per row, nothing is missed or reordered across a crash
// of the server, and a row larger than NOTIFY's 8,000 bytes arrives whole.
func TestChangeCapture(t *testing.T) {
	db := setupCaptureDB(t, `CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL, note text)`)
	dsn, schema, conn := db.dsn, db.schema, db.conn
	ctx := context.Background()

	b := setup(t)
	status, out := b.do("POST", "/v1/sources", fmt.Sprintf(`{"name": "nodb", "postgres": {"dsn": %q, "tables": ["missing"], "schema": %q}}`, dsn, schema+"_outbox"))
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
	require.Contains(t, out["error"].(map[string]any)["message"], "missing")
	status, out = b.do("POST", "/v1/sources", fmt.Sprintf(`{"name": "shopdb", "postgres": {"dsn": %q, "tables": [%q], "schema": %q}}`,
		strings.Replace(dsn, "postgres://postgres@", "postgres://postgres:pw@", 1), schema+".items", schema+"_outbox"))
	require.Equal(t, http.StatusCreated, status, "%v", out)
	require.NotContains(t, fmt.Sprint(out), ":pw@", "DSN redacted")
	require.Equal(t, map[string]any{"kind": "postgres"}, out["verification"], "the wire format names the source kind as a verification kind")
	require.Equal(t, "", out["path"])
	status, _ = b.do("POST", "/in/shopdb", `{}`)
	require.Equal(t, http.StatusNotFound, status, "a postgres source takes no HTTP requests")

	_, err := conn.Exec(ctx, `INSERT INTO items VALUES (1, 0, 'a'), (2, 0, 'b')`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `UPDATE items SET n = 1 WHERE id = 1`)
	require.NoError(t, err)
	big := strings.Repeat("x", 20_000)
	_, err = conn.Exec(ctx, `UPDATE items SET note = $1 WHERE id = 2`, big)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `DELETE FROM items WHERE id = 1`)
	require.NoError(t, err)
	var evs []dbEvent
	eventually(t, func() bool { evs = b.dbEvents("shopdb"); return len(evs) == 5 }, "changes not captured")
	require.Equal(t, "db.items.inserted", evs[0].Type)
	require.Equal(t, map[string]any{"id": 1.0, "n": 0.0, "note": "a"}, evs[0].Data.Record)
	require.Nil(t, evs[0].Data.OldRecord)
	require.Equal(t, "db.items.updated", evs[2].Type)
	require.Equal(t, 0.0, evs[2].Data.OldRecord["n"])
	require.Equal(t, 1.0, evs[2].Data.Record["n"])
	require.Equal(t, big, evs[3].Data.Record["note"], "a row larger than 8 KB arrives whole")
	require.Equal(t, "db.items.deleted", evs[4].Type)
	require.Nil(t, evs[4].Data.Record)
	require.Equal(t, 1.0, evs[4].Data.OldRecord["id"])

	// Writers keep changing rows while the server crashes and restarts.
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		updates [4]atomic.Int64
	)
	for w := range 4 {
		id := 10 + w
		_, err := conn.Exec(ctx, `INSERT INTO items VALUES ($1, 0, '')`, id)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close(ctx)
			pace := time.NewTicker(time.Millisecond) // a steady stream of changes, not a flood
			defer pace.Stop()
			for !stop.Load() {
				n := updates[w].Add(1)
				if _, err := c.Exec(ctx, `UPDATE items SET n = $1 WHERE id = $2`, n, id); err != nil {
					t.Error(err)
					return
				}
				<-pace.C
			}
		}()
	}
	// progress waits until the writers made another n changes.
	progress := func(n int64) {
		var from int64
		for w := range updates {
			from += updates[w].Load()
		}
		eventually(t, func() bool {
			var now int64
			for w := range updates {
				now += updates[w].Load()
			}
			return now >= from+n
		}, "writers stalled")
	}
	progress(100)
	b.restart(true)
	progress(100)
	b.restart(true)
	progress(100)
	stop.Store(true)
	wg.Wait()

	want := 0
	for w := range updates {
		want += int(updates[w].Load()) + 1 // the insert
	}
	eventually(t, func() bool { evs = b.dbEvents("shopdb"); return len(evs) == 5+want }, "after restarts, every change arrives exactly once (have %d, want %d)", len(evs), 5+want)
	last := map[float64]float64{}
	for _, e := range evs[5:] {
		id := e.Data.Record["id"].(float64)
		n := e.Data.Record["n"].(float64)
		if prev, ok := last[id]; ok {
			require.Equal(t, prev+1, n, "row %v: changes in order, none missing", id)
		}
		last[id] = n
	}

	// Deleting the source removes its triggers, and only its own: another
	// installation's source of the same name, with its own outbox schema,
	// keeps its trigger (as do those of other runs of this test sharing
	// the database).
	_, err = conn.Exec(ctx, `CREATE TABLE others (id int PRIMARY KEY)`)
	require.NoError(t, err)
	require.NoError(t, capture.Install(ctx, capture.Config{DSN: dsn, Source: "shopdb", Owner: "ten_other",
		Tables: []string{schema + ".others"}, Schema: schema + "_other"}))
	triggers := func(table string) int { return db.triggers("shopdb", table) }
	require.Equal(t, 1, triggers("items"))
	src, err := b.client.ListSources(ctx, client.ListOptions{})
	require.NoError(t, err)
	for _, s := range src.Data {
		if s.Name == "shopdb" {
			require.NoError(t, b.client.DeleteSource(ctx, s.ID))
		}
	}
	require.Zero(t, triggers("items"))
	require.Equal(t, 1, triggers("others"))
}

// TestChangeCaptureTwoInstallations: a second Hookline installation that
// picks the source name and outbox schema a first one captures in the same
// database is refused, instead of dropping the first's triggers and taking
// its changes.
func TestChangeCaptureTwoInstallations(t *testing.T) {
	t.Parallel()
	db := setupCaptureDB(t, `CREATE TABLE items (id int PRIMARY KEY); CREATE TABLE orders (id int PRIMARY KEY)`)
	source := func(table string) string { return db.source("shopdb", table) }

	first, second := setup(t), setup(t)
	status, out := first.do("POST", "/v1/sources", source("items"))
	require.Equal(t, http.StatusCreated, status, "%v", out)
	status, out = second.do("POST", "/v1/sources", source("orders"))
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
	require.Contains(t, out["error"].(map[string]any)["message"], "captured by another owner")

	require.Equal(t, 1, db.triggers("shopdb", "items"), "the first keeps its trigger")
	_, err := db.conn.Exec(context.Background(), `INSERT INTO items VALUES (1)`)
	require.NoError(t, err)
	eventually(t, func() bool { return len(first.dbEvents("shopdb")) == 1 }, "the first captures its change")
}

// TestDuplicateSourceNameKeepsTriggers: creating a postgres source under a
// name that is taken is 409 before anything is installed, so the triggers
// of the source that has the name stay, and the new tables get none.
func TestDuplicateSourceNameKeepsTriggers(t *testing.T) {
	db := setupCaptureDB(t, `CREATE TABLE items (id int PRIMARY KEY); CREATE TABLE orders (id int PRIMARY KEY)`)
	triggers := func(table string) int { return db.triggers("dupdb", table) }

	b := setup(t)
	body := func(table string) string { return db.source("dupdb", table) }
	status, out := b.do("POST", "/v1/sources", body("items"))
	require.Equal(t, http.StatusCreated, status, "%v", out)
	require.Equal(t, 1, triggers("items"))

	status, out = b.do("POST", "/v1/sources", body("orders"))
	require.Equal(t, http.StatusConflict, status, "%v", out)
	require.Equal(t, 1, triggers("items"), "the source that has the name keeps its trigger")
	require.Zero(t, triggers("orders"), "nothing was installed for the refused source")

	// Renaming another source to the taken name is refused the same way.
	status, out = b.do("POST", "/v1/sources", `{"name": "web", "verification": {"kind": "none"}}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	status, out = b.do("PATCH", "/v1/sources/"+out["id"].(string), `{"name": "dupdb"}`)
	require.Equal(t, http.StatusConflict, status, "%v", out)
	require.Equal(t, 1, triggers("items"))
}
