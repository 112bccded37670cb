package engine_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// stallingStore holds a commit of events, whatever its context says,
// while stall is set and until release is closed, then writes: a COMMIT
// stuck on a stalled disk, which lands after all.
type stallingStore struct {
	store.Store
	stall   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (s *stallingStore) Commit(ctx context.Context, evs []store.NewEvent, rs []store.TaskResult) ([]store.Accepted, []string, error) {
	if len(evs) > 0 && s.stall.Load() {
		s.entered <- struct{}{}
		<-s.release
		ctx = context.WithoutCancel(ctx)
	}
	return s.Store.Commit(ctx, evs, rs)
}

type oneTarget struct{}

func (oneTarget) Route(context.Context, *event.Event) ([]engine.Target, error) {
	return []engine.Target{{Kind: testKind, DestinationID: "dst_1"}}, nil
}

func (oneTarget) Execute(context.Context, *store.Task) engine.Outcome { return engine.Outcome{} }

// TestCommitDeadline: a publish whose batch is stuck in the store is
// answered at commit_timeout with store.ErrCommitUnknown — its commit may
// land, and here it does — while one still queued behind it is taken back
// with store.ErrUnavailable and never written. Health says writes fail
// until one commits.
func TestCommitDeadline(t *testing.T) {
	t.Parallel()
	db := openStore(t)
	s := &stallingStore{Store: db, entered: make(chan struct{}, 1), release: make(chan struct{})}
	const timeout = 300 * time.Millisecond
	eng, err := engine.New(engine.Config{Store: s, Executors: map[string]engine.Executor{testKind: oneTarget{}},
		Routers: []engine.Router{oneTarget{}}, CommitTimeout: timeout, ExclusiveStore: true})
	require.NoError(t, err)
	require.NoError(t, eng.Start(t.Context()))
	t.Cleanup(func() { require.NoError(t, eng.Stop(context.Background())) })
	var released sync.Once
	release := func() { released.Do(func() { close(s.release) }) }
	t.Cleanup(release) // before Stop, which waits for the writer

	s.stall.Store(true)
	stuck, queued := newEvent("order.created"), newEvent("order.created")
	stuckErr := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := eng.Publish(t.Context(), []event.Event{stuck})
		stuckErr <- err
	}()
	<-s.entered
	_, err = eng.Publish(t.Context(), []event.Event{queued})
	require.ErrorIs(t, err, store.ErrUnavailable, "taken back unwritten")
	require.NotErrorIs(t, err, store.ErrCommitUnknown)
	err = <-stuckErr
	took := time.Since(start)
	require.ErrorIs(t, err, store.ErrCommitUnknown)
	require.NotErrorIs(t, err, store.ErrUnavailable, "never a plain failure: it may commit")
	require.Less(t, took, timeout+200*time.Millisecond, "answered at the deadline")
	require.NotNil(t, store.Fault(eng.Health()), "writes are failing")

	s.stall.Store(false)
	release()
	require.Eventually(t, func() bool {
		_, err := db.GetEvent(t.Context(), testTenant, stuck.ID)
		return err == nil
	}, 5*time.Second, 10*time.Millisecond, "the stuck commit landed: 'unknown' was the honest answer")
	_, err = eng.Publish(t.Context(), []event.Event{newEvent("order.created")})
	require.NoError(t, err)
	require.NoError(t, eng.Health(), "a commit makes writes healthy again")
	_, err = db.GetEvent(t.Context(), testTenant, queued.ID)
	require.ErrorIs(t, err, store.ErrNotFound, "the request taken back was never written")
}
