package engine

import (
	"context"
	"errors"
	"time"

	"github.com/hookline/hookline/internal/store"
)

// errStopped is returned to callers whose write arrives after Stop.
var errStopped = errors.New("engine stopped")

// maxBatch bounds the rows one group-commit transaction carries.
const maxBatch = 500

type acceptReq struct {
	evs  []store.NewEvent
	res  []store.Accepted
	done chan error
}

type completeReq struct {
	rs   []store.TaskResult
	done chan error
}

// writer is the group-commit writer: callers queue rows and wait; one
// goroutine drains whatever is queued, writes it in one transaction per kind
// and wakes every caller of that batch. Under load batches grow by
// themselves; when idle a lone write commits at once, so no timer adds
// latency.
type writer struct {
	store    store.Store
	accepts  chan *acceptReq
	complete chan *completeReq
	quit     chan struct{}
	done     chan struct{}
	observe  func(kind string, rows int, d time.Duration)
}

func newWriter(s store.Store, observe func(string, int, time.Duration)) *writer {
	return &writer{
		store:    s,
		accepts:  make(chan *acceptReq, 1024),
		complete: make(chan *completeReq, 1024),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		observe:  observe,
	}
}

// Accept commits evs and waits for the commit.
func (w *writer) Accept(ctx context.Context, evs []store.NewEvent) ([]store.Accepted, error) {
	req := &acceptReq{evs: evs, done: make(chan error, 1)}
	select {
	case w.accepts <- req:
	case <-w.quit:
		return nil, errStopped
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Once queued the write will happen; wait for it even if ctx ends so
	// the caller never answers "failed" for a committed event.
	if err := <-req.done; err != nil {
		return nil, err
	}
	return req.res, nil
}

// Complete commits attempt results and waits for the commit.
func (w *writer) Complete(rs []store.TaskResult) error {
	req := &completeReq{rs: rs, done: make(chan error, 1)}
	select {
	case w.complete <- req:
	case <-w.quit:
		return errStopped
	}
	return <-req.done
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
// maxBatch rows, and returns the requests and their rows in order.
func gather[R, T any](first R, ch <-chan R, rows func(R) []T) ([]R, []T) {
	reqs := []R{first}
	n := len(rows(first))
	for n < maxBatch {
		select {
		case r := <-ch:
			reqs = append(reqs, r)
			n += len(rows(r))
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
	reqs, all := gather(first, w.accepts, func(r *acceptReq) []store.NewEvent { return r.evs })
	start := time.Now()
	res, err := w.store.AcceptEvents(context.Background(), all)
	w.observe("accept", len(all), time.Since(start))
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
	reqs, all := gather(first, w.complete, func(r *completeReq) []store.TaskResult { return r.rs })
	start := time.Now()
	err := w.store.CompleteTasks(context.Background(), all)
	w.observe("complete", len(all), time.Since(start))
	for _, r := range reqs {
		r.done <- err
	}
}
