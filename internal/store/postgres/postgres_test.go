package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"

	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/store/storetest"
)

// dsn returns the test database or skips the test.
func dsn(t testing.TB) string {
	t.Helper()
	v := os.Getenv("HOOKLINE_TEST_POSTGRES")
	if v == "" {
		t.Skip("HOOKLINE_TEST_POSTGRES is not set; set it to a PostgreSQL DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the PostgreSQL tests")
	}
	return v
}

// schema returns a fresh schema name, dropped when the test ends.
func schema(t testing.TB) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "hl_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		s, err := postgres.Open(context.Background(), postgres.Config{DSN: dsn(t), Box: box(t), SkipMigrate: true})
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
	s, err := postgres.Open(context.Background(), postgres.Config{DSN: dsn(t), Box: box(t), Schema: sch, MaxConns: 4})
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
	dsn(t)
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
					ts, err := s.ClaimTasks(context.Background(), store.Claim{Now: base, LeaseUntil: base.Add(time.Hour), Limit: 7})
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

func TestBucketsAndCoordinator(t *testing.T) {
	t.Parallel()
	sch := schema(t)
	a, b := openIn(t, sch), openIn(t, sch)
	ctx := context.Background()
	_, ids := seed(t, a, 70)
	_ = ids
	// Claims restricted to buckets only return tasks of those buckets.
	want := engine.Bucket("ep_3")
	ts, err := a.ClaimTasks(ctx, store.Claim{Now: base, LeaseUntil: base.Add(time.Hour), Limit: 100, Buckets: []int{want}})
	require.NoError(t, err)
	require.NotEmpty(t, ts)
	for _, task := range ts {
		require.Equal(t, want, engine.Bucket(task.DestinationID))
	}

	nodes, err := a.Heartbeat(ctx, engine.Node{ID: "n1", StartedAt: base}, base, 10*time.Second)
	require.NoError(t, err)
	require.Len(t, nodes, 1)
	nodes, err = b.Heartbeat(ctx, engine.Node{ID: "n2", StartedAt: base}, base.Add(time.Second), 10*time.Second)
	require.NoError(t, err)
	require.Len(t, nodes, 2)

	held, err := a.Acquire(ctx, "n1", []int{1, 2, 3}, base, base.Add(10*time.Second))
	require.NoError(t, err)
	require.Equal(t, []int{1, 2, 3}, held)
	held, err = b.Acquire(ctx, "n2", []int{3, 4}, base, base.Add(10*time.Second))
	require.NoError(t, err)
	require.Equal(t, []int{4}, held, "a bucket under a live lease is not taken")
	held, err = b.Acquire(ctx, "n2", []int{3, 4}, base.Add(11*time.Second), base.Add(20*time.Second))
	require.NoError(t, err)
	require.Equal(t, []int{3, 4}, held, "an expired lease is taken over")
	require.NoError(t, a.Release(ctx, "n1", []int{1}))
	owners, err := a.Owners(ctx)
	require.NoError(t, err)
	require.Len(t, owners, engine.NumBuckets)
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
