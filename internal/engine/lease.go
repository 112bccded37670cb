package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/backoff"
	"github.com/hookline/hookline/internal/store"
)

// DefaultMaxUnsavedBytes bounds the attempt results held in memory while
// the store cannot take them (about 6,000 deliveries whose request and
// response bodies fill their 4 KiB logs).
const DefaultMaxUnsavedBytes = 64 << 20

// saveBackoff is the wait before each new try to save held results:
// 100 ms doubling up to 5 s, ±20%.
var saveBackoff = backoff.Exponential{Initial: 100 * time.Millisecond, Max: 5 * time.Second}

// heartbeatLoop renews the leases of every task this process holds and
// drops from its queues those another node took over.
func (e *Engine) heartbeatLoop(ctx context.Context) {
	defer e.loops.Done()
	every(ctx, e.cfg.Lease/3, nil, func() { e.extendLeases(ctx) })
}

// extendLeases renews the leases of every task this process holds once.
func (e *Engine) extendLeases(ctx context.Context) {
	ls := e.disp.leases()
	if len(ls) == 0 {
		return
	}
	cctx, cancel := e.bounded(ctx)
	lost, err := e.store.ExtendLeases(cctx, ls, e.cfg.Lease)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			e.log.ErrorContext(ctx, "extend leases", "error", err)
		}
		return
	}
	if len(lost) > 0 {
		// This node's leases lapsed (it could not renew them in time)
		// and other nodes claimed the tasks: running ones finish and
		// their results are refused; queued ones must not run here.
		evicted := e.disp.evictLost(lost)
		e.m.staleLeases.WithLabelValues("extend").Add(float64(len(lost)))
		e.log.WarnContext(ctx, "task leases taken over by another node", "tasks", len(lost), "dropped_from_queue", evicted)
	}
}

// leave takes this node out of the cluster as it stops: its membership
// goes, and its buckets with no attempt running here are released, so the
// other nodes take them (and the tasks released with them) at once; the
// buckets of running attempts follow when Stop has waited for them.
func (e *Engine) leave(owned []int) error {
	ctx, cancel := handover()
	defer cancel()
	var idle []int
	for _, b := range owned {
		if e.disp.running(func(destID string) bool { return store.Bucket(destID) == b }) == 0 {
			idle = append(idle, b)
		}
	}
	c := e.cluster
	err := errors.Join(c.Coordinator.Leave(ctx, c.NodeID), c.Coordinator.Release(ctx, c.NodeID, idle))
	e.announceRebalance(ctx)
	if err != nil {
		return fmt.Errorf("leave the cluster: %w", err)
	}
	return nil
}

// record commits an attempt's result through the group-commit writer and
// reports whether the task may be forgotten now. When the store cannot
// take the result (the database down, the disk full) the destination was
// reached all the same: the result is held and saved again by saveLoop,
// and the task stays known here meanwhile, so its lease is renewed and no
// poll runs it again. Only past MaxUnsavedBytes is a result dropped; its
// task then runs again once its lease expires.
func (e *Engine) record(t *store.Task, r store.TaskResult) bool {
	stale, err := e.writer.Complete([]store.TaskResult{r})
	if err == nil {
		e.recorded(t, r, len(stale) > 0)
		return true
	}
	if !e.hold(t, r, err) {
		e.log.Error("record attempt: the result is dropped and the task runs again when its lease expires",
			"task_id", t.ID, "error", err)
		return true
	}
	return false
}

// recorded accounts for a result the store took, or refused as stale.
func (e *Engine) recorded(t *store.Task, r store.TaskResult, stale bool) {
	if stale {
		// Another node took the task over after this node's lease lapsed
		// (what it wrote stands), or a save retried after an error had in
		// fact landed the first time.
		e.m.staleLeases.WithLabelValues("complete").Inc()
		e.log.Info("attempt result not written: another node holds the task now, or the result was written already",
			"task_id", t.ID, "attempt", r.Attempt.Number)
		return
	}
	e.m.observeAttempt(t, r.Attempt, r.Status)
	if r.Status == store.StatusRetrying && r.NextAt.Sub(e.clock.Now()) <= e.cfg.PollInterval {
		e.pokeAt(r.NextAt)
	}
}

// unsaved holds the results the store could not take, by task id, within a
// bound on their size.
type unsaved struct {
	max  int
	mu   sync.Mutex
	res  map[string]heldResult
	size int
	wake chan struct{}
}

type heldResult struct {
	t    *store.Task
	r    store.TaskResult
	size int
}

func newUnsaved(maxBytes int) unsaved {
	return unsaved{max: maxBytes, res: map[string]heldResult{}, wake: make(chan struct{}, 1)}
}

// resultSize estimates the memory a held result takes.
func resultSize(r *store.TaskResult) int {
	a := &r.Attempt
	n := 512 + len(a.RequestURL) + len(a.RequestBody) + len(a.ResponseBody) + len(a.Detail) + len(a.Error) + len(r.LastError)
	for k, v := range a.RequestHeaders {
		n += len(k) + len(v)
	}
	for k, v := range a.ResponseHeaders {
		n += len(k) + len(v)
	}
	return n
}

// hold keeps a result the store refused with err, unless that would pass
// the bound; it reports whether it did.
func (e *Engine) hold(t *store.Task, r store.TaskResult, err error) bool {
	h := &e.held
	size := resultSize(&r)
	h.mu.Lock()
	if h.size+size > h.max {
		h.mu.Unlock()
		return false
	}
	first := len(h.res) == 0
	h.res[t.ID] = heldResult{t: t, r: r, size: size}
	h.size += size
	n := len(h.res)
	h.mu.Unlock()
	e.m.unsaved.Set(float64(n))
	if first {
		// One line per outage, not one per result.
		e.log.Warn("cannot save attempt results; keeping them and saving again until the store takes them", "error", err)
	}
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return true
}

// batch returns up to maxBatch held results, oldest attempt first.
func (h *unsaved) batch() []heldResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]heldResult, 0, min(len(h.res), maxBatch))
	for _, x := range h.res {
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b heldResult) int { return a.r.Attempt.StartedAt.Compare(b.r.Attempt.StartedAt) })
	return out[:min(len(out), maxBatch)]
}

func (h *unsaved) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.res)
}

// saveLoop saves held results again, with backoff, until ctx ends.
func (e *Engine) saveLoop(ctx context.Context) {
	defer e.saving.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.held.wake:
		}
		e.saveHeld(ctx)
	}
}

// saveHeld tries to save every held result until none is left or ctx
// ends, waiting longer after each failed try.
func (e *Engine) saveHeld(ctx context.Context) {
	for try := 1; e.held.len() > 0; {
		if e.saveBatch() {
			try = 1
			continue
		}
		delay := saveBackoff.Delay(try, e.rnd)
		try++
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// saveBatch tries once to save a batch of held results and reports
// whether the store took it.
func (e *Engine) saveBatch() bool {
	b := e.held.batch()
	rs := make([]store.TaskResult, len(b))
	for i := range b {
		rs[i] = b[i].r
	}
	stale, err := e.writer.Complete(rs)
	if err != nil {
		e.log.Debug("save held attempt results", "results", len(rs), "error", err)
		return false
	}
	e.held.mu.Lock()
	for _, x := range b {
		delete(e.held.res, x.t.ID)
		e.held.size -= x.size
	}
	n := len(e.held.res)
	e.held.mu.Unlock()
	e.m.unsaved.Set(float64(n))
	if n == 0 {
		e.log.Info("held attempt results saved")
	}
	for _, x := range b {
		e.recorded(x.t, x.r, slices.Contains(stale, x.t.ID))
		if e.disp.forget(x.t) {
			e.pokePoller()
		}
	}
	return true
}

// flushHeld tries to save the held results until ctx ends, as Stop does
// before the writer closes; those left are lost with this process and
// their tasks run again.
func (e *Engine) flushHeld(ctx context.Context) {
	e.saveHeld(ctx)
	if n := e.held.len(); n > 0 {
		e.log.Error("stopped with attempt results not saved; their tasks run again", "results", n)
	}
}
