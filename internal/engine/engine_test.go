package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite"
)

const (
	testTenant = "ten_1"
	testKind   = "test"
	testLease  = time.Minute
	testPoll   = 100 * time.Millisecond
)

// bundle is an engine on SQLite in a temporary directory, routing every
// event to one destination of kind "test" whose executor answers with
// the outcomes the test lists, then succeeds.
type bundle struct {
	store *holdingStore
	eng   *engine.Engine

	mu       sync.Mutex
	outcomes []engine.Outcome
	attempts []time.Time // when each attempt started
	gate     chan struct{}
}

// setup builds the bundle; call it inside a synctest bubble, so the
// engine's timers and tickers run on the bubble's clock.
func setup(t *testing.T, outcomes ...engine.Outcome) *bundle {
	t.Helper()
	return setupWith(t, nil, outcomes...)
}

// setupWith is setup with the engine's config adjusted by adjust.
func setupWith(t *testing.T, adjust func(*engine.Config), outcomes ...engine.Outcome) *bundle {
	t.Helper()
	box, err := secretbox.New(make([]byte, secretbox.KeySize))
	require.NoError(t, err)
	s, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(t.TempDir(), "hookline.db"), Box: box})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, s.CreateTenant(t.Context(), store.Tenant{ID: testTenant, Name: "acme", CreatedAt: time.Now()}))
	b := &bundle{store: &holdingStore{Store: s}, outcomes: outcomes}
	cfg := engine.Config{
		Store:          b.store,
		Executors:      map[string]engine.Executor{testKind: b},
		Routers:        []engine.Router{b},
		Rand:           func() float64 { return 0.5 }, // no jitter
		Lease:          testLease,
		PollInterval:   testPoll,
		ExclusiveStore: true,
	}
	if adjust != nil {
		adjust(&cfg)
	}
	b.eng, err = engine.New(cfg)
	require.NoError(t, err)
	require.NoError(t, b.eng.Start(t.Context()))
	t.Cleanup(func() { require.NoError(t, b.eng.Stop(context.Background())) })
	return b
}

// Route sends every event to the one test destination.
func (b *bundle) Route(context.Context, *event.Event) ([]engine.Target, error) {
	return []engine.Target{{Kind: testKind, DestinationID: "dst_1"}}, nil
}

// Execute answers with the next listed outcome, then succeeds; while gate
// is set it first waits for gate to close.
func (b *bundle) Execute(context.Context, *store.Task) engine.Outcome {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.attempts = append(b.attempts, time.Now())
	if gate := b.gate; gate != nil {
		b.mu.Unlock()
		<-gate
		b.mu.Lock()
	}
	if n := len(b.attempts); n <= len(b.outcomes) {
		return b.outcomes[n-1]
	}
	return engine.Outcome{}
}

func (b *bundle) setGate(g chan struct{}) {
	b.mu.Lock()
	b.gate = g
	b.mu.Unlock()
}

func (b *bundle) attemptTimes() []time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]time.Time(nil), b.attempts...)
}

// publish publishes one event and returns its task.
func (b *bundle) publish(t *testing.T) store.Task {
	t.Helper()
	now := time.Now()
	ev := event.Event{ID: event.NewID(event.PrefixEvent, now), TenantID: testTenant, Type: "order.created",
		Source: "api", Data: json.RawMessage(`{}`), OccurredAt: now, CreatedAt: now}
	pub, err := b.eng.Publish(t.Context(), []event.Event{ev})
	require.NoError(t, err)
	require.Equal(t, 1, pub[0].Tasks)
	ts, err := b.store.ListTasks(t.Context(), testTenant, store.TaskQuery{EventID: ev.ID})
	require.NoError(t, err)
	require.Len(t, ts, 1)
	return ts[0]
}

func (b *bundle) task(t *testing.T, id string) store.Task {
	t.Helper()
	task, err := b.store.GetTask(t.Context(), testTenant, id)
	require.NoError(t, err)
	return task
}

// holdingStore can hold the engine's writer right after it committed
// attempt results, before the worker that waits for the commit hears of
// it: the window a busy machine stretches at random, made to order. While
// full is set it refuses to complete tasks and renew leases, as SQLite
// does when its disk is full.
type holdingStore struct {
	store.Store
	mu   sync.Mutex
	hold chan chan struct{}
	full atomic.Bool
}

var errFull = errors.New("complete tasks: database or disk is full (13)")

func (s *holdingStore) ExtendLeases(ctx context.Context, ls []store.TaskLease, d time.Duration) ([]string, error) {
	if s.full.Load() {
		return nil, errFull
	}
	return s.Store.ExtendLeases(ctx, ls, d)
}

// holdNextComplete makes the next CompleteTasks, once committed, send a
// channel on the returned one and wait until that channel is closed.
func (s *holdingStore) holdNextComplete() <-chan chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = make(chan chan struct{}, 1)
	return s.hold
}

func (s *holdingStore) CompleteTasks(ctx context.Context, rs []store.TaskResult) ([]string, error) {
	if s.full.Load() {
		return nil, errFull
	}
	stale, err := s.Store.CompleteTasks(ctx, rs)
	s.mu.Lock()
	hold := s.hold
	s.hold = nil
	s.mu.Unlock()
	if hold != nil {
		release := make(chan struct{})
		hold <- release
		<-release
	}
	return stale, err
}

var errDown = errors.New("receiver down")

// TestRetryWhileResultIsRecorded retries a failed task after its failure
// is committed but before the worker that ran it has forgotten it, as a
// recover right after the status turned "failed" can: the retry must run
// at once, not when the lease taken by the retry expires.
func TestRetryWhileResultIsRecorded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, engine.Outcome{Err: errDown, Permanent: true})
		held := b.store.holdNextComplete()
		task := b.publish(t)
		release := <-held
		require.Equal(t, store.StatusFailed, b.task(t, task.ID).Status)

		_, err := b.eng.Retry(t.Context(), testTenant, []string{task.ID})
		require.NoError(t, err)
		retried := time.Now()
		close(release)
		synctest.Wait()
		attempts := b.attemptTimes()
		require.Len(t, attempts, 2, "the retry ran")
		require.Equal(t, retried, attempts[1], "at once, not after the lease")
		require.Equal(t, store.StatusSucceeded, b.task(t, task.ID).Status)
	})
}

// TestDueRetryClaimedWhileResultIsRecorded lets the poller claim a retry
// that is due at once while the worker that recorded the failure has not
// forgotten the task yet: the retry must run at once, not when the
// poller's lease expires.
func TestDueRetryClaimedWhileResultIsRecorded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t, engine.Outcome{Err: errDown, Schedule: []time.Duration{0}})
		held := b.store.holdNextComplete()
		task := b.publish(t)
		release := <-held
		time.Sleep(testPoll) // a poll
		synctest.Wait()
		claimed := b.task(t, task.ID)
		require.Equal(t, store.StatusRetrying, claimed.Status)
		require.True(t, claimed.LeaseUntil.After(time.Now()), "the poller claimed the due retry")

		polled := time.Now()
		close(release)
		synctest.Wait()
		attempts := b.attemptTimes()
		require.Len(t, attempts, 2, "the retry ran")
		require.Equal(t, polled, attempts[1], "at once, not after the lease")
		require.Equal(t, store.StatusSucceeded, b.task(t, task.ID).Status)
	})
}

// TestStaleCopyWhileRecordingRunsOnce pushes a leased copy of a task
// read before its attempt, as a poller that re-claimed it after a lapsed
// lease would, while the attempt's result is being recorded: the copy
// holds no newer state than the run here, so the task runs once.
func TestStaleCopyWhileRecordingRunsOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t)
		held := b.store.holdNextComplete()
		task := b.publish(t)
		release := <-held
		stale := task
		stale.Status, stale.Attempts, stale.LeaseFor = store.StatusPending, 0, testLease
		b.eng.Schedule(t.Context(), []store.Task{stale})
		close(release)
		synctest.Wait()
		time.Sleep(3 * testPoll)
		synctest.Wait()
		require.Len(t, b.attemptTimes(), 1)
		require.Equal(t, store.StatusSucceeded, b.task(t, task.ID).Status)
	})
}

// TestResultHeldWhileTheStoreRefusesIt: the destination took the delivery
// but the store cannot take its result (the disk is full). The result is
// held and saved once the store takes writes again; the destination is
// not called a second time, even though the task's lease ran out while
// the store refused to renew it and polls claimed the task again.
func TestResultHeldWhileTheStoreRefusesIt(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t)
		b.store.full.Store(true)
		task := b.publish(t)
		synctest.Wait()
		require.Len(t, b.attemptTimes(), 1)
		require.Equal(t, store.StatusPending, b.task(t, task.ID).Status, "nothing saved while the store refuses it")

		time.Sleep(3 * testLease)
		synctest.Wait()
		require.Len(t, b.attemptTimes(), 1, "not sent again while its result waits to be saved")

		b.store.full.Store(false)
		time.Sleep(10 * time.Second) // more than the longest wait between saves
		synctest.Wait()
		got := b.task(t, task.ID)
		require.Equal(t, store.StatusSucceeded, got.Status, "the held result is saved")
		require.Equal(t, 1, got.Attempts)
		atts, err := b.store.ListAttempts(t.Context(), testTenant, task.ID)
		require.NoError(t, err)
		require.Len(t, atts, 1)
		require.Len(t, b.attemptTimes(), 1)
	})
}

// TestHeldResultsAreBounded: past MaxUnsavedBytes a result is not held;
// its task runs again once its lease has expired, as before results were
// held, and nothing is lost.
func TestHeldResultsAreBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setupWith(t, func(c *engine.Config) { c.MaxUnsavedBytes = 1 })
		b.store.full.Store(true)
		task := b.publish(t)
		synctest.Wait()
		require.Len(t, b.attemptTimes(), 1)
		b.store.full.Store(false)
		time.Sleep(testLease + 2*testPoll)
		synctest.Wait()
		require.Len(t, b.attemptTimes(), 2, "run again after the lease")
		require.Equal(t, store.StatusSucceeded, b.task(t, task.ID).Status)
	})
}

// TestStaleResultIsRefused: while an attempt runs, its task's lease is
// released and another node claims it (a new token), as happens when this
// node was taken for dead. The attempt's result is refused: the task stays
// as the other node holds it, with no attempt written, and the engine
// carries on.
func TestStaleResultIsRefused(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := setup(t)
		gate := make(chan struct{})
		b.setGate(gate)
		task := b.publish(t)
		synctest.Wait()
		require.Len(t, b.attemptTimes(), 1)
		ctx := t.Context()
		held := b.task(t, task.ID)
		require.NoError(t, b.store.ReleaseTasks(ctx, []store.TaskLease{held.Lease()}))
		other, err := b.store.ClaimTasks(ctx, store.Claim{Now: time.Now(), Lease: time.Hour, Owner: "node-other", Limit: 10})
		require.NoError(t, err)
		require.Len(t, other, 1)
		require.Greater(t, other[0].LeaseToken, held.LeaseToken)
		b.setGate(nil)
		close(gate)
		synctest.Wait()
		got := b.task(t, task.ID)
		require.Equal(t, store.StatusPending, got.Status, "the stale result changed nothing")
		require.Equal(t, "node-other", got.LeaseOwner)
		require.Equal(t, other[0].LeaseToken, got.LeaseToken)
		atts, err := b.store.ListAttempts(ctx, testTenant, task.ID)
		require.NoError(t, err)
		require.Empty(t, atts)

		next := b.publish(t)
		synctest.Wait()
		require.Equal(t, store.StatusSucceeded, b.task(t, next.ID).Status, "the engine carries on")
	})
}
