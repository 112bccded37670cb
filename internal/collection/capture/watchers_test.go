package capture_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/collection/capture"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/ingest"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
)

// watchersBundle is what a Watchers test works with: a SQLite store with
// one tenant, a pool on the watched PostgreSQL database and a schema of
// its own there for the watched table and one for the outbox.
type watchersBundle struct {
	store  store.Store
	pool   *pgxpool.Pool
	dsn    string
	tables string // schema of the watched table
	outbox string // schema of the outbox
	events *published
}

const watchTenant = "ten_watch"

func setupWatchers(t *testing.T) *watchersBundle {
	t.Helper()
	dsn := os.Getenv("HOOKLINE_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("HOOKLINE_TEST_POSTGRES is not set; set it to a PostgreSQL DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the capture tests")
	}
	ctx := context.Background()
	st := sqlitetest.Open(t, store.Tenant{ID: watchTenant, Name: "watch", CreatedAt: time.Now()})

	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	suffix := fmt.Sprintf("%08x", rand.Uint32())
	b := &watchersBundle{store: st, pool: pool, dsn: dsn, tables: "wt_" + suffix, outbox: "wo_" + suffix, events: &published{changed: make(chan struct{})}}
	for _, schema := range []string{b.tables, b.outbox} {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
			}
		})
	}
	_, err = pool.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{b.tables}.Sanitize()+`; CREATE TABLE `+
		pgx.Identifier{b.tables, "items"}.Sanitize()+` (id int PRIMARY KEY)`)
	require.NoError(t, err)
	return b
}

// watchers returns Watchers on the bundle's store that record what they
// publish as made by node. Its Publish refuses once ctx is done, as the
// engine's does.
func (b *watchersBundle) watchers(t *testing.T, node string) *capture.Watchers {
	w := capture.NewWatchers(capture.WatchersConfig{
		Sources: b.store,
		Capture: func(src store.Source) (capture.Config, bool) {
			parsed, err := ingest.Parse(src)
			if err != nil {
				return capture.Config{}, false
			}
			cfg, ok := parsed.Capture()
			cfg.PollInterval = 50 * time.Millisecond
			return cfg, ok
		},
		Publish: func(ctx context.Context, evs []event.Event, window time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			b.events.add(node, evs, window)
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	t.Cleanup(w.Stop)
	return w
}

// addSource stores an enabled postgres source watching the bundle's table.
func (b *watchersBundle) addSource(t *testing.T, name string) {
	t.Helper()
	verification := ingest.PostgresVerification(b.dsn)
	rules, err := json.Marshal(ingest.Rules{Postgres: &ingest.PostgresRule{Tables: []string{b.tables + ".items"}, Schema: b.outbox}})
	require.NoError(t, err)
	now := time.Now()
	require.NoError(t, b.store.CreateSource(context.Background(), store.Source{ID: event.NewID(event.PrefixSource, now), TenantID: watchTenant,
		Name: name, Enabled: true, Verification: verification, Config: rules, CreatedAt: now, UpdatedAt: now}))
}

// insert adds a row to the watched table once the source's trigger is in
// place (a watcher installs it when it starts).
func (b *watchersBundle) insert(t *testing.T, source string, id int) {
	t.Helper()
	ctx := context.Background()
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2`,
			pgx.Identifier{b.tables, "items"}.Sanitize(), "hookline_"+source).Scan(&n))
		return n == 1
	}, 15*time.Second, 20*time.Millisecond, "the watcher installs its trigger")
	_, err := b.pool.Exec(ctx, `INSERT INTO `+pgx.Identifier{b.tables, "items"}.Sanitize()+` VALUES ($1)`, id)
	require.NoError(t, err)
}

// published records the events Publish was given.
type published struct {
	mu      sync.Mutex
	events  []event.Event
	nodes   []string // nodes[i] published events[i]
	windows []time.Duration
	changed chan struct{}
}

func (p *published) add(node string, evs []event.Event, window time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range evs {
		p.events = append(p.events, e)
		p.nodes = append(p.nodes, node)
		p.windows = append(p.windows, window)
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// wait waits until n events were published and returns the nth, and who
// published it.
func (p *published) wait(t *testing.T, n int) (event.Event, string, time.Duration) {
	t.Helper()
	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		if len(p.events) >= n {
			defer p.mu.Unlock()
			return p.events[n-1], p.nodes[n-1], p.windows[n-1]
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for event %d", n)
		}
	}
}

// TestWatchersFollowSourcesAndContext: a source created after Start is
// watched once Changed is called (not only at the 30 s rescan); its
// changes are published as events of the source's tenant, keyed for
// deduplication; when the context of the node that emits ends, its
// watcher stops and another node's takes over.
func TestWatchersFollowSourcesAndContext(t *testing.T) {
	t.Parallel()
	b := setupWatchers(t)
	ctx1, stop1 := context.WithCancel(context.Background())
	defer stop1()
	first := b.watchers(t, "first")
	first.Start(ctx1)

	b.addSource(t, "shopdb")
	first.Changed()
	b.insert(t, "shopdb", 1)
	ev, node, window := b.events.wait(t, 1)
	require.Equal(t, "first", node)
	require.Equal(t, watchTenant, ev.TenantID)
	require.Equal(t, "shopdb", ev.Source)
	require.Equal(t, "db.items.inserted", ev.Type)
	require.JSONEq(t, fmt.Sprintf(`{"schema": %q, "table": "items", "op": "inserted", "record": {"id": 1}, "old_record": null}`, b.tables), string(ev.Data))
	require.True(t, strings.HasPrefix(ev.IdempotencyKey, "capture:shopdb:"), ev.IdempotencyKey)
	require.True(t, strings.HasSuffix(ev.IdempotencyKey, ":1"), "keyed by the change's outbox id: %s", ev.IdempotencyKey)
	require.Equal(t, capture.Dedup, window)

	second := b.watchers(t, "second")
	second.Start(context.Background())
	stop1()
	b.insert(t, "shopdb", 2)
	ev, node, _ = b.events.wait(t, 2)
	require.Equal(t, "second", node, "the first node's watcher stopped with its context")
	require.JSONEq(t, fmt.Sprintf(`{"schema": %q, "table": "items", "op": "inserted", "record": {"id": 2}, "old_record": null}`, b.tables), string(ev.Data))

	first.Stop() // returns: its watchers ended with the context
	second.Stop()
	second.Stop() // a second Stop does nothing
}
