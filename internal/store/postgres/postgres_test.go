package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/testkit"

	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/storetest"
)

// schema returns a fresh schema name, dropped when the test ends.
func schema(t testing.TB) string {
	t.Helper()
	name := testkit.SchemaName()
	t.Cleanup(func() {
		s, err := postgres.Open(context.Background(), postgres.Config{DSN: testkit.PostgresDSN(t), Box: box(t), SkipMigrate: true})
		if err == nil {
			_ = s.DropSchema(context.Background(), name)
			s.Close()
		}
	})
	return name
}

func box(t testing.TB) *secretbox.Box {
	b, err := secretbox.New(make([]byte, secretbox.KeySize))
	require.NoError(t, err)
	return b
}

// openIn opens a store on the given schema.
func openIn(t testing.TB, sch string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), postgres.Config{DSN: testkit.PostgresDSN(t), Box: box(t), Schema: sch, MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func open(t *testing.T) store.Store {
	t.Helper()
	return openIn(t, schema(t))
}

func TestConformance(t *testing.T) {
	t.Parallel()
	testkit.PostgresDSN(t)
	storetest.Run(t, open)
}

var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func seed(t *testing.T, s store.Store, n int) (string, []string) {
	t.Helper()
	ctx := context.Background()
	tid := event.NewID(event.PrefixTenant, base)
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: tid, Name: "acme", CreatedAt: base}))
	var batch []store.NewEvent
	var ids []string
	for i := range n {
		e := event.Event{ID: event.NewID(event.PrefixEvent, base), TenantID: tid, Type: "a.b", Source: "api",
			Data: json.RawMessage(`{}`), OccurredAt: base, CreatedAt: base}
		task := store.Task{ID: event.NewID(event.PrefixDelivery, base), TenantID: tid, EventID: e.ID, EventType: e.Type,
			Kind: "endpoint", DestinationID: fmt.Sprintf("ep_%d", i%7), Status: store.StatusPending, NextAt: base, CreatedAt: base, UpdatedAt: base}
		batch = append(batch, store.NewEvent{Event: e, Tasks: []store.Task{task}})
		ids = append(ids, task.ID)
		if len(batch) == 500 || i == n-1 {
			_, err := s.AcceptEvents(ctx, batch)
			require.NoError(t, err)
			batch = nil
		}
	}
	return tid, ids
}

// TestConcurrentClaimsNeverOverlap claims from two stores (two nodes) with
// eight goroutines each: every task is claimed exactly once.
func TestConcurrentClaimsNeverOverlap(t *testing.T) {
	t.Parallel()
	sch := schema(t)
	a, b := openIn(t, sch), openIn(t, sch)
	const n = 1000
	_, ids := seed(t, a, n)
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for _, s := range []*postgres.Store{a, b} {
		for range 8 {
			wg.Go(func() {
				for {
					ts, err := s.ClaimTasks(context.Background(), store.Claim{Now: base, Lease: time.Hour, Owner: "n", Limit: 7})
					if !assert.NoError(t, err) || len(ts) == 0 {
						return
					}
					mu.Lock()
					for _, t := range ts {
						got[t.ID]++
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	require.Len(t, got, n)
	for _, id := range ids {
		require.Equal(t, 1, got[id], "task %s claimed once", id)
	}
}

// TestConcurrentIdempotencyAcrossNodes accepts the same idempotency key
// from two stores at once: one event results.
func TestConcurrentIdempotencyAcrossNodes(t *testing.T) {
	t.Parallel()
	sch := schema(t)
	a, b := openIn(t, sch), openIn(t, sch)
	ctx := context.Background()
	tid := event.NewID(event.PrefixTenant, base)
	require.NoError(t, a.CreateTenant(ctx, store.Tenant{ID: tid, Name: "acme", CreatedAt: base}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for i := range 16 {
		s := []*postgres.Store{a, b}[i%2]
		wg.Go(func() {
			e := event.Event{ID: event.NewID(event.PrefixEvent, base), TenantID: tid, Type: "a.b", Data: json.RawMessage(`{}`),
				IdempotencyKey: "same", OccurredAt: base, CreatedAt: base}
			res, err := s.AcceptEvents(ctx, []store.NewEvent{{Event: e, IdempotentSince: base.Add(-time.Hour)}})
			if assert.NoError(t, err) && !res[0].Duplicate {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, fresh)
	evs, err := a.ListEvents(ctx, tid, store.EventQuery{})
	require.NoError(t, err)
	require.Len(t, evs, 1)
}

// TestIdempotencyFollowsFirstInBatch pins what the SQLite driver does when
// events of one batch share a key but not a window: only the first is
// checked against stored events, and the later ones duplicate its outcome.
func TestIdempotencyFollowsFirstInBatch(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := context.Background()
	tid := event.NewID(event.PrefixTenant, base)
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: tid, Name: "acme", CreatedAt: base}))
	ev := func(at, since time.Time) store.NewEvent {
		return store.NewEvent{IdempotentSince: since, Event: event.Event{ID: event.NewID(event.PrefixEvent, at), TenantID: tid,
			Type: "a.b", Source: "api", Data: json.RawMessage(`{}`), OccurredAt: at, IdempotencyKey: "k", CreatedAt: at}}
	}
	stored := ev(base, base.Add(-time.Hour))
	_, err := s.AcceptEvents(ctx, []store.NewEvent{stored})
	require.NoError(t, err)

	// The first duplicates the stored event; the second, whose window
	// alone would not reach it, duplicates the first and is not written.
	wide, narrow := ev(base.Add(time.Hour), base.Add(-time.Hour)), ev(base.Add(time.Hour), base.Add(time.Minute))
	res, err := s.AcceptEvents(ctx, []store.NewEvent{wide, narrow})
	require.NoError(t, err)
	for i, r := range res {
		require.True(t, r.Duplicate, "event %d", i)
		require.Equal(t, stored.Event.ID, r.Event.ID, "event %d", i)
	}

	// The first is new; the second duplicates it, not the stored event.
	narrow, wide = ev(base.Add(2*time.Hour), base.Add(90*time.Minute)), ev(base.Add(2*time.Hour), base.Add(-time.Hour))
	res, err = s.AcceptEvents(ctx, []store.NewEvent{narrow, wide})
	require.NoError(t, err)
	require.False(t, res[0].Duplicate)
	require.True(t, res[1].Duplicate)
	require.Equal(t, narrow.Event.ID, res[1].Event.ID)

	evs, err := s.ListEvents(ctx, tid, store.EventQuery{})
	require.NoError(t, err)
	require.Equal(t, []string{narrow.Event.ID, stored.Event.ID}, []string{evs[0].ID, evs[1].ID})
	require.Len(t, evs, 2)
}

func TestBucketsAndCoordinator(t *testing.T) {
	t.Parallel()
	sch := schema(t)
	a, b := openIn(t, sch), openIn(t, sch)
	ctx := context.Background()
	_, ids := seed(t, a, 70)
	_ = ids
	// Claims restricted to buckets only return tasks of those buckets.
	want := store.Bucket("ep_3")
	ts, err := a.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Hour, Owner: "n1", Limit: 100, Buckets: []int{want}})
	require.NoError(t, err)
	require.NotEmpty(t, ts)
	for _, task := range ts {
		require.Equal(t, want, store.Bucket(task.DestinationID))
	}

	nodes, err := a.Heartbeat(ctx, store.Node{ID: "n1", StartedAt: base}, 10*time.Second)
	require.NoError(t, err)
	require.Len(t, nodes, 1)
	nodes, err = b.Heartbeat(ctx, store.Node{ID: "n2", StartedAt: base}, 10*time.Second)
	require.NoError(t, err)
	require.Len(t, nodes, 2)

	held, err := a.Acquire(ctx, "n1", []int{1, 2, 3}, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, []int{1, 2, 3}, held)
	held, err = b.Acquire(ctx, "n2", []int{3, 4}, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, []int{4}, held, "a bucket under a live lease is not taken")
	_, err = a.Acquire(ctx, "n1", []int{1, 2, 3}, time.Millisecond) // renewed, for a moment
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		held, err = b.Acquire(ctx, "n2", []int{3, 4}, 10*time.Second)
		return err == nil && len(held) == 2
	}, 5*time.Second, 5*time.Millisecond, "an expired lease is taken over, by the database's clock")
	require.NoError(t, a.Release(ctx, "n1", []int{1}))
	owners, err := a.Owners(ctx)
	require.NoError(t, err)
	require.Len(t, owners, store.NumBuckets)
	require.Equal(t, "", owners[1].NodeID)
	require.Equal(t, "n2", owners[3].NodeID)

	woke := make(chan struct{}, 1)
	payloads := make(chan string, 1)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	listening := make(chan struct{})
	go func() {
		close(listening)
		_ = b.Listen(lctx, func(msg string) {
			if msg != "" {
				select {
				case payloads <- msg:
				default:
				}
				return
			}
			select {
			case woke <- struct{}{}:
			default:
			}
		})
	}()
	<-listening
	require.Eventually(t, func() bool {
		require.NoError(t, a.Notify(ctx, ""))
		select {
		case <-woke:
			return true
		default:
			return false
		}
	}, 10*time.Second, 50*time.Millisecond, "a NOTIFY from one node wakes another")
	require.NoError(t, a.Notify(ctx, "close-circuits\ndelivery:ep_3"))
	select {
	case msg := <-payloads:
		require.Equal(t, "close-circuits\ndelivery:ep_3", msg, "the payload travels")
	case <-time.After(10 * time.Second):
		t.Fatal("no announcement with a payload")
	}
}

// TestReapReleasesASilentNodesWork finds a node silent for longer than
// the TTL: it is forgotten, and its buckets and the leases of its
// unfinished tasks are released (the token stays, so the next claim by
// another node changes it); a live node's are not touched, and a node
// that left is no member.
func TestReapReleasesASilentNodesWork(t *testing.T) {
	t.Parallel()
	sch := schema(t)
	s := openIn(t, sch)
	ctx := context.Background()
	seed(t, s, 20)
	for _, id := range []string{"dead", "alive", "leaving"} {
		_, err := s.Heartbeat(ctx, store.Node{ID: id, StartedAt: base}, time.Minute)
		require.NoError(t, err)
	}
	_, err := s.Acquire(ctx, "dead", []int{1, 2}, time.Hour)
	require.NoError(t, err)
	_, err = s.Acquire(ctx, "alive", []int{3}, time.Hour)
	require.NoError(t, err)
	deads, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Hour, Owner: "dead", Limit: 8})
	require.NoError(t, err)
	require.Len(t, deads, 8)
	alives, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Hour, Owner: "alive", Limit: 5})
	require.NoError(t, err)
	require.Len(t, alives, 5)
	require.NoError(t, s.Leave(ctx, "leaving"))

	// Nothing is silent yet.
	gone, released, err := s.Reap(ctx, time.Minute)
	require.NoError(t, err)
	require.Empty(t, gone)
	require.Zero(t, released)

	// "dead" last beat an hour ago, by the database's clock.
	conn := rawConn(t, sch)
	_, err = conn.Exec(ctx, `UPDATE nodes SET heartbeat_at = now() - interval '1 hour' WHERE id = 'dead'`)
	require.NoError(t, err)
	nodes, err := s.Heartbeat(ctx, store.Node{ID: "alive", StartedAt: base}, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"alive"}, nodeIDs(nodes), "neither the silent node nor the one that left is a member")
	gone, released, err = s.Reap(ctx, time.Minute)
	require.NoError(t, err)
	require.Equal(t, []string{"dead"}, gone)
	require.Equal(t, 8, released)
	gone, _, err = s.Reap(ctx, time.Minute)
	require.NoError(t, err)
	require.Empty(t, gone, "a node is reaped once")

	owners, err := s.Owners(ctx)
	require.NoError(t, err)
	require.Equal(t, "", owners[1].NodeID)
	require.Equal(t, "", owners[2].NodeID)
	require.Equal(t, "alive", owners[3].NodeID)
	taken, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Hour, Owner: "alive", Limit: 100})
	require.NoError(t, err)
	require.Len(t, taken, 20-5, "the dead node's tasks and the unclaimed ones; not the live node's")
	byID := map[string]store.Task{}
	for _, x := range taken {
		byID[x.ID] = x
	}
	for _, d := range deads {
		require.Contains(t, byID, d.ID)
		require.Equal(t, d.LeaseToken+1, byID[d.ID].LeaseToken, "a new token for the survivor's claim")
	}
}

// rawConn is a plain connection to the test schema, for what no store
// method does (ageing a heartbeat, reading a sealed column as stored).
func rawConn(t *testing.T, sch string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(testkit.PostgresDSN(t))
	require.NoError(t, err)
	cfg.RuntimeParams["search_path"] = sch
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func nodeIDs(ns []store.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

func BenchmarkAcceptEvents(b *testing.B) {
	s := openIn(b, schema(b))
	ctx := context.Background()
	tid := event.NewID(event.PrefixTenant, base)
	require.NoError(b, s.CreateTenant(ctx, store.Tenant{ID: tid, Name: "acme", CreatedAt: base}))
	const batch = 500
	b.ResetTimer()
	for range b.N {
		evs := make([]store.NewEvent, batch)
		for i := range evs {
			e := event.Event{ID: event.NewID(event.PrefixEvent, base), TenantID: tid, Type: "a.b", Source: "api",
				Data: json.RawMessage(`{"note":"` + strings.Repeat("x", 900) + `"}`), OccurredAt: base, CreatedAt: base}
			evs[i] = store.NewEvent{Event: e, Tasks: []store.Task{{ID: event.NewID(event.PrefixDelivery, base), TenantID: tid,
				EventID: e.ID, EventType: e.Type, Kind: "endpoint", DestinationID: "ep_1", Status: store.StatusPending, NextAt: base,
				CreatedAt: base, UpdatedAt: base}}}
		}
		if _, err := s.AcceptEvents(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}
