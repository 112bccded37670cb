package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/store"
)

// health is whether the store takes writes, as the writer last saw it: a
// write failing for a fault of the database (store.Fault) makes it
// unhealthy, a write that commits or a passing probe (store.CheckWrite)
// healthy again.
type health struct {
	log   *slog.Logger
	clock clock.Clock

	mu    sync.Mutex
	err   error     // the last write's fault; nil while writes succeed
	since time.Time // when writes started failing
}

// record notes the outcome of a write: nil or a fault change the state,
// other errors (a conflict, a bug) say nothing about the database.
func (h *health) record(err error) {
	switch {
	case err == nil:
		h.ok()
	case store.Fault(err) != nil:
		h.failed(err)
	}
}

func (h *health) failed(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		h.since = h.clock.Now()
		h.log.Error("store: writes are failing; /readyz answers 503 until one succeeds", "error", err)
	}
	h.err = err
}

func (h *health) ok() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		h.log.Info("store: writes succeed again", "failing_for", h.clock.Now().Sub(h.since).Round(time.Millisecond))
	}
	h.err = nil
}

func (h *health) get() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// Health returns nil while the store takes writes, otherwise the error of
// the write that failed last: one that errors.Is store.ErrUnavailable,
// store.ErrDiskFull or store.ErrCommitUnknown. It recovers by itself: while
// it is not nil, the store is probed every ProbeInterval.
func (e *Engine) Health() error { return e.health.get() }

// probeLoop checks, while writes fail, whether the store takes them
// again, so that readiness recovers without traffic.
func (e *Engine) probeLoop(ctx context.Context) {
	defer e.loops.Done()
	every(ctx, e.cfg.ProbeInterval, nil, func() { e.probe(ctx) })
}

// probe checks, when writes have failed, whether the store takes them
// again.
func (e *Engine) probe(ctx context.Context) {
	if e.health.get() == nil {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, e.cfg.CommitTimeout)
	err := e.store.CheckWrite(pctx)
	cancel()
	switch {
	case err == nil:
		e.health.ok()
	case ctx.Err() == nil:
		e.log.DebugContext(ctx, "store: write check failed", "error", err)
	}
}

// bounded returns ctx with the deadline of one background store call, so
// that a database that stopped answering holds no loop for long.
func (e *Engine) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, e.cfg.StoreTimeout)
}
