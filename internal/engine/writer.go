package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/groupcommit"
	"github.com/hookline/hookline/internal/store"
)

// errStopped is returned to callers whose write arrives after Stop.
var errStopped = errors.New("engine stopped")

// maxBatch bounds the rows one group-commit transaction carries.
const maxBatch = 500

// writeReq is one caller's rows: events to accept (with the caller's
// deadline) or attempt results to record.
type writeReq struct {
	evs []store.NewEvent
	rs  []store.TaskResult
	// deadline is when a caller of Accept answers whatever happened;
	// zero for results.
	deadline time.Time
	res      []store.Accepted
	stale    []string // task ids of rs the store refused as stale
	err      error
}

// writer is the group-commit writer: callers queue rows and wait; one
// goroutine drains whatever is queued, events being accepted and attempt
// results alike, writes it in one transaction (store.Commit, so one fsync
// for both) and wakes every caller of that batch (groupcommit). Under
// load batches grow by themselves; when idle a lone write commits at
// once, so no timer adds latency. A store that commits side by side
// (commitLanes: PostgreSQL) gets that many such goroutines, each with a
// batch of its own. Nothing is written before start.
//
// A caller answers 2xx only after its batch committed, and a caller of
// Accept never waits past its deadline (commitTimeout after it called, or
// its context's deadline if sooner): the transaction of a batch runs under
// the earliest deadline of its callers, less commitSlack, so the store
// gives up in time and its failure is definite — nothing was committed
// (store.ErrUnavailable, store.ErrDiskFull). A request still queued at its
// deadline is taken back, not written. The one open case is a commit sent
// whose answer does not come back, from the store or not at all by the
// deadline: then the caller gets store.ErrCommitUnknown, never a plain
// failure, since the batch may have committed.
type writer struct {
	store   Store
	group   *groupcommit.Group[*writeReq]
	observe func(kind string, rows int, d time.Duration)
	health  *health
	// commitTimeout bounds an Accept; completeTimeout a batch of results
	// only (a result not written in time leaves its task leased, so it
	// runs again once the lease expires).
	commitTimeout   time.Duration
	completeTimeout time.Duration
	// unlock lets batches commit: start calls it.
	unlock func()
}

// commitSlack is how long before its callers' deadline a batch's
// transaction must end, so that its answer reaches them in time.
func (w *writer) commitSlack() time.Duration {
	return min(max(w.commitTimeout/20, 5*time.Millisecond), 250*time.Millisecond)
}

// commitLanes is implemented by a store that commits transactions side
// by side: CommitLanes says how many of the writer's batches may commit at
// once. A store without it (SQLite: one write connection) gets one.
type commitLanes interface{ CommitLanes() int }

func newWriter(s Store, observe func(string, int, time.Duration), h *health, commitTimeout, completeTimeout time.Duration) *writer {
	w := &writer{
		store:           s,
		observe:         observe,
		health:          h,
		commitTimeout:   commitTimeout,
		completeTimeout: completeTimeout,
	}
	lanes := 1
	if cl, ok := s.(commitLanes); ok {
		lanes = max(cl.CommitLanes(), 1)
	}
	limit := groupcommit.NewLimit(lanes)
	limit.Hold() // until start
	w.unlock = limit.Release
	w.group = groupcommit.New(groupcommit.Config[*writeReq]{
		Commit: w.flush, MaxRows: maxBatch, Lanes: lanes, Limit: limit,
		Rows: func(r *writeReq) int { return len(r.evs) + len(r.rs) },
	})
	return w
}

// start lets the writer commit what is queued and what comes.
func (w *writer) start() { w.unlock() }

// stop refuses new writes (errStopped) and returns once the queued ones
// are written, so no caller waits forever. Only after start.
func (w *writer) stop() { w.group.Stop() }

// Accept commits evs and waits for the commit, until its deadline. An
// error is definite — nothing was committed — unless it is
// store.ErrCommitUnknown.
func (w *writer) Accept(ctx context.Context, evs []store.NewEvent) ([]store.Accepted, error) {
	deadline := time.Now().Add(w.commitTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	req := &writeReq{evs: evs, deadline: deadline}
	// A caller that leaves drops a request not yet written; one being
	// written is waited for so its outcome is known.
	switch err := w.group.Do(ctx, req, deadline); {
	case err == nil:
		if req.err != nil {
			return nil, req.err
		}
		return req.res, nil
	case errors.Is(err, groupcommit.ErrStopped):
		return nil, errStopped
	case errors.Is(err, groupcommit.ErrNotTaken):
		return nil, w.notQueued()
	case errors.Is(err, groupcommit.ErrNoAnswer):
		// Its batch should have ended commitSlack ago and has not
		// answered: a COMMIT held up on its way or on the disk.
		err := fmt.Errorf("%w: the database did not answer the commit within %s", store.ErrCommitUnknown, w.commitTimeout)
		w.health.failed(err)
		return nil, err
	default:
		return nil, err
	}
}

// notQueued is the error of a request whose deadline passed before the
// writer took it: earlier batches held the writer that long.
func (w *writer) notQueued() error {
	err := fmt.Errorf("%w: not written within %s: the database is slow to commit earlier writes", store.ErrUnavailable, w.commitTimeout)
	w.health.failed(err)
	return err
}

// Complete commits attempt results, waits for the commit and returns the
// task ids of the results the store refused as stale.
func (w *writer) Complete(rs []store.TaskResult) ([]string, error) {
	req := &writeReq{rs: rs}
	if err := w.group.Do(context.Background(), req, time.Time{}); err != nil {
		if errors.Is(err, groupcommit.ErrStopped) {
			return nil, errStopped
		}
		return nil, err
	}
	return req.stale, req.err
}

// flush writes one batch in one transaction. Its deadline is the earliest
// of its accepts' deadlines less commitSlack, or completeTimeout from now
// if that is sooner (a batch of results only has no other).
func (w *writer) flush(_ context.Context, reqs []*writeReq) {
	// A request with less than two slacks left would cut the batch's
	// time short for all: it fails alone, unwritten.
	slack := w.commitSlack()
	var late error
	kept := reqs[:0]
	for _, r := range reqs {
		if len(r.evs) > 0 && time.Until(r.deadline) < 2*slack {
			if late == nil {
				late = w.notQueued()
			}
			r.err = late
			continue
		}
		kept = append(kept, r)
	}
	reqs = kept
	if len(reqs) == 0 {
		return
	}
	deadline := time.Now().Add(w.completeTimeout)
	var evs []store.NewEvent
	var rs []store.TaskResult
	for _, r := range reqs {
		if len(r.evs) > 0 && r.deadline.Add(-slack).Before(deadline) {
			deadline = r.deadline.Add(-slack)
		}
		evs = append(evs, r.evs...)
		rs = append(rs, r.rs...)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	start := time.Now()
	res, stale, err := w.store.Commit(ctx, evs, rs)
	evsErr, rsErr := err, err
	if err != nil && len(evs) > 0 && len(rs) > 0 && store.Fault(err) == nil {
		// Not a fault of the database but of the rows (a result the
		// store refuses, say): neither part is to fail for the other,
		// so each is written alone.
		res, _, evsErr = w.store.Commit(ctx, evs, nil)
		_, stale, rsErr = w.store.Commit(ctx, nil, rs)
		err = errors.Join(evsErr, rsErr)
	}
	cancel()
	took := time.Since(start)
	if len(evs) > 0 {
		w.observe("accept", len(evs), took)
	}
	if len(rs) > 0 {
		w.observe("complete", len(rs), took)
	}
	w.health.record(err)
	refused := make(map[string]bool, len(stale))
	for _, id := range stale {
		refused[id] = true
	}
	off := 0
	for _, r := range reqs {
		if len(r.evs) > 0 {
			r.err = evsErr
			if evsErr == nil {
				r.res = res[off : off+len(r.evs)]
			}
			off += len(r.evs)
			continue
		}
		r.err = rsErr
		for _, res := range r.rs {
			if refused[res.TaskID] {
				r.stale = append(r.stale, res.TaskID)
			}
		}
	}
}
