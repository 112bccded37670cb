package capture

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// waitTimeout bounds every wait for a condition in these tests.
const waitTimeout = 15 * time.Second

// bundle is what a capture test works with: a pool on the test database,
// a schema of its own for the watched tables (ts) and a Config whose outbox
// schema is also its own, so parallel tests never share triggers, outbox
// rows, channels or locks.
type bundle struct {
	pool *pgxpool.Pool
	ts   string
	cfg  Config
}

func setup(tb testing.TB) *bundle {
	tb.Helper()
	dsn := os.Getenv("HOOKLINE_TEST_POSTGRES")
	if dsn == "" {
		tb.Skip("HOOKLINE_TEST_POSTGRES is not set; set it to a PostgreSQL DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the capture tests")
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	suffix := fmt.Sprintf("%08x", rand.Uint32())
	b := &bundle{
		pool: pool,
		ts:   "capt_" + suffix,
		cfg: Config{
			DSN:          dsn,
			Source:       "shopdb",
			Schema:       "capo_" + suffix,
			PollInterval: 100 * time.Millisecond,
			Logger:       slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
		},
	}
	b.dropSchemaOnCleanup(tb, b.ts)
	b.dropSchemaOnCleanup(tb, b.cfg.Schema)
	b.exec(tb, `CREATE SCHEMA `+pgx.Identifier{b.ts}.Sanitize())
	return b
}

func (b *bundle) dropSchemaOnCleanup(tb testing.TB, schema string) {
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := b.pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
}

// table returns the qualified name of a test table, as Config.Tables wants.
func (b *bundle) table(name string) string { return b.ts + "." + name }

func (b *bundle) exec(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	_, err := b.pool.Exec(context.Background(), sql, args...)
	require.NoError(tb, err, sql)
}

func (b *bundle) count(tb testing.TB, sql string, args ...any) int {
	tb.Helper()
	var n int
	require.NoError(tb, b.pool.QueryRow(context.Background(), sql, args...).Scan(&n), sql)
	return n
}

// outboxRows counts the source's changes still in the outbox.
func (b *bundle) outboxRows(tb testing.TB) int {
	return b.count(tb, `SELECT count(*) FROM `+pgx.Identifier{b.cfg.Schema, outboxTable}.Sanitize()+` WHERE source = $1`, b.cfg.Source)
}

// triggers counts the triggers named for the source on a test table.
func (b *bundle) triggers(tb testing.TB, cfg Config, table string) int {
	return b.count(tb, `SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = $2`,
		pgx.Identifier{b.ts, table}.Sanitize(), triggerPrefix+cfg.Source)
}

// onTablesAB creates the test tables a and b and returns two configs of
// the bundle's source, the first watching a for ownerA, the second b for
// ownerB.
func (b *bundle) onTablesAB(tb testing.TB, ownerA, ownerB string) (Config, Config) {
	x, y := b.watch(tb, "a", "id int PRIMARY KEY"), b.watch(tb, "b", "id int PRIMARY KEY")
	x.Owner, y.Owner = ownerA, ownerB
	return x, y
}

// watch creates the test table name with columns and returns the
// bundle's config watching it alone.
func (b *bundle) watch(tb testing.TB, name, columns string) Config {
	b.exec(tb, `CREATE TABLE `+b.ts+`.`+name+` (`+columns+`)`)
	cfg := b.cfg
	cfg.Tables = []string{b.table(name)}
	return cfg
}

// run starts Run in the background and returns its stop function, which
// cancels it, waits for it and checks that it returned nil. Cleanup stops
// it too, before the schemas are dropped.
func run(tb testing.TB, cfg Config, emit Emit) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, emit) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("Run returned %v after cancel, want nil", err)
				}
			case <-time.After(waitTimeout):
				tb.Errorf("Run did not return within %s of cancel", waitTimeout)
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

// sink is an Emit target that records every call.
type sink struct {
	mu      sync.Mutex
	calls   [][]Change
	by      []string // by[i] names the watcher of calls[i]
	changed chan struct{}
}

func newSink() *sink { return &sink{changed: make(chan struct{})} }

func (s *sink) emit(ctx context.Context, cs []Change) error { return s.emitAs("")(ctx, cs) }

// emitAs returns an Emit that records its calls as made by watcher name.
func (s *sink) emitAs(name string) Emit {
	return func(_ context.Context, cs []Change) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.calls = append(s.calls, slices.Clone(cs))
		s.by = append(s.by, name)
		close(s.changed)
		s.changed = make(chan struct{})
		return nil
	}
}

// all returns every change received, duplicates included, in arrival order.
func (s *sink) all() []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Change
	for _, c := range s.calls {
		out = append(out, c...)
	}
	return out
}

// watchers returns, per watcher name, how many changes it emitted.
func (s *sink) watchers() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for i, c := range s.calls {
		out[s.by[i]] += len(c)
	}
	return out
}

// waitFor waits until cond holds for the changes received so far and
// returns them.
func (s *sink) waitFor(tb testing.TB, what string, cond func([]Change) bool) []Change {
	tb.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cs := s.all(); cond(cs) {
			return cs
		}
		select {
		case <-ch:
		case <-deadline.C:
			tb.Fatalf("timed out after %s waiting for %s; got %d changes", waitTimeout, what, len(s.all()))
		}
	}
}

// atLeast is a waitFor condition: n changes, duplicates included.
func atLeast(n int) func([]Change) bool {
	return func(cs []Change) bool { return len(cs) >= n }
}

// eventually polls cond until it holds or the deadline passes.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", waitTimeout, what)
		}
		<-tick.C
	}
}
