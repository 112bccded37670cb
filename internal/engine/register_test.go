package engine_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// followUp is an executor built with the engine it runs on, as the
// workflow runner is: each attempt publishes an order.followed event
// through that engine.
type followUp struct {
	eng *engine.Engine

	mu  sync.Mutex
	ids []string // the events published
}

func (f *followUp) Route(_ context.Context, ev *event.Event) ([]engine.Target, error) {
	if ev.Type != "order.created" {
		return nil, nil
	}
	return []engine.Target{{Kind: testKind, DestinationID: "dst_1"}}, nil
}

func (f *followUp) Execute(ctx context.Context, t *store.Task) engine.Outcome {
	ev := newEvent("order.followed")
	ev.TenantID = t.TenantID
	if _, err := f.eng.Publish(ctx, []event.Event{ev}); err != nil {
		return engine.Outcome{Err: err}
	}
	f.mu.Lock()
	f.ids = append(f.ids, ev.ID)
	f.mu.Unlock()
	return engine.Outcome{}
}

// TestRegisterBeforeStart builds the engine without executors, then an
// executor given the engine, registered before Start: its tasks run, and
// what it publishes through the engine is committed. An engine with no
// executor does not start; Register after Start, twice for a kind or
// with nil panics.
func TestRegisterBeforeStart(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := openStore(t)

		f := &followUp{}
		eng, err := engine.New(engine.Config{Store: s, Routers: []engine.Router{f}, ExclusiveStore: true})
		require.NoError(t, err)
		require.ErrorContains(t, eng.Start(t.Context()), "at least one executor")
		f.eng = eng
		eng.Register(testKind, f)
		require.PanicsWithValue(t, `engine: register executor "test": kind already registered`,
			func() { eng.Register(testKind, f) })
		require.PanicsWithValue(t, `engine: register executor "other": nil executor`,
			func() { eng.Register("other", nil) })
		require.NoError(t, eng.Start(t.Context()))
		t.Cleanup(func() { require.NoError(t, eng.Stop(context.Background())) })
		require.PanicsWithValue(t, `engine: register executor "other": after start`,
			func() { eng.Register("other", f) })

		ev := newEvent("order.created")
		pub, err := eng.Publish(t.Context(), []event.Event{ev})
		require.NoError(t, err)
		require.Equal(t, 1, pub[0].Tasks)
		synctest.Wait()

		ts, err := s.ListTasks(t.Context(), testTenant, store.TaskQuery{EventID: ev.ID})
		require.NoError(t, err)
		require.Len(t, ts, 1)
		require.Equal(t, store.StatusSucceeded, ts[0].Status)
		f.mu.Lock()
		ids := append([]string(nil), f.ids...)
		f.mu.Unlock()
		require.Len(t, ids, 1)
		got, err := s.GetEvent(t.Context(), testTenant, ids[0])
		require.NoError(t, err)
		require.Equal(t, "order.followed", got.Type)
	})
}
