package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/groupcommit"
	"github.com/hookline/hookline/internal/store"
)

// errStopped is returned to callers whose write arrives after Stop.
var errStopped = errors.New("engine stopped")

// maxBatch bounds the rows one group-commit transaction carries.
const maxBatch = 500

type acceptReq struct {
	evs []store.NewEvent
	// deadline is when the caller answers whatever happened.
	deadline time.Time
	res      []store.Accepted
	err      error
}

type completeReq struct {
	rs    []store.TaskResult
	stale []string // task ids of rs the store refused as stale
	err   error
}

// writer is the group-commit writer: callers queue rows and wait; one
// goroutine drains whatever is queued, writes it in one transaction per kind
// and wakes every caller of that batch (groupcommit, the two kinds sharing
// one Serial, so one transaction at a time). Under load batches grow by
// themselves; when idle a lone write commits at once, so no timer adds
// latency. Nothing is written before start.
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
	store     Store
	serial    *groupcommit.Serial
	accepts   *groupcommit.Group[*acceptReq]
	completes *groupcommit.Group[*completeReq]
	observe   func(kind string, rows int, d time.Duration)
	health    *health
	// commitTimeout bounds an Accept; completeTimeout a batch of results
	// (a result not written in time leaves its task leased, so it runs
	// again once the lease expires).
	commitTimeout   time.Duration
	completeTimeout time.Duration
}

// commitSlack is how long before its callers' deadline a batch's
// transaction must end, so that its answer reaches them in time.
func (w *writer) commitSlack() time.Duration {
	return min(max(w.commitTimeout/20, 5*time.Millisecond), 250*time.Millisecond)
}

func newWriter(s Store, observe func(string, int, time.Duration), h *health, commitTimeout, completeTimeout time.Duration) *writer {
	w := &writer{
		store:           s,
		serial:          groupcommit.NewSerial(),
		observe:         observe,
		health:          h,
		commitTimeout:   commitTimeout,
		completeTimeout: completeTimeout,
	}
	w.serial.Lock() // until start
	w.accepts = groupcommit.New(groupcommit.Config[*acceptReq]{
		Commit: w.flushAccepts, MaxRows: maxBatch, Serial: w.serial,
		Rows: func(r *acceptReq) int { return len(r.evs) },
	})
	w.completes = groupcommit.New(groupcommit.Config[*completeReq]{
		Commit: w.flushCompletes, MaxRows: maxBatch, Serial: w.serial,
		Rows: func(r *completeReq) int { return len(r.rs) },
	})
	return w
}

// start lets the writer commit what is queued and what comes.
func (w *writer) start() { w.serial.Unlock() }

// stop refuses new writes (errStopped) and returns once the queued ones
// are written, so no caller waits forever. Only after start.
func (w *writer) stop() {
	var wg sync.WaitGroup
	wg.Go(w.accepts.Stop)
	w.completes.Stop()
	wg.Wait()
}

// Accept commits evs and waits for the commit, until its deadline. An
// error is definite — nothing was committed — unless it is
// store.ErrCommitUnknown.
func (w *writer) Accept(ctx context.Context, evs []store.NewEvent) ([]store.Accepted, error) {
	deadline := time.Now().Add(w.commitTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	req := &acceptReq{evs: evs, deadline: deadline}
	// A caller that leaves drops a request not yet written; one being
	// written is waited for so its outcome is known.
	switch err := w.accepts.Do(ctx, req, deadline); {
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
	req := &completeReq{rs: rs}
	if err := w.completes.Do(context.Background(), req, time.Time{}); err != nil {
		if errors.Is(err, groupcommit.ErrStopped) {
			return nil, errStopped
		}
		return nil, err
	}
	return req.stale, req.err
}

func (w *writer) flushAccepts(_ context.Context, reqs []*acceptReq) {
	// A request with less than two slacks left would cut the batch's
	// time short for all: it fails alone, unwritten.
	slack := w.commitSlack()
	var late error
	kept := reqs[:0]
	for _, r := range reqs {
		if time.Until(r.deadline) < 2*slack {
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
	deadline := reqs[0].deadline
	var all []store.NewEvent
	for _, r := range reqs {
		if r.deadline.Before(deadline) {
			deadline = r.deadline
		}
		all = append(all, r.evs...)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(-slack))
	start := time.Now()
	res, err := w.store.AcceptEvents(ctx, all)
	cancel()
	w.observe("accept", len(all), time.Since(start))
	w.health.record(err)
	off := 0
	for _, r := range reqs {
		if err == nil {
			r.res = res[off : off+len(r.evs)]
		}
		off += len(r.evs)
		r.err = err
	}
}

func (w *writer) flushCompletes(_ context.Context, reqs []*completeReq) {
	var all []store.TaskResult
	for _, r := range reqs {
		all = append(all, r.rs...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.completeTimeout)
	start := time.Now()
	stale, err := w.store.CompleteTasks(ctx, all)
	cancel()
	w.observe("complete", len(all), time.Since(start))
	w.health.record(err)
	refused := make(map[string]bool, len(stale))
	for _, id := range stale {
		refused[id] = true
	}
	for _, r := range reqs {
		for _, res := range r.rs {
			if refused[res.TaskID] {
				r.stale = append(r.stale, res.TaskID)
			}
		}
		r.err = err
	}
}
