package engine

import (
	"sync"

	"github.com/hookline/hookline/internal/store"
)

// queue holds one destination's tasks that are leased to this process and
// waiting for a worker.
type queue struct {
	key      string
	tasks    []*store.Task
	inFlight int
	active   bool // in dispatcher.active
}

// dispatcher hands leased tasks to workers with per-destination isolation:
// each destination has its own FIFO queue and at most maxInFlight tasks
// running, and workers take destinations round-robin, so a slow destination
// holds only its own slots and never delays the others.
type dispatcher struct {
	maxInFlight int

	mu      sync.Mutex
	cond    *sync.Cond
	queues  map[string]*queue
	active  []*queue            // destinations with queued tasks, round-robin order
	known   map[string]struct{} // ids of every task queued or running here
	next    int
	stopped bool
}

func newDispatcher(maxInFlight int) *dispatcher {
	d := &dispatcher{
		maxInFlight: maxInFlight,
		queues:      make(map[string]*queue),
		known:       make(map[string]struct{}),
	}
	d.cond = sync.NewCond(&d.mu)
	return d
}

func destKey(t *store.Task) string { return t.Kind + ":" + t.DestinationID }

// push queues tasks; tasks already queued or running here are ignored, so a
// task re-claimed after its lease expired never runs twice in this process.
func (d *dispatcher) push(ts []store.Task) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	for i := range ts {
		t := &ts[i]
		if _, ok := d.known[t.ID]; ok {
			continue
		}
		d.known[t.ID] = struct{}{}
		k := destKey(t)
		q := d.queues[k]
		if q == nil {
			q = &queue{key: k}
			d.queues[k] = q
		}
		q.tasks = append(q.tasks, t)
		if !q.active {
			q.active = true
			d.active = append(d.active, q)
		}
	}
	d.cond.Broadcast()
}

// take blocks until a task may run and returns it, or nil after stop.
func (d *dispatcher) take() *store.Task {
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		if d.stopped {
			return nil
		}
		if t := d.pickLocked(); t != nil {
			return t
		}
		d.cond.Wait()
	}
}

func (d *dispatcher) pickLocked() *store.Task {
	n := len(d.active)
	for i := range n {
		idx := (d.next + i) % n
		q := d.active[idx]
		if q.inFlight >= d.maxInFlight {
			continue
		}
		t := q.tasks[0]
		q.tasks[0] = nil
		q.tasks = q.tasks[1:]
		q.inFlight++
		if len(q.tasks) == 0 {
			q.active = false
			d.active = append(d.active[:idx], d.active[idx+1:]...)
			d.next = idx
		} else {
			d.next = idx + 1
		}
		return t
	}
	return nil
}

// done marks a task taken with take as finished.
func (d *dispatcher) done(t *store.Task) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.known, t.ID)
	q := d.queues[destKey(t)]
	q.inFlight--
	if q.inFlight == 0 && len(q.tasks) == 0 {
		delete(d.queues, q.key)
	}
	d.cond.Broadcast()
}

// ids returns the ids of every task queued or running here.
func (d *dispatcher) ids() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.known))
	for id := range d.known {
		out = append(out, id)
	}
	return out
}

// stop wakes every worker and returns the ids of tasks that were queued but
// never taken, so their leases can be released.
func (d *dispatcher) stop() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	var queued []string
	for _, q := range d.active {
		for _, t := range q.tasks {
			queued = append(queued, t.ID)
		}
	}
	d.active = nil
	d.cond.Broadcast()
	return queued
}

// size returns the number of tasks queued or running here.
func (d *dispatcher) size() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.known)
}
