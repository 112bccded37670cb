package engine_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/store"
)

// dst is the one destination the tests of this file send to.
const dst = "dst_1"

// publishHeld publishes one task to dst and waits until its first result
// is committed: the worker that ran it does not learn so until release
// is closed.
func (r *rig) publishHeld(t *testing.T) (task store.Task, release chan struct{}) {
	t.Helper()
	held := r.store.holdNextComplete()
	task = r.publish(t, dst)[0]
	return task, <-held
}

// retriedAt releases the recorded result of task and requires its retry
// to have run at once, at at, and succeeded.
func (r *rig) retriedAt(t *testing.T, task store.Task, release chan struct{}, at time.Time) {
	t.Helper()
	close(release)
	synctest.Wait()
	attempts := r.attempts()
	require.Len(t, attempts, 2, "the retry ran")
	require.Equal(t, at, attempts[1].start, "at once, not after the lease")
	require.Equal(t, store.StatusSucceeded, r.task(t, task.ID).Status)
}

// TestRetryWhileResultIsRecorded retries a failed task after its failure
// is committed but before the worker that ran it has forgotten it, as a
// recover right after the status turned "failed" can: the retry must run
// at once, not when the lease taken by the retry expires.
func TestRetryWhileResultIsRecorded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		r.answers(dst, engine.Outcome{Err: errDown, Permanent: true})
		task, release := r.publishHeld(t)
		require.Equal(t, store.StatusFailed, r.task(t, task.ID).Status)

		_, err := r.eng.Retry(t.Context(), testTenant, []string{task.ID})
		require.NoError(t, err)
		r.retriedAt(t, task, release, time.Now())
	})
}

// TestDueRetryClaimedWhileResultIsRecorded lets the poller claim a retry
// that is due at once while the worker that recorded the failure has not
// forgotten the task yet: the retry must run at once, not when the
// poller's lease expires.
func TestDueRetryClaimedWhileResultIsRecorded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		r.answers(dst, engine.Outcome{Err: errDown, Schedule: []time.Duration{0}})
		task, release := r.publishHeld(t)
		time.Sleep(testPoll) // a poll
		synctest.Wait()
		claimed := r.task(t, task.ID)
		require.Equal(t, store.StatusRetrying, claimed.Status)
		require.True(t, claimed.LeaseUntil.After(time.Now()), "the poller claimed the due retry")
		r.retriedAt(t, task, release, time.Now())
	})
}

// TestStaleCopyWhileRecordingRunsOnce pushes a leased copy of a task
// read before its attempt, as a poller that re-claimed it after a lapsed
// lease would, while the attempt's result is being recorded: the copy
// holds no newer state than the run here, so the task runs once.
func TestStaleCopyWhileRecordingRunsOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		task, release := r.publishHeld(t)
		stale := task
		stale.Status, stale.Attempts, stale.LeaseFor = store.StatusPending, 0, testLease
		r.eng.Schedule(t.Context(), []store.Task{stale})
		close(release)
		synctest.Wait()
		time.Sleep(3 * testPoll)
		synctest.Wait()
		require.Len(t, r.attempts(), 1)
		require.Equal(t, store.StatusSucceeded, r.task(t, task.ID).Status)
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
		r := newRig(t, nil)
		r.store.full.Store(true)
		task := r.publish(t, dst)[0]
		synctest.Wait()
		require.Len(t, r.attempts(), 1)
		require.Equal(t, store.StatusPending, r.task(t, task.ID).Status, "nothing saved while the store refuses it")

		time.Sleep(3 * testLease)
		synctest.Wait()
		require.Len(t, r.attempts(), 1, "not sent again while its result waits to be saved")

		r.store.full.Store(false)
		time.Sleep(10 * time.Second) // more than the longest wait between saves
		synctest.Wait()
		got := r.task(t, task.ID)
		require.Equal(t, store.StatusSucceeded, got.Status, "the held result is saved")
		require.Equal(t, 1, got.Attempts)
		atts, err := r.store.ListAttempts(t.Context(), testTenant, task.ID)
		require.NoError(t, err)
		require.Len(t, atts, 1)
		require.Len(t, r.attempts(), 1)
	})
}

// TestHeldResultsAreBounded: past MaxUnsavedBytes a result is not held;
// its task runs again once its lease has expired, as before results were
// held, and nothing is lost.
func TestHeldResultsAreBounded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, func(c *engine.Config) { c.MaxUnsavedBytes = 1 })
		r.store.full.Store(true)
		task := r.publish(t, dst)[0]
		synctest.Wait()
		require.Len(t, r.attempts(), 1)
		r.store.full.Store(false)
		time.Sleep(testLease + 2*testPoll)
		synctest.Wait()
		require.Len(t, r.attempts(), 2, "run again after the lease")
		require.Equal(t, store.StatusSucceeded, r.task(t, task.ID).Status)
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
		r := newRig(t, nil)
		gate := make(chan struct{})
		r.script(dst, func(n int) step {
			if n == 1 {
				return step{wait: gate}
			}
			return step{}
		})
		task := r.publish(t, dst)[0]
		synctest.Wait()
		require.Len(t, r.attempts(), 1)
		ctx := t.Context()
		held := r.task(t, task.ID)
		require.NoError(t, r.store.ReleaseTasks(ctx, []store.TaskLease{held.Lease()}))
		other, err := r.store.ClaimTasks(ctx, store.Claim{Now: time.Now(), Lease: time.Hour, Owner: "node-other", Limit: 10})
		require.NoError(t, err)
		require.Len(t, other, 1)
		require.Greater(t, other[0].LeaseToken, held.LeaseToken)
		close(gate)
		synctest.Wait()
		got := r.task(t, task.ID)
		require.Equal(t, store.StatusPending, got.Status, "the stale result changed nothing")
		require.Equal(t, "node-other", got.LeaseOwner)
		require.Equal(t, other[0].LeaseToken, got.LeaseToken)
		atts, err := r.store.ListAttempts(ctx, testTenant, task.ID)
		require.NoError(t, err)
		require.Empty(t, atts)

		next := r.publish(t, dst)[0]
		synctest.Wait()
		require.Equal(t, store.StatusSucceeded, r.task(t, next.ID).Status, "the engine carries on")
	})
}

// TestPublishToSkipsRouting publishes an event to one named destination:
// it goes there only, not where its type routes it.
func TestPublishToSkipsRouting(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		ev := newEvent(dst) // routes to dst
		p, err := r.eng.PublishTo(t.Context(), ev, []engine.Target{{Kind: testKind, DestinationID: "dst_2"}})
		require.NoError(t, err)
		require.Equal(t, 1, p.Tasks)
		synctest.Wait()
		attempts := r.attempts()
		require.Len(t, attempts, 1)
		require.Equal(t, "dst_2", attempts[0].dest)
	})
}

// TestResultRecordedByExecutor: an executor that writes its attempt's
// result with its own writes (engine.ResultOf) returns it as
// Outcome.Recorded, and the engine does not write it again.
func TestResultRecordedByExecutor(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		r.script(dst, func(int) step {
			return step{out: engine.Outcome{Attempt: store.Attempt{Outcome: "done"}}, record: true}
		})
		task := r.publish(t, dst)[0]
		synctest.Wait()
		require.Equal(t, store.StatusSucceeded, r.task(t, task.ID).Status)
		attempts, err := r.store.ListAttempts(t.Context(), testTenant, task.ID)
		require.NoError(t, err)
		require.Len(t, attempts, 1)
		require.Equal(t, "done", attempts[0].Outcome)
		require.Equal(t, 1, attempts[0].Number)
		require.Zero(t, r.store.resultsCommitted(), "the engine wrote no result")

		_, ok := engine.ResultOf(t.Context(), engine.Outcome{})
		require.False(t, ok, "no result outside an attempt")
	})
}

// TestWorkerGoesOnWhileItsResultCommits: a worker hands its result to the
// writer and runs the next task while that commit is still in progress;
// both results are saved once it ends.
func TestWorkerGoesOnWhileItsResultCommits(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, func(c *engine.Config) { c.Workers = 1 })
		gate := make(chan struct{})
		r.script("dst_a", func(int) step { return step{wait: gate} })
		tasks := r.publish(t, "dst_a", "dst_b")
		synctest.Wait()
		require.Len(t, r.attempts(), 1, "one worker")
		held := r.store.holdNextComplete()
		close(gate)
		release := <-held // dst_a's result committed, its writer held
		synctest.Wait()
		require.Len(t, r.attempts("dst_b"), 1, "the worker ran the next task meanwhile")
		close(release)
		synctest.Wait()
		for _, task := range tasks {
			require.Equal(t, store.StatusSucceeded, r.task(t, task.ID).Status)
		}
	})
}

// TestFullQueueBacklogClaimedAsItDrains: tasks left in the store because
// their destination's queue was full are claimed as soon as that queue
// drains to half, not a poll later; tasks of other destinations finishing
// meanwhile do not make the poller claim, since its claims skip the full
// queue.
func TestFullQueueBacklogClaimedAsItDrains(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const queueCap = 4
		r := newRig(t, func(c *engine.Config) { c.QueueCap = queueCap })
		gate := make(chan struct{})
		r.script(dst, func(int) step { return step{wait: gate} })
		start := time.Now()
		var ids []string
		for range 3 * queueCap {
			ids = append(ids, r.send(t, dst)...)
		}
		synctest.Wait()
		require.Len(t, r.attempts(dst), queueCap, "the queue holds queueCap; the rest wait in the store")
		claims := r.store.claimCalls()
		for range 20 {
			// One at a time, so that this queue never fills.
			r.send(t, "other")
			synctest.Wait()
		}
		require.Len(t, r.attempts("other"), 20)
		require.Equal(t, claims, r.store.claimCalls(), "other destinations' tasks finishing poke no poll")

		close(gate)
		synctest.Wait()
		require.Equal(t, start, time.Now(), "no poll interval passed")
		for _, id := range ids {
			require.Equal(t, store.StatusSucceeded, r.task(t, id).Status, "task %s", id)
		}
	})
}
