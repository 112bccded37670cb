// Package groupcommit writes what concurrent callers submit in shared
// batches: callers queue an item and wait; one goroutine takes everything
// queued, up to a bound, runs one commit for the batch and wakes each of
// its callers. Under load batches grow by themselves; when idle a lone
// item commits at once, so no timer adds latency. With Config.Lanes a
// group runs up to that many such goroutines, each committing a batch of
// its own, for a database that commits transactions side by side.
//
// A caller may bound its wait with a deadline. An item still queued at its
// caller's deadline is taken back, never written (ErrNotTaken); once taken
// into a batch the caller waits for the batch, up to the deadline
// (ErrNoAnswer: the batch may have committed or not).
//
// The package uses the standard library only, so store drivers may use it.
package groupcommit

import (
	"context"
	"errors"
	"sync"
	"time"
)

var (
	// ErrStopped is returned to a caller that submits after Stop.
	ErrStopped = errors.New("group commit stopped")
	// ErrNotTaken is returned when the caller's deadline passed before its
	// item was taken into a batch: the item was not written.
	ErrNotTaken = errors.New("deadline passed before the item was taken into a batch")
	// ErrNoAnswer is returned when the caller's deadline passed while its
	// item's batch was being committed: the outcome is unknown.
	ErrNoAnswer = errors.New("deadline passed while the batch was being committed")
)

// DefaultMaxRows bounds a batch when Config.MaxRows is zero.
const DefaultMaxRows = 500

// Config configures a Group.
type Config[T any] struct {
	// Commit writes one batch and stores each item's outcome in the item
	// itself (T is usually a pointer). ctx carries the values of the
	// batch's first caller without its cancellation. Required.
	Commit func(ctx context.Context, batch []T)
	// MaxRows bounds a batch: items are taken while the batch holds fewer
	// rows; an item is never split, so the last one may pass the bound.
	// Default DefaultMaxRows.
	MaxRows int
	// Rows is the number of rows of an item; nil counts each item as one.
	Rows func(T) int
	// Together says whether next may share a batch with first, the
	// batch's first item; an item that may not stays queued, in order, for
	// a later batch. Nil: any items go together.
	Together func(first, next T) bool
	// Lanes is how many batches the group may commit at once, each by a
	// goroutine of its own; default 1. More than one suits a database
	// that commits transactions side by side (PostgreSQL), where a commit
	// waits mostly on round trips and the disk: the next batch need not
	// wait for the one before it. Items are answered as their own batch
	// commits, in no particular order across lanes.
	Lanes int
	// Limit, when set, is held (one of its slots) while a batch is taken
	// and committed: the groups that share it commit at most its size of
	// batches at once, and their items stay queued (so can still be taken
	// back) while it is full.
	Limit *Limit
	// Detach makes a caller whose context ends return its context's error
	// at once, its item written anyway. Without it a caller that leaves
	// takes its item back if it is still queued, and otherwise waits for
	// its batch so that its outcome is known.
	Detach bool
}

// Limit bounds how many batches the groups sharing it commit at once. It
// is a channel rather than a mutex so that a group waiting for it is
// durably blocked under testing/synctest.
type Limit struct{ ch chan struct{} }

// NewLimit returns a Limit of n slots (at least one).
func NewLimit(n int) *Limit { return &Limit{ch: make(chan struct{}, max(n, 1))} }

// Lock takes one slot of l, waiting for one to be free.
func (l *Limit) Lock() { l.ch <- struct{}{} }

// Unlock frees a slot of l.
func (l *Limit) Unlock() { <-l.ch }

// Hold takes every slot of l: the groups sharing it commit nothing until
// Release, their items staying queued.
func (l *Limit) Hold() {
	for range cap(l.ch) {
		l.Lock()
	}
}

// Release frees the slots Hold took.
func (l *Limit) Release() {
	for range cap(l.ch) {
		l.Unlock()
	}
}

// Group is a group-commit queue. The zero value is not usable: see New.
type Group[T any] struct {
	cfg Config[T]

	mu      sync.Mutex
	queue   []*entry[T]
	running int           // goroutines committing batches, up to Lanes
	idle    chan struct{} // closed when the last of them ends
	stopped bool
}

type state int

const (
	queued state = iota
	taken
	abandoned
)

type entry[T any] struct {
	item  T
	ctx   context.Context
	state state // guarded by Group.mu
	done  chan struct{}
}

// New returns a Group. It panics without cfg.Commit.
func New[T any](cfg Config[T]) *Group[T] {
	if cfg.Commit == nil {
		panic("groupcommit: Config.Commit is required")
	}
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = DefaultMaxRows
	}
	if cfg.Lanes <= 0 {
		cfg.Lanes = 1
	}
	if cfg.Rows == nil {
		cfg.Rows = func(T) int { return 1 }
	}
	if cfg.Together == nil {
		cfg.Together = func(T, T) bool { return true }
	}
	return &Group[T]{cfg: cfg}
}

// Do queues item and waits until its batch was committed (nil: the
// outcome is in item), its deadline passes, or, as Config.Detach says, its
// context ends. A zero deadline means none; otherwise the earlier of
// deadline and ctx's deadline is the caller's deadline, and the errors at
// it are ErrNotTaken and ErrNoAnswer rather than ctx's.
func (g *Group[T]) Do(ctx context.Context, item T, deadline time.Time) error {
	if !deadline.IsZero() {
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
	}
	e := &entry[T]{item: item, ctx: ctx, done: make(chan struct{})}
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return ErrStopped
	}
	g.queue = append(g.queue, e)
	if g.running < g.cfg.Lanes {
		if g.running == 0 {
			g.idle = make(chan struct{})
		}
		g.running++
		go g.run()
	}
	g.mu.Unlock()

	var expired <-chan time.Time
	if !deadline.IsZero() {
		timer := time.NewTimer(time.Until(deadline))
		defer timer.Stop()
		expired = timer.C
	}
	cancelled := ctx.Done()
	for {
		select {
		case <-e.done:
			return nil
		case <-cancelled:
			if expired != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				cancelled = nil // the timer says the same
				continue
			}
			if g.cfg.Detach || g.takeBack(e) {
				return ctx.Err()
			}
			cancelled = nil
		case <-expired:
			if g.takeBack(e) {
				return ErrNotTaken
			}
			select {
			case <-e.done:
				return nil
			default:
			}
			return ErrNoAnswer
		}
	}
}

// takeBack withdraws e if it is still queued.
func (g *Group[T]) takeBack(e *entry[T]) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if e.state != queued {
		return false
	}
	e.state = abandoned
	return true
}

// Stop refuses new items and waits until the queued ones are committed.
func (g *Group[T]) Stop() {
	g.mu.Lock()
	g.stopped = true
	idle := g.idle
	running := g.running > 0
	g.mu.Unlock()
	if running {
		<-idle
	}
}

// run commits batches until the queue is empty.
func (g *Group[T]) run() {
	for {
		if g.cfg.Limit != nil {
			g.cfg.Limit.Lock()
		}
		batch := g.take()
		if len(batch) == 0 {
			if g.cfg.Limit != nil {
				g.cfg.Limit.Unlock()
			}
			return
		}
		items := make([]T, len(batch))
		for i, e := range batch {
			items[i] = e.item
		}
		g.cfg.Commit(context.WithoutCancel(batch[0].ctx), items)
		if g.cfg.Limit != nil {
			g.cfg.Limit.Unlock()
		}
		for _, e := range batch {
			close(e.done)
		}
	}
}

// take removes the next batch from the queue; when there is none it
// counts the calling goroutine out, under the same lock.
func (g *Group[T]) take() []*entry[T] {
	g.mu.Lock()
	defer g.mu.Unlock()
	var (
		batch []*entry[T]
		rest  []*entry[T]
		rows  int
	)
	for i, e := range g.queue {
		if rows >= g.cfg.MaxRows {
			rest = append(rest, g.queue[i:]...)
			break
		}
		switch {
		case e.state == abandoned:
		case len(batch) > 0 && !g.cfg.Together(batch[0].item, e.item):
			rest = append(rest, e)
		default:
			e.state = taken
			batch = append(batch, e)
			rows += g.cfg.Rows(e.item)
		}
	}
	clear(g.queue) // let the taken entries go
	g.queue = rest
	if len(batch) == 0 {
		// This goroutine ends: the last one to end says the group is idle.
		g.running--
		if g.running == 0 {
			close(g.idle)
		}
	}
	return batch
}
