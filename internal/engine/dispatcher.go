package engine

import (
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/store"
)

// Limits are a destination's dispatch limits.
type Limits struct {
	// MaxInFlight bounds concurrent attempts; 0 takes the engine default.
	MaxInFlight int
	// RateLimit bounds attempts per second (token bucket); 0 is unlimited.
	RateLimit float64
	// Ordered runs one attempt at a time in accept order.
	Ordered bool
}

// Breaker configures the per-destination circuit breaker.
type Breaker struct {
	// Threshold is the number of consecutive failures that opens the
	// circuit; default 10.
	Threshold int
	// Cooldown is how long the circuit stays open before a single probe;
	// it doubles on each failed probe up to MaxCooldown. Defaults 30s, 10m.
	Cooldown    time.Duration
	MaxCooldown time.Duration
}

// queue is one destination's state in this process: the tasks leased here
// and waiting, its limits, its pause and its circuit. A queue is freed
// when it has nothing left to remember (pruneLocked).
type queue struct {
	key      dest
	destID   string
	tasks    []*store.Task // FIFO; ordered queues are kept sorted by id
	inFlight int
	active   bool // in dispatcher.active
	// starved is set when a task of the destination was left in the store
	// for lack of room in its queue: the poller is poked once the queue
	// has drained to half.
	starved bool

	limits   Limits
	limitsAt time.Time
	limiter  *rate.Limiter
	// readyAt pauses the queue: Retry-After, the rate limit, or an ordered
	// queue waiting for an older task.
	readyAt time.Time

	// Circuit breaker state.
	failures  int
	openUntil time.Time // zero: closed
	cooldown  time.Duration
	probing   bool
}

func (q *queue) max(def int) int {
	if q.limits.Ordered {
		return 1
	}
	if q.limits.MaxInFlight > 0 {
		return q.limits.MaxInFlight
	}
	return def
}

// dispatcher hands leased tasks to workers with per-destination isolation:
// each destination has its own queue, concurrency limit, rate limit, pause
// and circuit breaker, and workers take destinations round-robin, so a slow
// or failing destination holds only its own slots and never delays others.
type dispatcher struct {
	clock       clock.Clock
	maxInFlight int
	queueCap    int
	totalCap    int
	breaker     Breaker

	mu   sync.Mutex
	cond *sync.Cond
	// waiting counts the workers in take's Wait that no wake has picked
	// yet: a change that makes n tasks runnable wakes n of them, not all
	// (with 64 workers, waking all on each publish and each finished
	// attempt kept the run queue full of workers that found nothing).
	waiting int
	queues  map[dest]*queue
	active  []*queue // queues with waiting tasks, round-robin order
	// known maps the id of every task queued or running here to the copy
	// that came. A copy pushed with more attempts or a newer lease token is
	// a newer state of the task: the store already holds this run's result
	// (a requeue or a due retry claimed before the run was forgotten), or
	// another node held the task since, so this run's result cannot be
	// written; either way it runs again once this run is forgotten, held
	// in again until then.
	known   map[string]*store.Task
	again   map[string]*store.Task
	next    int
	stopped bool
	// starved is set when a task was left in the store because this
	// process held totalCap tasks; the poller is poked once half are gone.
	// A task left out of a full queue starves its queue only (queue.starved),
	// so that other destinations' tasks finishing do not poke the poller,
	// whose claims skip that queue while it stays full.
	starved bool
	timer   *time.Timer // wakes workers when the earliest pause ends
	timerAt time.Time
}

func newDispatcher(c clock.Clock, maxInFlight, queueCap, totalCap int, b Breaker) *dispatcher {
	d := &dispatcher{
		clock: c, maxInFlight: maxInFlight, queueCap: queueCap, totalCap: totalCap, breaker: b,
		queues: make(map[dest]*queue),
		known:  make(map[string]*store.Task),
		again:  make(map[string]*store.Task),
	}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// dest identifies a destination: its kind and id. Tasks are looked up by
// it several times each, so it is a pair of the task's own strings rather
// than a string built per lookup.
type dest struct{ kind, id string }

func destKey(t *store.Task) dest { return dest{t.Kind, t.DestinationID} }

// String is the destination's key in cluster announcements, kind:id.
func (k dest) String() string { return k.kind + ":" + k.id }

func (d *dispatcher) queueLocked(t *store.Task) *queue {
	k := destKey(t)
	q := d.queues[k]
	if q == nil {
		q = &queue{key: k, destID: t.DestinationID}
		d.queues[k] = q
	}
	return q
}

// needLimits reports whether the limits of t's destination should be
// (re)loaded: never loaded, or older than maxAge.
func (d *dispatcher) needLimits(t *store.Task, maxAge time.Duration) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queues[destKey(t)]
	return q == nil || q.limitsAt.IsZero() || d.clock.Now().Sub(q.limitsAt) > maxAge
}

// setLimits records a destination's limits.
func (d *dispatcher) setLimits(t *store.Task, l Limits) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queueLocked(t)
	if q.limits.RateLimit != l.RateLimit || (q.limiter == nil) != (l.RateLimit == 0) {
		q.limiter = nil
		if l.RateLimit > 0 {
			q.limiter = rate.NewLimiter(rate.Limit(l.RateLimit), max(1, int(l.RateLimit)))
		}
	}
	q.limits, q.limitsAt = l, d.clock.Now()
	if l.Ordered {
		sortTasks(q.tasks)
	}
	// New limits may let more of the queue's tasks run.
	d.wakeLocked(len(q.tasks))
}

// wakeLocked wakes up to n waiting workers.
func (d *dispatcher) wakeLocked(n int) {
	for ; n > 0 && d.waiting > 0; n-- {
		d.waiting--
		d.cond.Signal()
	}
}

// wakeAllLocked wakes every waiting worker.
func (d *dispatcher) wakeAllLocked() {
	d.waiting = 0
	d.cond.Broadcast()
}

// room reports whether t's destination can take one more task in memory;
// when not, the task stays in the store until the poller has room for it.
func (d *dispatcher) room(t *store.Task) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queues[destKey(t)]
	if len(d.known) >= d.totalCap {
		d.starved = true
		return false
	}
	if q != nil && len(q.tasks)+q.inFlight >= d.queueCap {
		q.starved = true
		return false
	}
	return true
}

// markStarved records that the full queues' destinations may have tasks
// waiting in the store for room here.
func (d *dispatcher) markStarved() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, q := range d.queues {
		if d.isFullLocked(q) {
			q.starved = true
		}
	}
}

// isFullLocked reports whether q can take no more tasks. Ordered queues
// never count as full: they may be waiting for their oldest task.
func (d *dispatcher) isFullLocked(q *queue) bool {
	return !q.limits.Ordered && len(q.tasks)+q.inFlight >= d.queueCap
}

// full lists destinations whose queues cannot take more tasks, for the
// poller to skip. Ordered queues are never skipped: they may be waiting for
// their oldest task.
func (d *dispatcher) full() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, q := range d.queues {
		if d.isFullLocked(q) {
			out = append(out, q.destID)
		}
	}
	return out
}

// push queues tasks. A task already queued or running here is ignored, so
// one re-claimed after its lease expired never runs twice in this process;
// but a copy with more attempts than the one here is its next run, queued
// once the run here is forgotten (see known).
func (d *dispatcher) push(ts []store.Task) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	for i := range ts {
		t := &ts[i]
		if k, ok := d.known[t.ID]; ok {
			if prev := d.again[t.ID]; newer(t, k) && (prev == nil || !newer(prev, t)) {
				d.again[t.ID] = t
			}
			continue
		}
		d.queueTaskLocked(t)
	}
	d.wakeLocked(len(ts))
}

// newer reports whether copy t of a task holds a later state than k.
func newer(t, k *store.Task) bool {
	return t.Attempts > k.Attempts || t.LeaseToken > k.LeaseToken
}

// queueTaskLocked makes t known and puts it in its destination's queue.
func (d *dispatcher) queueTaskLocked(t *store.Task) {
	d.known[t.ID] = t
	q := d.queueLocked(t)
	if q.limits.Ordered {
		i, _ := slices.BinarySearchFunc(q.tasks, t.ID, func(x *store.Task, id string) int {
			return cmpString(x.ID, id)
		})
		q.tasks = slices.Insert(q.tasks, i, t)
		if i == 0 {
			// A new head may be the task the queue waits for.
			q.readyAt = time.Time{}
		}
	} else {
		q.tasks = append(q.tasks, t)
	}
	if !q.active {
		q.active = true
		d.active = append(d.active, q)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func sortTasks(ts []*store.Task) {
	slices.SortFunc(ts, func(a, b *store.Task) int { return cmpString(a.ID, b.ID) })
}

// take blocks until a task may run and returns it with whether it is its
// circuit's half-open probe, or nil after stop.
func (d *dispatcher) take() (*store.Task, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		if d.stopped {
			return nil, false
		}
		if t, probe := d.pickLocked(); t != nil {
			return t, probe
		}
		d.waiting++
		d.cond.Wait()
	}
}

func (d *dispatcher) pickLocked() (*store.Task, bool) {
	now := d.clock.Now()
	var wake time.Time
	later := func(t time.Time) {
		if wake.IsZero() || t.Before(wake) {
			wake = t
		}
	}
	n := len(d.active)
	for i := range n {
		idx := (d.next + i) % n
		q := d.active[idx]
		if q.inFlight >= q.max(d.maxInFlight) {
			continue
		}
		if now.Before(q.readyAt) {
			later(q.readyAt)
			continue
		}
		probe := false
		if !q.openUntil.IsZero() {
			if now.Before(q.openUntil) {
				later(q.openUntil)
				continue
			}
			if q.probing {
				continue
			}
			probe = true
		}
		if q.limiter != nil {
			r := q.limiter.ReserveN(now, 1)
			if delay := r.DelayFrom(now); delay > 0 {
				r.CancelAt(now)
				q.readyAt = now.Add(delay)
				later(q.readyAt)
				continue
			}
		}
		t := q.tasks[0]
		q.tasks[0] = nil
		q.tasks = q.tasks[1:]
		q.inFlight++
		q.probing = q.probing || probe
		if len(q.tasks) == 0 {
			q.active = false
			d.active = slices.Delete(d.active, idx, idx+1)
			d.next = idx
		} else {
			d.next = idx + 1
		}
		if !wake.IsZero() {
			// A paused queue passed over on the way: the workers waiting
			// are not all woken to look, so its pause's end must wake one.
			d.wakeAtLocked(now, wake)
		}
		return t, probe
	}
	if !wake.IsZero() {
		d.wakeAtLocked(now, wake)
	}
	return nil, false
}

// wakeAtLocked arranges for waiting workers to look again at t.
func (d *dispatcher) wakeAtLocked(now, t time.Time) {
	if d.timer != nil && !d.timerAt.After(t) && d.timerAt.After(now) {
		return
	}
	if d.timer != nil {
		d.timer.Stop()
	}
	d.timerAt = t
	d.timer = time.AfterFunc(t.Sub(now), d.kick)
}

// kick wakes every waiting worker to re-check pauses (also called by the
// poller's tick, which covers test clocks).
func (d *dispatcher) kick() {
	d.mu.Lock()
	d.wakeAllLocked()
	d.mu.Unlock()
}

// result is what the dispatcher learns from a finished attempt.
type result struct {
	ran      bool          // an attempt reached the destination (or failed trying)
	failed   bool          // it failed in a way that counts toward the breaker
	pauseFor time.Duration // the destination asked for a pause (Retry-After)
}

// done marks a task taken with take as finished and updates its
// destination's circuit and pause. It reports whether tasks left in the
// store for lack of room should now be claimed.
func (d *dispatcher) done(t *store.Task, probe bool, r result) (claim bool) {
	d.release(t, probe, r)
	return d.forget(t)
}

// forget drops a finished task whose result is recorded, or queues its
// next run if one was pushed meanwhile, and reports whether tasks left in
// the store for lack of room should now be claimed.
func (d *dispatcher) forget(t *store.Task) (claim bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.known, t.ID)
	if next := d.again[t.ID]; next != nil {
		delete(d.again, t.ID)
		if !d.stopped {
			d.queueTaskLocked(next)
			d.wakeLocked(1)
		}
	}
	// Between release and forget another task's forget may have freed
	// the queue.
	q := d.queues[destKey(t)]
	if q != nil && q.starved && len(q.tasks)+q.inFlight <= d.queueCap/2 {
		q.starved, claim = false, true
	}
	if d.starved && len(d.known) <= d.totalCap/2 {
		d.starved, claim = false, true
	}
	d.pruneLocked(q)
	return claim
}

// pruneLocked frees a queue with nothing to remember: no tasks, nothing
// in flight, a closed circuit with no failures, no pause and a full rate
// bucket. Destinations such as workflow runs and messages come and go by
// the million; their queues must not stay.
func (d *dispatcher) pruneLocked(q *queue) {
	if q == nil || len(q.tasks) > 0 || q.inFlight > 0 || q.active || q.failures > 0 || !q.openUntil.IsZero() || q.probing {
		return
	}
	now := d.clock.Now()
	if q.readyAt.After(now) {
		return
	}
	if q.limiter != nil && q.limiter.TokensAt(now) < float64(q.limiter.Burst()) {
		return
	}
	delete(d.queues, q.key)
}

// release frees the slot of a task whose attempt is over and updates its
// destination's circuit and pause; the task stays known until forget.
func (d *dispatcher) release(t *store.Task, probe bool, r result) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queues[destKey(t)]
	q.inFlight--
	now := d.clock.Now()
	if probe {
		q.probing = false
	}
	if r.ran {
		if r.failed {
			q.failures++
			switch {
			case probe: // the half-open probe failed: open again, for longer
				q.cooldown = min(q.cooldown*2, d.breaker.MaxCooldown)
				q.openUntil = now.Add(q.cooldown)
			case q.openUntil.IsZero() && q.failures >= d.breaker.Threshold:
				q.cooldown = d.breaker.Cooldown
				q.openUntil = now.Add(q.cooldown)
			}
		} else {
			q.failures, q.openUntil, q.cooldown = 0, time.Time{}, 0
		}
	}
	if r.pauseFor > 0 {
		if until := now.Add(r.pauseFor); until.After(q.readyAt) {
			q.readyAt = until
		}
	}
	d.wakeFreedLocked(q)
}

// wakeFreedLocked wakes workers for the tasks of q that its free slots now
// let run: one for a finished attempt, more when a probe closed its
// circuit. The worker that freed the slot records its result before it
// looks for work again, so it does not count.
func (d *dispatcher) wakeFreedLocked(q *queue) {
	d.wakeLocked(min(len(q.tasks), q.max(d.maxInFlight)-q.inFlight))
}

// drop forgets a taken task that will not run here.
func (d *dispatcher) drop(t *store.Task, probe bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	// The caller releases the task's lease: a newer copy goes with it.
	delete(d.known, t.ID)
	delete(d.again, t.ID)
	q := d.queues[destKey(t)]
	q.inFlight--
	if probe {
		q.probing = false
	}
	d.wakeFreedLocked(q)
}

// requeue puts a taken task back without running it and pauses its queue
// until until (an ordered queue waiting for an older task).
func (d *dispatcher) requeue(t *store.Task, probe bool, until time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queues[destKey(t)]
	q.inFlight--
	if probe {
		q.probing = false
	}
	if d.stopped {
		delete(d.known, t.ID)
		delete(d.again, t.ID)
		return
	}
	q.tasks = slices.Insert(q.tasks, 0, t)
	if q.limits.Ordered {
		sortTasks(q.tasks)
	}
	if until.After(q.readyAt) {
		q.readyAt = until
	}
	if !q.active {
		q.active = true
		d.active = append(d.active, q)
	}
	// A worker looks again: at the other queues, or at this one's pause,
	// whose end it sets the timer for.
	d.wakeLocked(1)
}

// circuit reports a destination's breaker state: closed, open or half-open.
func (d *dispatcher) circuit(kind, destID string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queues[dest{kind, destID}]
	switch {
	case q == nil || q.openUntil.IsZero():
		return "closed"
	case d.clock.Now().Before(q.openUntil):
		return "open"
	}
	return "half-open"
}

// closeCircuit closes a destination's circuit: a person asked to deliver
// now (retry, recover, replay), so the next attempt should not wait for
// the cool-down.
func (d *dispatcher) closeCircuit(t *store.Task) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if q := d.queues[destKey(t)]; q != nil {
		q.failures, q.openUntil, q.cooldown = 0, time.Time{}, 0
	}
}

// evict removes the queued tasks of destinations matching in and returns
// their leases; running ones finish where they are.
func (d *dispatcher) evict(in func(destID string) bool) []store.TaskLease {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ls []store.TaskLease
	kept := d.active[:0]
	for _, q := range d.active {
		if !in(q.destID) {
			kept = append(kept, q)
			continue
		}
		for _, t := range q.tasks {
			ls = append(ls, t.Lease())
			delete(d.known, t.ID)
			delete(d.again, t.ID)
		}
		q.tasks, q.active = nil, false
	}
	clear(d.active[len(kept):])
	d.active = kept
	d.next = 0
	return ls
}

// evictLost removes from their queues the tasks whose lease another node
// took over (ExtendLeases found their token changed), so they do not run
// here too, and returns how many it removed. A newer copy held in again
// (this node's own later claim) takes the evicted one's place. Running
// tasks finish; their results will be stale.
func (d *dispatcher) evictLost(ids []string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, id := range ids {
		t := d.known[id]
		if t == nil {
			continue
		}
		q := d.queues[destKey(t)]
		if q == nil {
			continue
		}
		i := slices.IndexFunc(q.tasks, func(x *store.Task) bool { return x.ID == id })
		if i < 0 {
			continue // running
		}
		q.tasks = slices.Delete(q.tasks, i, i+1)
		delete(d.known, id)
		n++
		if next := d.again[id]; next != nil {
			delete(d.again, id)
			d.queueTaskLocked(next)
		}
		if len(q.tasks) == 0 && q.active {
			q.active = false
			if j := slices.Index(d.active, q); j >= 0 {
				d.active = slices.Delete(d.active, j, j+1)
				d.next = 0
			}
		}
	}
	d.wakeAllLocked()
	return n
}

// running counts attempts in flight for destinations matching in.
func (d *dispatcher) running(in func(destID string) bool) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, q := range d.queues {
		if in(q.destID) {
			n += q.inFlight
		}
	}
	return n
}

// ordered reports whether t's destination delivers in order.
func (d *dispatcher) ordered(t *store.Task) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	q := d.queues[destKey(t)]
	return q != nil && q.limits.Ordered
}

// has reports whether a task is queued or running here.
func (d *dispatcher) has(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.known[id]
	return ok
}

// leases returns the leases of every task queued, running or waiting for
// its result to be saved here, and of the newer copies held for them.
func (d *dispatcher) leases() []store.TaskLease {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]store.TaskLease, 0, len(d.known)+len(d.again))
	for _, t := range d.known {
		out = append(out, t.Lease())
	}
	for _, t := range d.again {
		out = append(out, t.Lease())
	}
	return out
}

// stop wakes every worker and returns the leases of tasks that were queued
// but never taken (and of newer copies held back), so they can be
// released.
func (d *dispatcher) stop() []store.TaskLease {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	if d.timer != nil {
		d.timer.Stop()
	}
	var queued []store.TaskLease
	for _, q := range d.active {
		for _, t := range q.tasks {
			queued = append(queued, t.Lease())
		}
		q.tasks = nil
	}
	for _, t := range d.again {
		queued = append(queued, t.Lease())
	}
	d.active = nil
	d.wakeAllLocked()
	return queued
}

// size returns the number of tasks queued or running here.
func (d *dispatcher) size() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.known)
}
