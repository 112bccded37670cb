package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
)

const (
	testTenant = "ten_1"
	testKind   = "test"
	testLease  = time.Minute
	testPoll   = 100 * time.Millisecond
)

var errDown = errors.New("receiver down")

// rig is an engine on SQLite in a temporary directory with any number of
// destinations of kind "test": an event goes to the destination named by
// its type. The executor plays each destination's script and records
// every attempt; the destinations' limits are the test's to set.
type rig struct {
	store *rigStore
	eng   *engine.Engine

	mu       sync.Mutex
	scripts  map[string]func(n int) step // by destination, n from 1
	limits   map[string]engine.Limits
	calls    []call
	inFlight map[string]int
	peak     map[string]int // most attempts in flight at once, by destination
}

// step is one scripted attempt: it waits for wait to close, whatever the
// engine's cancellation (the receiver has the request), then takes took
// (ended early if the engine cancels it) and answers out.
type step struct {
	wait <-chan struct{}
	took time.Duration
	out  engine.Outcome
	// record has the executor write the attempt's result itself
	// (engine.ResultOf, Outcome.Recorded).
	record bool
}

// call is one attempt as the executor saw it.
type call struct {
	dest       string
	taskID     string
	start, end time.Time
}

// newRig builds a rig whose engine is configured by adjust, if given, and
// started; call it inside a synctest bubble so that every timer of the
// engine runs on the bubble's clock.
func newRig(t *testing.T, adjust func(*engine.Config)) *rig {
	t.Helper()
	r := &rig{store: &rigStore{Store: openStore(t)}, scripts: map[string]func(int) step{}, limits: map[string]engine.Limits{},
		inFlight: map[string]int{}, peak: map[string]int{}}
	cfg := engine.Config{
		Store:          r.store,
		Executors:      map[string]engine.Executor{testKind: r},
		Routers:        []engine.Router{r},
		Rand:           func() float64 { return 0.5 }, // no jitter
		Lease:          testLease,
		PollInterval:   testPoll,
		ExclusiveStore: true,
	}
	if adjust != nil {
		adjust(&cfg)
	}
	var err error
	r.eng, err = engine.New(cfg)
	require.NoError(t, err)
	require.NoError(t, r.eng.Start(t.Context()))
	t.Cleanup(func() { require.NoError(t, r.eng.Stop(context.Background())) })
	return r
}

// openStore opens a SQLite store in a temporary directory, closed when the
// test ends, with the tenant testTenant.
func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	return sqlitetest.Open(t, store.Tenant{ID: testTenant, Name: "acme", CreatedAt: time.Now()})
}

// newEvent returns an event of testTenant of type typ, occurred now.
func newEvent(typ string) event.Event {
	now := time.Now()
	return event.Event{ID: event.NewID(event.PrefixEvent, now), TenantID: testTenant, Type: typ,
		Source: "api", Data: json.RawMessage(`{}`), OccurredAt: now, CreatedAt: now}
}

// Route sends an event to the destination its type names.
func (r *rig) Route(_ context.Context, ev *event.Event) ([]engine.Target, error) {
	return []engine.Target{{Kind: testKind, DestinationID: ev.Type}}, nil
}

// Limits answers the limits the test set for the destination.
func (r *rig) Limits(_ context.Context, t *store.Task) engine.Limits {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.limits[t.DestinationID]
}

// Execute plays the destination's script: by default an attempt succeeds
// at once.
func (r *rig) Execute(ctx context.Context, t *store.Task) engine.Outcome {
	dest := t.DestinationID
	r.mu.Lock()
	r.inFlight[dest]++
	r.peak[dest] = max(r.peak[dest], r.inFlight[dest])
	n := 1
	for _, c := range r.calls {
		if c.dest == dest {
			n++
		}
	}
	i := len(r.calls)
	r.calls = append(r.calls, call{dest: dest, taskID: t.ID, start: time.Now()})
	script := r.scripts[dest]
	r.mu.Unlock()
	var s step
	if script != nil {
		s = script(n)
	}
	if s.wait != nil {
		<-s.wait
	}
	if s.took > 0 {
		select {
		case <-time.After(s.took):
		case <-ctx.Done():
		}
	}
	if s.record {
		res, ok := engine.ResultOf(ctx, s.out)
		if !ok {
			panic("no result outside an attempt")
		}
		stale, err := r.store.Store.CompleteTasks(ctx, []store.TaskResult{res})
		if err != nil || len(stale) > 0 {
			panic(fmt.Sprint("record the result: ", err, stale))
		}
		s.out.Recorded = &res
	}
	r.mu.Lock()
	r.inFlight[dest]--
	r.calls[i].end = time.Now()
	r.mu.Unlock()
	return s.out
}

// script sets how a destination answers its n-th attempt.
func (r *rig) script(dest string, f func(n int) step) {
	r.mu.Lock()
	r.scripts[dest] = f
	r.mu.Unlock()
}

// answers makes dest's attempts answer outs in order, then succeed.
func (r *rig) answers(dest string, outs ...engine.Outcome) {
	r.script(dest, func(n int) step {
		if n <= len(outs) {
			return step{out: outs[n-1]}
		}
		return step{}
	})
}

// takes makes every attempt of dest take d and succeed.
func (r *rig) takes(dest string, d time.Duration) {
	r.script(dest, func(int) step { return step{took: d} })
}

func (r *rig) setLimits(dest string, l engine.Limits) {
	r.mu.Lock()
	r.limits[dest] = l
	r.mu.Unlock()
}

// attempts returns the attempts made so far, in the order they started;
// only to dest if it is given.
func (r *rig) attempts(dest ...string) []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []call
	for _, c := range r.calls {
		if len(dest) == 0 || c.dest == dest[0] {
			out = append(out, c)
		}
	}
	return out
}

// peakInFlight returns the most attempts dest had in flight at once.
func (r *rig) peakInFlight(dest string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peak[dest]
}

// publish publishes one event to each of dests, in one call, and returns
// their tasks as listed right after, in the same order.
func (r *rig) publish(t *testing.T, dests ...string) []store.Task {
	t.Helper()
	evs := make([]event.Event, len(dests))
	for i, d := range dests {
		evs[i] = newEvent(d)
	}
	pub, err := r.eng.Publish(t.Context(), evs)
	require.NoError(t, err)
	tasks := make([]store.Task, len(evs))
	for i, ev := range evs {
		require.Equal(t, 1, pub[i].Tasks)
		ts, err := r.store.ListTasks(t.Context(), testTenant, store.TaskQuery{EventID: ev.ID})
		require.NoError(t, err)
		require.Len(t, ts, 1)
		tasks[i] = ts[0]
	}
	return tasks
}

// send is publish returning the tasks' ids.
func (r *rig) send(t *testing.T, dests ...string) []string {
	t.Helper()
	var ids []string
	for _, task := range r.publish(t, dests...) {
		ids = append(ids, task.ID)
	}
	return ids
}

// sendN publishes n events to dest, one publish each.
func (r *rig) sendN(t *testing.T, dest string, n int) []string {
	t.Helper()
	var ids []string
	for range n {
		ids = append(ids, r.send(t, dest)...)
	}
	return ids
}

func (r *rig) task(t *testing.T, id string) store.Task {
	t.Helper()
	task, err := r.store.GetTask(t.Context(), testTenant, id)
	require.NoError(t, err)
	return task
}

// rigStore is the rig's store, which a test can make stall or hold a
// write, or refuse results as a full disk does.
type rigStore struct {
	store.Store
	mu      sync.Mutex
	batches []int // events per commit that carried events, in commit order
	mixed   int   // commits that carried events and results both
	results int   // results committed
	claims  int   // ClaimTasks calls
	stall   chan chan struct{}
	hold    chan chan struct{}
	// full makes it refuse commits of results and to renew leases, as
	// SQLite does when its disk is full.
	full atomic.Bool
}

var errFull = errors.New("complete tasks: database or disk is full (13)")

// stallNext makes the next commit of events send a channel on the
// returned one and wait, before writing, until that channel is closed.
func (s *rigStore) stallNext() <-chan chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stall = make(chan chan struct{}, 1)
	return s.stall
}

// awaitRelease sends a channel on gate, when there is one, and blocks until the
// test closes it.
func awaitRelease(gate chan chan struct{}) {
	if gate == nil {
		return
	}
	release := make(chan struct{})
	gate <- release
	<-release
}

// holdNextComplete makes the next commit of results, once committed,
// send a channel on the returned one and wait until that channel is
// closed: the engine's writer held right after it committed attempt
// results, before the worker that waits for the commit hears of it.
func (s *rigStore) holdNextComplete() <-chan chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = make(chan chan struct{}, 1)
	return s.hold
}

func (s *rigStore) Commit(ctx context.Context, evs []store.NewEvent, rs []store.TaskResult) ([]store.Accepted, []string, error) {
	if len(rs) > 0 && s.full.Load() {
		return nil, nil, errFull
	}
	s.mu.Lock()
	var stall, hold chan chan struct{}
	if len(evs) > 0 {
		stall, s.stall = s.stall, nil
	}
	s.mu.Unlock()
	awaitRelease(stall)
	res, stale, err := s.Store.Commit(ctx, evs, rs)
	s.mu.Lock()
	if err == nil && len(evs) > 0 {
		s.batches = append(s.batches, len(evs))
	}
	if err == nil && len(evs) > 0 && len(rs) > 0 {
		s.mixed++
	}
	if err == nil {
		s.results += len(rs)
	}
	if len(rs) > 0 {
		hold, s.hold = s.hold, nil
	}
	s.mu.Unlock()
	awaitRelease(hold)
	return res, stale, err
}

// mixedCommits returns how many commits carried events and results both.
func (s *rigStore) mixedCommits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mixed
}

func (s *rigStore) ClaimTasks(ctx context.Context, c store.Claim) ([]store.Task, error) {
	s.mu.Lock()
	s.claims++
	s.mu.Unlock()
	return s.Store.ClaimTasks(ctx, c)
}

// claimCalls returns how many times the poller claimed tasks.
func (s *rigStore) claimCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.claims
}

// resultsCommitted returns how many results the engine's commits wrote.
func (s *rigStore) resultsCommitted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.results
}

// commits returns the number of events of each commit so far.
func (s *rigStore) commits() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.batches...)
}

func (s *rigStore) ExtendLeases(ctx context.Context, ls []store.TaskLease, d time.Duration) ([]string, error) {
	if s.full.Load() {
		return nil, errFull
	}
	return s.Store.ExtendLeases(ctx, ls, d)
}
