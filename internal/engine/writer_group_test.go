package engine_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// publishAll publishes each of evs from its own goroutine, as concurrent
// requests do, and returns a function that waits for them and returns
// their errors.
func (r *rig) publishAll(ctx context.Context, evs []event.Event) (wait func() []error) {
	errs := make([]error, len(evs))
	var wg sync.WaitGroup
	for i := range evs {
		wg.Go(func() {
			pub, err := r.eng.Publish(ctx, evs[i:i+1])
			if err == nil && pub[0].Event.ID != evs[i].ID {
				err = errMixedUp
			}
			errs[i] = err
		})
	}
	return func() []error { wg.Wait(); return errs }
}

var errMixedUp = errors.New("a caller got another caller's event back")

// TestConcurrentPublishesShareACommit: publishes that arrive while a
// commit is under way wait for it and then go in one commit together,
// each caller answered with its own event; a batch carries at most 500
// events, the rest go in the next one.
func TestConcurrentPublishesShareACommit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		waiting int
		want    []int
	}{
		{name: "one commit for all waiting", waiting: 10, want: []int{1, 10}},
		{name: "500 at most", waiting: 600, want: []int{1, 500, 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, nil)
				stalled := r.store.stallNext()
				first := r.publishAll(t.Context(), []event.Event{newEvent("dst_1")})
				release := <-stalled
				evs := make([]event.Event, tc.waiting)
				for i := range evs {
					evs[i] = newEvent("dst_1")
				}
				rest := r.publishAll(t.Context(), evs)
				synctest.Wait() // every publish is queued behind the stalled commit
				close(release)
				require.Equal(t, []error{nil}, first())
				for i, err := range rest() {
					require.NoError(t, err, "publish %d", i)
				}
				require.Equal(t, tc.want, r.store.commits())
				for _, ev := range evs {
					_, err := r.store.GetEvent(t.Context(), testTenant, ev.ID)
					require.NoError(t, err)
				}
			})
		})
	}
}

// TestStopDrainsQueuedWrites: Stop while publishes wait behind a commit
// in progress writes them before it returns, so every caller is answered
// and every answer is true; their tasks are left without a lease for the
// next run.
func TestStopDrainsQueuedWrites(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		stalled := r.store.stallNext()
		evs := []event.Event{newEvent("dst_1")}
		first := r.publishAll(t.Context(), evs)
		release := <-stalled
		queued := make([]event.Event, 5)
		for i := range queued {
			queued[i] = newEvent("dst_1")
		}
		rest := r.publishAll(t.Context(), queued)
		synctest.Wait()

		stopped := make(chan error, 1)
		go func() { stopped <- r.eng.Stop(context.Background()) }()
		synctest.Wait()
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned (%v) before the queued writes were written", err)
		default:
		}
		close(release)
		require.NoError(t, <-stopped)
		require.Equal(t, []error{nil}, first())
		require.Equal(t, make([]error, len(queued)), rest())
		require.Equal(t, []int{1, 5}, r.store.commits())

		now := time.Now()
		for _, ev := range append(evs, queued...) {
			ts, err := r.store.ListTasks(t.Context(), testTenant, store.TaskQuery{EventID: ev.ID})
			require.NoError(t, err)
			require.Len(t, ts, 1)
			require.Equal(t, store.StatusPending, ts[0].Status)
			require.False(t, ts[0].LeaseUntil.After(now), "no lease left to wait for")
		}
	})
}

// TestResultsSharePublishesCommit: an attempt's result that arrives while
// a commit is under way goes into the next commit with the publishes
// queued beside it, one transaction for both; and a result the store
// refuses (not a fault of the database) does not fail those publishes:
// the two parts are then written apart.
func TestResultsSharePublishesCommit(t *testing.T) {
	t.Parallel()
	for _, refuse := range []bool{false, true} {
		name := map[bool]string{false: "one commit", true: "result refused"}[refuse]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, nil)
				gate := make(chan struct{})
				r.script("dst_1", func(int) step { return step{wait: gate} })
				held := r.send(t, "dst_1")[0]
				synctest.Wait() // its attempt is running, held at the gate

				stalled := r.store.stallNext()
				first := r.publishAll(t.Context(), []event.Event{newEvent("dst_2")})
				release := <-stalled
				close(gate) // the result now waits behind the stalled commit
				next := newEvent("dst_2")
				rest := r.publishAll(t.Context(), []event.Event{next})
				synctest.Wait()
				r.store.full.Store(refuse)
				close(release)
				require.Equal(t, []error{nil}, first())
				require.Equal(t, []error{nil}, rest(), "the publish is written whatever became of the result")
				_, err := r.store.GetEvent(t.Context(), testTenant, next.ID)
				require.NoError(t, err)
				synctest.Wait()
				task := r.task(t, held)
				if refuse {
					require.Zero(t, r.store.mixedCommits())
					require.Zero(t, task.Attempts, "the refused result is not written")
					r.store.full.Store(false)
					return
				}
				require.Equal(t, 1, r.store.mixedCommits(), "the result and the publish shared a commit")
				require.Equal(t, store.StatusSucceeded, task.Status)
			})
		})
	}
}
