package engine

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/internal/store"
)

// errStopped is returned to callers whose write arrives after Stop.
var errStopped = errors.New("engine stopped")

// maxBatch bounds the rows one group-commit transaction carries.
const maxBatch = 500

// States of an acceptReq: a caller whose deadline passes while its request
// is still queued takes it back (abandoned), and the writer skips it; once
// the writer has taken it into a batch, the caller waits for the batch.
const (
	reqQueued int32 = iota
	reqTaken
	reqAbandoned
)

type acceptReq struct {
	evs []store.NewEvent
	// deadline is when the caller answers whatever happened.
	deadline time.Time
	state    atomic.Int32
	res      []store.Accepted
	done     chan error
}

type completeReq struct {
	rs    []store.TaskResult
	stale []string // task ids of rs the store refused as stale
	done  chan error
}

// writer is the group-commit writer: callers queue rows and wait; one
// goroutine drains whatever is queued, writes it in one transaction per kind
// and wakes every caller of that batch. Under load batches grow by
// themselves; when idle a lone write commits at once, so no timer adds
// latency.
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
	store    Store
	accepts  chan *acceptReq
	complete chan *completeReq
	quit     chan struct{}
	done     chan struct{}
	observe  func(kind string, rows int, d time.Duration)
	health   *health
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
	return &writer{
		store:           s,
		accepts:         make(chan *acceptReq, 1024),
		complete:        make(chan *completeReq, 1024),
		quit:            make(chan struct{}),
		done:            make(chan struct{}),
		observe:         observe,
		health:          h,
		commitTimeout:   commitTimeout,
		completeTimeout: completeTimeout,
	}
}

// Accept commits evs and waits for the commit, until its deadline. An
// error is definite — nothing was committed — unless it is
// store.ErrCommitUnknown.
func (w *writer) Accept(ctx context.Context, evs []store.NewEvent) ([]store.Accepted, error) {
	deadline := time.Now().Add(w.commitTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	req := &acceptReq{evs: evs, deadline: deadline, done: make(chan error, 1)}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case w.accepts <- req:
	case <-w.quit:
		return nil, errStopped
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		return nil, w.notQueued()
	}
	result := func(err error) ([]store.Accepted, error) {
		if err != nil {
			return nil, err
		}
		return req.res, nil
	}
	cancelled := ctx.Done()
	for {
		select {
		case err := <-req.done:
			return result(err)
		case <-cancelled:
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				cancelled = nil // the timer says the same
				continue
			}
			// The caller left; a request not yet written is dropped, one
			// being written is waited for so its outcome is known.
			if req.state.CompareAndSwap(reqQueued, reqAbandoned) {
				return nil, ctx.Err()
			}
			cancelled = nil
		case <-timer.C:
			if req.state.CompareAndSwap(reqQueued, reqAbandoned) {
				return nil, w.notQueued()
			}
			select {
			case err := <-req.done:
				return result(err)
			default:
			}
			// Its batch should have ended commitSlack ago and has not
			// answered: a COMMIT held up on its way or on the disk.
			err := fmt.Errorf("%w: the database did not answer the commit within %s", store.ErrCommitUnknown, w.commitTimeout)
			w.health.failed(err)
			return nil, err
		}
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
	req := &completeReq{rs: rs, done: make(chan error, 1)}
	select {
	case w.complete <- req:
	case <-w.quit:
		return nil, errStopped
	}
	err := <-req.done
	return req.stale, err
}

func (w *writer) run() {
	defer close(w.done)
	for {
		select {
		case req := <-w.accepts:
			w.flushAccepts(req)
		case req := <-w.complete:
			w.flushCompletes(req)
		case <-w.quit:
			// Drain what was queued before quit so no caller waits forever.
			for {
				select {
				case req := <-w.accepts:
					w.flushAccepts(req)
				case req := <-w.complete:
					w.flushCompletes(req)
				default:
					return
				}
			}
		}
	}
}

// gather takes first and whatever else is already queued on ch, up to
// maxBatch rows, and returns the requests and their rows in order. take
// says whether a request is still wanted (and claims it).
func gather[R, T any](first R, ch <-chan R, rows func(R) []T, take func(R) bool) ([]R, []T) {
	var reqs []R
	n := 0
	add := func(r R) {
		if take(r) {
			reqs = append(reqs, r)
			n += len(rows(r))
		}
	}
	add(first)
	for n < maxBatch {
		select {
		case r := <-ch:
			add(r)
			continue
		default:
		}
		break
	}
	all := make([]T, 0, n)
	for _, r := range reqs {
		all = append(all, rows(r)...)
	}
	return reqs, all
}

func (w *writer) flushAccepts(first *acceptReq) {
	reqs, all := gather(first, w.accepts, func(r *acceptReq) []store.NewEvent { return r.evs },
		func(r *acceptReq) bool { return r.state.CompareAndSwap(reqQueued, reqTaken) })
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
			r.done <- late
			continue
		}
		kept = append(kept, r)
	}
	reqs = kept
	if len(reqs) == 0 {
		return
	}
	deadline := reqs[0].deadline
	all = all[:0]
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
		r.done <- err
	}
}

func (w *writer) flushCompletes(first *completeReq) {
	reqs, all := gather(first, w.complete, func(r *completeReq) []store.TaskResult { return r.rs },
		func(*completeReq) bool { return true })
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
		r.done <- err
	}
}
