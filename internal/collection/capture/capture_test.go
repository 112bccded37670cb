package capture

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

func TestCaptureInsertUpdateDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cfg := b.watch(t, "items", "id int PRIMARY KEY, name text NOT NULL, n int NOT NULL")
	ctx := t.Context()
	require.NoError(t, Install(ctx, cfg))
	s := newSink()
	run(t, cfg, s.emit)

	b.exec(t, `INSERT INTO `+b.ts+`.items VALUES (1, 'a', 0)`)
	b.exec(t, `UPDATE `+b.ts+`.items SET n = 1 WHERE id = 1`)
	// One transaction, several changes of one row and of another.
	tx, err := b.pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `UPDATE `+b.ts+`.items SET name = 'b', n = 2 WHERE id = 1`)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `INSERT INTO `+b.ts+`.items VALUES (2, 'it''s "quoted"', 7)`)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `DELETE FROM `+b.ts+`.items WHERE id = 1`)
	require.NoError(t, err)
	require.NoError(t, tx.Commit(ctx))

	cs := s.waitFor(t, "5 changes", atLeast(5))
	require.Len(t, cs, 5)
	want := []struct {
		op, record, old string
	}{
		{OpInserted, `{"id":1,"name":"a","n":0}`, ``},
		{OpUpdated, `{"id":1,"name":"a","n":1}`, `{"id":1,"name":"a","n":0}`},
		{OpUpdated, `{"id":1,"name":"b","n":2}`, `{"id":1,"name":"a","n":1}`},
		{OpInserted, `{"id":2,"name":"it's \"quoted\"","n":7}`, ``},
		{OpDeleted, ``, `{"id":1,"name":"b","n":2}`},
	}
	for i, w := range want {
		c := cs[i]
		require.Equal(t, b.ts, c.Schema, "change %d", i)
		require.Equal(t, "items", c.Table, "change %d", i)
		require.Equal(t, w.op, c.Op, "change %d", i)
		require.Equal(t, "db.items."+w.op, c.EventType())
		requireJSON(t, w.record, c.Record, "change %d record", i)
		requireJSON(t, w.old, c.OldRecord, "change %d old_record", i)
		require.False(t, c.At.IsZero(), "change %d at", i)
		if i > 0 {
			require.Greater(t, c.ID, cs[i-1].ID, "ids in order")
			require.False(t, c.At.Before(cs[i-1].At), "at in order")
		}
	}
	eventually(t, "emitted changes deleted from the outbox", func() bool { return b.outboxRows(t) == 0 })
}

// requireJSON checks that got is the JSON document want, or nil when want
// is empty.
func requireJSON(t *testing.T, want string, got json.RawMessage, msgAndArgs ...any) {
	t.Helper()
	if want == "" {
		require.Nil(t, got, msgAndArgs...)
		return
	}
	require.JSONEq(t, want, string(got), msgAndArgs...)
}

type counterRow struct {
	ID  int `json:"id"`
	Seq int `json:"seq"`
}

// TestCaptureRestartMidStream stops and restarts the watcher while writers
// keep updating rows, twice by cancelling Run from outside and twice by
// "crashing" inside Emit after the changes were published (so that batch
// is emitted again), then checks that every row's changes arrived, each
// once after deduplication by ID, in the order they were committed.
func TestCaptureRestartMidStream(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const rows = 20
	cfg := b.watch(t, "counters", "id int PRIMARY KEY, seq int NOT NULL")
	cfg.Batch = 50
	ctx := t.Context()
	require.NoError(t, Install(ctx, cfg))
	b.exec(t, `INSERT INTO `+b.ts+`.counters SELECT g, 0 FROM generate_series(1, $1) g`, rows)

	// Writers contend for the same rows in transactions of one to three
	// updates, so commits often land out of outbox id order.
	stopWriters := make(chan struct{})
	var writers sync.WaitGroup
	var writeErr atomic.Value
	for range 4 {
		writers.Go(func() {
			for {
				select {
				case <-stopWriters:
					return
				default:
				}
				ids := rand.Perm(rows)[:1+rand.IntN(3)]
				slices.Sort(ids) // one lock order: no deadlocks
				err := pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
					for _, id := range ids {
						if _, err := tx.Exec(ctx, `UPDATE `+b.ts+`.counters SET seq = seq + 1 WHERE id = $1`, id+1); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					writeErr.Store(err)
					return
				}
			}
		})
	}

	s := newSink()
	crashes := 0
	for cycle := range 4 {
		target := len(s.all()) + 300
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		crash := cycle%2 == 1
		if crash {
			crashes++
		}
		go func() {
			done <- Run(wctx, cfg, func(ctx context.Context, cs []Change) error {
				_ = s.emit(ctx, cs) // never fails
				if crash && len(s.all()) >= target {
					// Published but not acknowledged: the next watcher
					// must emit this batch again.
					cancel()
					return errors.New("crash after publishing")
				}
				return nil
			})
		}()
		s.waitFor(t, "progress before the restart", atLeast(target))
		cancel()
		require.NoError(t, <-done)
	}
	close(stopWriters)
	writers.Wait()
	if err := writeErr.Load(); err != nil {
		t.Fatalf("writer: %v", err)
	}
	b.exec(t, `DELETE FROM `+b.ts+`.counters`)
	// Every row's last seq is in its delete.
	stop := run(t, cfg, s.emit)
	s.waitFor(t, "a delete of every row", func(cs []Change) bool {
		deleted := 0
		for _, c := range cs {
			if c.Op == OpDeleted {
				deleted++
			}
		}
		return deleted >= rows
	})
	stop()

	// Within one Emit call ids ascend.
	s.mu.Lock()
	for i, call := range s.calls {
		require.True(t, slices.IsSortedFunc(call, func(a, b Change) int { return int(a.ID - b.ID) }), "call %d not in id order", i)
	}
	s.mu.Unlock()

	// Deduplicate by ID, keeping first arrivals; a duplicate must be the
	// same change.
	all := s.all()
	first := map[int64]Change{}
	var uniq []Change
	for _, c := range all {
		if prev, ok := first[c.ID]; ok {
			require.Equal(t, prev, c, "duplicate id %d differs", c.ID)
			continue
		}
		first[c.ID] = c
		uniq = append(uniq, c)
	}
	dups := len(all) - len(uniq)
	require.LessOrEqual(t, dups, crashes*cfg.Batch, "duplicates beyond the un-acked batches")
	t.Logf("%d changes, %d duplicates after %d crashes", len(uniq), dups, crashes)

	// Per row: inserted with seq 0, updated to seq 1, 2, ... in order,
	// deleted with the last seq.
	byRow := map[int][]Change{}
	for _, c := range uniq {
		var r counterRow
		raw := c.Record
		if c.Op == OpDeleted {
			raw = c.OldRecord
		}
		require.NoError(t, json.Unmarshal(raw, &r))
		byRow[r.ID] = append(byRow[r.ID], c)
	}
	require.Len(t, byRow, rows)
	for id, cs := range byRow {
		require.GreaterOrEqual(t, len(cs), 2, "row %d", id)
		require.Equal(t, OpInserted, cs[0].Op, "row %d first change", id)
		requireJSON(t, `{"id":`+itoa(id)+`,"seq":0}`, cs[0].Record)
		last := cs[len(cs)-1]
		require.Equal(t, OpDeleted, last.Op, "row %d last change", id)
		for i, c := range cs[1 : len(cs)-1] {
			seq := i + 1
			require.Equal(t, OpUpdated, c.Op, "row %d change %d", id, seq)
			requireJSON(t, `{"id":`+itoa(id)+`,"seq":`+itoa(seq)+`}`, c.Record, "row %d update %d", id, seq)
			requireJSON(t, `{"id":`+itoa(id)+`,"seq":`+itoa(seq-1)+`}`, c.OldRecord, "row %d update %d", id, seq)
		}
		requireJSON(t, `{"id":`+itoa(id)+`,"seq":`+itoa(len(cs)-2)+`}`, last.OldRecord, "row %d delete", id)
		for i := 1; i < len(cs); i++ {
			require.Greater(t, cs[i].ID, cs[i-1].ID, "row %d ids", id)
		}
	}
	eventually(t, "outbox drained", func() bool { return b.outboxRows(t) == 0 })
}

func itoa(n int) string {
	out, _ := json.Marshal(n)
	return string(out)
}

func TestCaptureLargeRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cfg := b.watch(t, "docs", "id int PRIMARY KEY, body text NOT NULL")
	require.NoError(t, Install(t.Context(), cfg))
	s := newSink()
	run(t, cfg, s.emit)

	// 100 KB of text that JSON must escape and PostgreSQL must TOAST: far
	// past NOTIFY's 8,000-byte payload limit.
	body := func(seed uint64) string {
		r := rand.New(rand.NewPCG(seed, 1))
		const alphabet = "abcdefghijklmnopqrstuvwxyz \"\\\n\t'é€😀"
		runes := []rune(alphabet)
		var sb strings.Builder
		for sb.Len() < 100<<10 {
			sb.WriteRune(runes[r.IntN(len(runes))])
		}
		return sb.String()
	}
	v1, v2 := body(1), body(2)
	b.exec(t, `INSERT INTO `+b.ts+`.docs VALUES (1, $1)`, v1)
	b.exec(t, `UPDATE `+b.ts+`.docs SET body = $1 WHERE id = 1`, v2)

	cs := s.waitFor(t, "insert and update", atLeast(2))
	var rec, old struct{ Body string }
	require.NoError(t, json.Unmarshal(cs[0].Record, &rec))
	require.Equal(t, v1, rec.Body, "inserted body")
	require.NoError(t, json.Unmarshal(cs[1].Record, &rec))
	require.Equal(t, v2, rec.Body, "updated body")
	require.NoError(t, json.Unmarshal(cs[1].OldRecord, &old))
	require.Equal(t, v1, old.Body, "old body")
}

func TestCaptureOneWatcherPerSource(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cfg := b.watch(t, "items", "id int PRIMARY KEY")
	require.NoError(t, Install(t.Context(), cfg))
	s := newSink()
	logs := map[string]*logRecorder{"a": {}, "b": {}}
	stops := map[string]func(){}
	for name, rec := range logs {
		c := cfg
		c.Logger = slog.New(rec)
		stops[name] = run(t, c, s.emitAs(name))
	}

	// One watcher takes the source, the other reports that it waits.
	var active, standby string
	eventually(t, "one watcher watching and one waiting", func() bool {
		for name, other := range map[string]string{"a": "b", "b": "a"} {
			if logs[name].has("capture watching") && logs[other].has("capture waiting") {
				active, standby = name, other
				return true
			}
		}
		return false
	})
	b.exec(t, `INSERT INTO `+b.ts+`.items SELECT generate_series(1, 10)`)
	s.waitFor(t, "first 10 rows", atLeast(10))
	b.exec(t, `INSERT INTO `+b.ts+`.items SELECT generate_series(11, 20)`)
	s.waitFor(t, "second 10 rows", atLeast(20))
	require.Equal(t, map[string]int{active: 20}, s.watchers())

	// The standby takes over when the active watcher stops.
	stops[active]()
	b.exec(t, `INSERT INTO `+b.ts+`.items SELECT generate_series(21, 30)`)
	s.waitFor(t, "rows after the hand-over", atLeast(30))
	require.Equal(t, map[string]int{active: 20, standby: 10}, s.watchers())
	require.True(t, logs[standby].has("capture watching"))
}

// logRecorder is a slog.Handler keeping the messages logged to it.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *logRecorder) WithGroup(string) slog.Handler            { return r }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Message)
	return nil
}

// has reports whether a message starting with prefix was logged.
func (r *logRecorder) has(prefix string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(r.msgs, func(m string) bool { return strings.HasPrefix(m, prefix) })
}

func TestCaptureEmitErrorRetriesSameChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cfg := b.watch(t, "items", "id int PRIMARY KEY")
	require.NoError(t, Install(t.Context(), cfg))
	var mu sync.Mutex
	var failed [][]Change
	s := newSink()
	run(t, cfg, func(ctx context.Context, cs []Change) error {
		mu.Lock()
		defer mu.Unlock()
		if len(failed) < 2 {
			failed = append(failed, slices.Clone(cs))
			return errors.New("receiver down")
		}
		return s.emit(ctx, cs)
	})
	b.exec(t, `INSERT INTO `+b.ts+`.items SELECT generate_series(1, 5)`)
	cs := s.waitFor(t, "5 rows", atLeast(5))
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, failed, 2)
	require.Equal(t, failed[0], failed[1], "a failed batch is retried as it was")
	require.Equal(t, failed[0], cs[:len(failed[0])], "then delivered as it was")
}

func TestInstallUninstall(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	b.exec(t, `CREATE TABLE `+b.ts+`.a (id int PRIMARY KEY)`)
	b.exec(t, `CREATE TABLE `+b.ts+`."B" (id int PRIMARY KEY)`)
	cfg := b.cfg
	cfg.Tables = []string{b.table("a"), b.table("B")}
	require.NoError(t, Install(ctx, cfg))
	require.NoError(t, Install(ctx, cfg), "install again")
	require.Equal(t, 1, b.triggers(t, cfg, "a"))
	require.Equal(t, 1, b.triggers(t, cfg, "B"))

	// A table dropped from the list loses its trigger.
	cfg.Tables = []string{b.table("a")}
	require.NoError(t, Install(ctx, cfg))
	require.Equal(t, 1, b.triggers(t, cfg, "a"))
	require.Equal(t, 0, b.triggers(t, cfg, "B"))
	b.exec(t, `INSERT INTO `+b.ts+`."B" VALUES (1)`)
	require.Equal(t, 0, b.outboxRows(t))
	b.exec(t, `INSERT INTO `+b.ts+`.a VALUES (1)`)
	require.Equal(t, 1, b.outboxRows(t))

	// Another source on the same table has its own trigger and rows,
	// which Uninstall of the first leaves alone.
	other := cfg
	other.Source = "other"
	require.NoError(t, Install(ctx, other))
	b.exec(t, `INSERT INTO `+b.ts+`.a VALUES (2)`)

	require.NoError(t, Uninstall(ctx, cfg))
	require.NoError(t, Uninstall(ctx, cfg), "uninstall again")
	require.Equal(t, 0, b.triggers(t, cfg, "a"))
	require.Equal(t, 0, b.outboxRows(t))
	b.exec(t, `INSERT INTO `+b.ts+`.a VALUES (3)`)
	require.Equal(t, 0, b.outboxRows(t), "no capture after uninstall")
	require.Equal(t, 1, b.triggers(t, other, "a"))
	require.Equal(t, 2, b.count(t, `SELECT count(*) FROM `+pgx.Identifier{cfg.Schema, outboxTable}.Sanitize()+` WHERE source = 'other'`), "rows 2 and 3")

	// Uninstall where nothing was ever installed is a no-op.
	never := cfg
	never.Schema = cfg.Schema + "_never"
	require.NoError(t, Uninstall(ctx, never))
}

func TestInstallErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	b.exec(t, `CREATE TABLE `+b.ts+`.a (id int PRIMARY KEY)`)
	b.exec(t, `CREATE VIEW `+b.ts+`.v AS SELECT 1 AS id`)

	cfg := b.cfg
	cfg.Tables = []string{b.table("missing")}
	require.ErrorContains(t, Install(ctx, cfg), "table "+b.ts+".missing does not exist")
	cfg.Tables = []string{b.table("v")}
	require.ErrorContains(t, Install(ctx, cfg), "is not a table")

	// The same source installed into a second outbox schema collides on
	// the trigger name instead of silently capturing twice.
	cfg.Tables = []string{b.table("a")}
	require.NoError(t, Install(ctx, cfg))
	second := cfg
	second.Schema = cfg.Schema + "_2"
	b.dropSchemaOnCleanup(t, second.Schema)
	require.ErrorIs(t, Install(ctx, second), errTriggerTaken)

	var cerr *ConfigError
	cfg.Source = "Bad Source"
	require.ErrorAs(t, Install(ctx, cfg), &cerr)
	require.Equal(t, "source", cerr.Field)
}

// TestInstallOwners: two installations (owners) that chose the same source
// name and schema in one database. The second is refused and changes
// nothing, so the first keeps its triggers and changes; once the first
// uninstalls, the name is free.
func TestInstallOwners(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	first, second := b.onTablesAB(t, "ten_first", "ten_second")
	require.NoError(t, Install(ctx, first))
	require.NoError(t, Install(ctx, first), "the owner installs again")

	require.ErrorIs(t, Install(ctx, second), errSourceTaken)
	require.Equal(t, 1, b.triggers(t, first, "a"), "the first keeps its trigger")
	require.Equal(t, 0, b.triggers(t, second, "b"))
	b.exec(t, `INSERT INTO `+b.ts+`.a VALUES (1)`)
	require.Equal(t, 1, b.outboxRows(t))
	require.ErrorIs(t, Uninstall(ctx, second), errSourceTaken)
	require.Equal(t, 1, b.triggers(t, first, "a"))
	require.Equal(t, 1, b.outboxRows(t), "the first keeps its changes")

	// A watcher of the second fails to install and takes none of the
	// first's changes.
	s := newSink()
	logs := &logRecorder{}
	watcher := second
	watcher.Logger = slog.New(logs)
	stop := run(t, watcher, s.emit)
	eventually(t, "the second's watcher refused", func() bool { return logs.has("capture session failed") })
	stop()
	require.Empty(t, s.all())
	require.Equal(t, 1, b.outboxRows(t))
	require.Equal(t, 1, b.triggers(t, first, "a"))

	require.NoError(t, Uninstall(ctx, first))
	require.Equal(t, 0, b.triggers(t, first, "a"))
	require.NoError(t, Install(ctx, second), "the name is free again")
	require.Equal(t, 1, b.triggers(t, second, "b"))
}

// TestSameSourceInAnotherSchema: a source of the same name installed with
// another schema on other tables, as another installation (or a parallel
// test run) in the same database does. Neither's Install nor Uninstall
// touches the other's trigger or changes.
func TestSameSourceInAnotherSchema(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	mine, other := b.onTablesAB(t, "ten_1", "ten_1")
	other.Schema = b.cfg.Schema + "_2"
	b.dropSchemaOnCleanup(t, other.Schema)
	require.NoError(t, Install(ctx, mine))
	require.NoError(t, Install(ctx, other))
	require.NoError(t, Install(ctx, mine), "installing again leaves the other's trigger")
	require.Equal(t, 1, b.triggers(t, mine, "a"))
	require.Equal(t, 1, b.triggers(t, other, "b"))

	b.exec(t, `INSERT INTO `+b.ts+`.a VALUES (1)`)
	b.exec(t, `INSERT INTO `+b.ts+`.b VALUES (1)`)
	otherRows := func() int {
		return b.count(t, `SELECT count(*) FROM `+pgx.Identifier{other.Schema, outboxTable}.Sanitize()+` WHERE source = $1`, other.Source)
	}
	require.Equal(t, 1, b.outboxRows(t))
	require.Equal(t, 1, otherRows())

	require.NoError(t, Uninstall(ctx, mine))
	require.Equal(t, 0, b.triggers(t, mine, "a"))
	require.Equal(t, 0, b.outboxRows(t))
	require.Equal(t, 1, b.triggers(t, other, "b"), "the other's trigger stays")
	require.Equal(t, 1, otherRows(), "the other's changes stay")
}
