// Package engine carries every (event, destination) task to completion: it
// commits accepted events through a group-commit writer, dispatches leased
// tasks to per-destination queues, runs them with the executor registered
// for their destination kind, retries with backoff and records every
// attempt. It knows nothing about HTTP webhooks or any other destination.
package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/telemetry"
)

// Outcome is what an executor reports for one attempt.
type Outcome struct {
	// Attempt carries the request and response details; the engine fills
	// in ids, number and timing.
	Attempt store.Attempt
	// Err is nil on success.
	Err error
	// Permanent stops retrying: the task fails now.
	Permanent bool
	// RetryAfter, when positive, is the delay the destination asked for.
	RetryAfter time.Duration
	// Schedule is the destination's retry schedule; nil means DefaultSchedule.
	Schedule []time.Duration
	// NotAttempted says the destination was not contacted (deleted,
	// disabled, bad configuration): it does not count for the circuit
	// breaker.
	NotAttempted bool
	// Recorded is set by an executor that committed the attempt's result
	// (ResultOf) with its own writes, in one transaction: the engine does
	// not write it again.
	Recorded *store.TaskResult
}

// Executor runs one attempt of a task for a destination kind.
type Executor interface {
	Execute(ctx context.Context, t *store.Task) Outcome
}

// LimitSource is implemented by executors whose destinations carry
// dispatch limits (concurrency, rate, order).
type LimitSource interface {
	Limits(ctx context.Context, t *store.Task) Limits
}

// KindQueue is the kind of a target that no executor runs: a pull queue
// (DestinationID is its id). The event is put on the queue in the
// transaction that commits it (store.NewEvent.Queues), and consumers
// lease it from there; it makes no task.
const KindQueue = "queue"

// Target is one destination an event is routed to.
type Target struct {
	Kind          string
	DestinationID string
}

// Router finds the destinations of an event.
type Router interface {
	Route(ctx context.Context, e *event.Event) ([]Target, error)
}

// Defaults.
const (
	DefaultWorkers        = 64
	DefaultMaxInFlight    = 10
	DefaultLease          = time.Minute
	DefaultPollInterval   = time.Second
	DefaultIdempotencyTTL = 24 * time.Hour
	DefaultAttemptTimeout = 5 * time.Minute
	// DefaultCommitTimeout bounds a publish: routing and the commit.
	DefaultCommitTimeout = 5 * time.Second
	// DefaultProbeInterval is how often a store whose writes fail is
	// checked again.
	DefaultProbeInterval = time.Second
	// DefaultStoreTimeout bounds one store call of a background loop.
	DefaultStoreTimeout = 30 * time.Second
	// DefaultQueueCap bounds the tasks one destination holds in memory;
	// the rest wait in the store.
	DefaultQueueCap = 1000
	// DefaultMaxQueued bounds the tasks held in memory in all.
	DefaultMaxQueued = 20000
	claimBatch       = 512
	// DefaultRetention is how long finished events are kept.
	DefaultRetention = 30 * 24 * time.Hour
	// DefaultHeartbeat is how often a cluster node renews its membership
	// and bucket leases (ClusterConfig.Heartbeat).
	DefaultHeartbeat = 2 * time.Second
	// pruneBatch bounds the events one pruning transaction deletes, so the
	// writer is never held for long.
	pruneBatch = 500
	// limitsMaxAge is how often a busy destination's limits are reloaded.
	limitsMaxAge = 10 * time.Second
)

// DefaultBreaker is the default circuit breaker.
var DefaultBreaker = Breaker{Threshold: 10, Cooldown: 30 * time.Second, MaxCooldown: 10 * time.Minute}

// Store is what the engine needs from the store: the event log and the
// tasks, a probe of whether writes commit, and the pruning of workflow
// runs that ended before the retention.
type Store interface {
	store.Events
	store.Tasks
	CheckWrite(ctx context.Context) error
	PruneRuns(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

// Config configures New.
type Config struct {
	Store Store
	// Executors run the tasks of each destination kind. An executor that
	// needs the engine itself (to publish, schedule or lease) is added
	// with Register once the engine is built.
	Executors map[string]Executor
	Routers   []Router
	Clock     clock.Clock
	Logger    *slog.Logger
	Metrics   *Metrics
	// Rand returns values in [0, 1) for retry jitter; default math/rand/v2.
	Rand func() float64
	// Workers is the number of attempts run at once across destinations.
	Workers int
	// MaxInFlight bounds concurrent attempts per destination unless the
	// destination sets its own.
	MaxInFlight int
	// QueueCap and MaxQueued bound the tasks held in memory per destination
	// and in all; the rest wait in the store.
	QueueCap  int
	MaxQueued int
	// Breaker configures the per-destination circuit breaker.
	Breaker Breaker
	// Retention is how long finished events, deliveries and attempts are
	// kept; default 30 days. PruneInterval is how often pruning runs.
	Retention     time.Duration
	PruneInterval time.Duration
	// Lease is how long a claimed task stays reserved; leases of running and
	// queued tasks are renewed every Lease/3.
	Lease time.Duration
	// PollInterval is how often due retries and expired leases are claimed.
	PollInterval time.Duration
	// IdempotencyTTL is how long an idempotency key is remembered.
	IdempotencyTTL time.Duration
	// CommitTimeout bounds a publish, from Publish to the commit's answer:
	// one that cannot commit in time fails with store.ErrUnavailable (not
	// committed) or, if its COMMIT went unanswered, store.ErrCommitUnknown.
	CommitTimeout time.Duration
	// ProbeInterval is how often, while writes fail, the store is checked
	// (store.CheckWrite) so that Health recovers without traffic.
	ProbeInterval time.Duration
	// StoreTimeout bounds each store call of the background loops.
	StoreTimeout time.Duration
	// OnPublished, when set, is called with every newly committed event
	// (live feeds); it must not block.
	OnPublished func([]event.Event)
	// Cluster, when set, shares the store with other nodes: destinations
	// are spread over nodes by bucket leases and new work is announced.
	Cluster *ClusterConfig
	// ExclusiveStore says this process alone uses the store (SQLite): leases
	// left by a crashed run are dropped at start so its work resumes at once.
	ExclusiveStore bool
	// MaxUnsavedBytes bounds the attempt results held in memory while the
	// store cannot take them (see hold); default DefaultMaxUnsavedBytes.
	MaxUnsavedBytes int
	// Tracer records a span per publish's commit and per attempt; nil is
	// tracing off (see trace.go).
	Tracer trace.Tracer
}

// Engine is the task engine. Create it with New, then Start and Stop it.
type Engine struct {
	cfg    Config
	store  Store
	clock  clock.Clock
	log    *slog.Logger
	m      *Metrics
	rnd    func() float64
	writer *writer
	health *health
	disp   *dispatcher

	poke chan struct{}
	// owner names this process as the holder of its task leases: the
	// cluster's node id, or localOwner.
	owner string
	// held keeps results the store could not take, saved again by
	// saveLoop.
	held unsaved

	cluster   *ClusterConfig
	rebal     chan struct{}
	startedAt time.Time
	ownMu     sync.RWMutex
	own       ownership
	cancel    context.CancelFunc // stops poller and heartbeat
	runCtx    context.Context    // attempts run under it; cancelled by Kill or a late Stop
	abort     context.CancelFunc
	loops     sync.WaitGroup
	workers   sync.WaitGroup
	// stopSaving ends saveLoop, which saving waits for.
	stopSaving context.CancelFunc
	saving     sync.WaitGroup

	// recording counts the results being committed for workers that went
	// on to their next attempt (recordLater); recordSlots bounds them.
	recording   sync.WaitGroup
	recordSlots chan struct{}

	started bool
	// sealed is set by the first Start: Register is refused from then on,
	// since the workers read the executors without a lock.
	sealed bool
}

// localOwner holds the task leases of an engine without a cluster.
const localOwner = "local"

// New validates cfg and returns an engine that is not running yet.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil {
		return nil, errors.New("engine: store is required")
	}
	// A copy: Register adds to it.
	cfg.Executors = maps.Clone(cfg.Executors)
	if cfg.Executors == nil {
		cfg.Executors = map[string]Executor{}
	}
	cfg.Workers = cmp.Or(cfg.Workers, DefaultWorkers)
	cfg.MaxInFlight = cmp.Or(cfg.MaxInFlight, DefaultMaxInFlight)
	cfg.QueueCap = cmp.Or(cfg.QueueCap, DefaultQueueCap)
	cfg.Retention = cmp.Or(cfg.Retention, DefaultRetention)
	cfg.PruneInterval = cmp.Or(cfg.PruneInterval, time.Minute)
	if c := cfg.Cluster; c != nil {
		if c.Coordinator == nil || c.NodeID == "" {
			return nil, errors.New("engine: a cluster needs a coordinator and a node id")
		}
		if cfg.ExclusiveStore {
			return nil, errors.New("engine: a shared store cannot be exclusive")
		}
		c.Heartbeat = cmp.Or(c.Heartbeat, DefaultHeartbeat)
		c.BucketLease = cmp.Or(c.BucketLease, 5*c.Heartbeat)
	}
	cfg.MaxQueued = cmp.Or(cfg.MaxQueued, DefaultMaxQueued)
	cfg.Breaker.Threshold = cmp.Or(cfg.Breaker.Threshold, DefaultBreaker.Threshold)
	cfg.Breaker.Cooldown = cmp.Or(cfg.Breaker.Cooldown, DefaultBreaker.Cooldown)
	cfg.Breaker.MaxCooldown = cmp.Or(cfg.Breaker.MaxCooldown, DefaultBreaker.MaxCooldown)
	cfg.Lease = cmp.Or(cfg.Lease, DefaultLease)
	cfg.PollInterval = cmp.Or(cfg.PollInterval, DefaultPollInterval)
	cfg.IdempotencyTTL = cmp.Or(cfg.IdempotencyTTL, DefaultIdempotencyTTL)
	cfg.MaxUnsavedBytes = cmp.Or(cfg.MaxUnsavedBytes, DefaultMaxUnsavedBytes)
	cfg.CommitTimeout = cmp.Or(cfg.CommitTimeout, DefaultCommitTimeout)
	cfg.ProbeInterval = cmp.Or(cfg.ProbeInterval, DefaultProbeInterval)
	cfg.StoreTimeout = cmp.Or(cfg.StoreTimeout, DefaultStoreTimeout)
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	e := &Engine{
		cfg: cfg, store: cfg.Store, clock: cfg.Clock, log: cfg.Logger, m: cfg.Metrics, rnd: cfg.Rand,
		disp: newDispatcher(cfg.Clock, cfg.MaxInFlight, cfg.QueueCap, cfg.MaxQueued, cfg.Breaker),
		poke: make(chan struct{}, 1), cluster: cfg.Cluster, rebal: make(chan struct{}, 1), startedAt: cfg.Clock.Now(),
		owner: localOwner, held: newUnsaved(cfg.MaxUnsavedBytes),
	}
	e.recordSlots = make(chan struct{}, maxRecording)
	if cfg.Cluster != nil {
		e.owner = cfg.Cluster.NodeID
	}
	e.health = &health{log: cfg.Logger, clock: cfg.Clock}
	e.writer = newWriter(cfg.Store, e.m.observeBatch, e.health, cfg.CommitTimeout, cfg.Lease)
	return e, nil
}

// Register adds the executor of a destination kind, for an executor that
// is built with the engine (it publishes events, schedules or leases
// tasks). It panics after Start, for a kind already registered or a nil
// executor: all are mistakes in how the program is put together.
func (e *Engine) Register(kind string, x Executor) {
	switch {
	case e.sealed:
		panic(fmt.Sprintf("engine: register executor %q: after start", kind))
	case x == nil:
		panic(fmt.Sprintf("engine: register executor %q: nil executor", kind))
	case e.cfg.Executors[kind] != nil:
		panic(fmt.Sprintf("engine: register executor %q: kind already registered", kind))
	}
	e.cfg.Executors[kind] = x
}

// Start starts the writer, the workers, the poller and the lease heartbeat.
func (e *Engine) Start(ctx context.Context) error {
	if e.started {
		return errors.New("engine: already started")
	}
	if len(e.cfg.Executors) == 0 {
		return errors.New("engine: at least one executor is required")
	}
	if e.cfg.ExclusiveStore {
		if err := e.store.ResetLeases(ctx); err != nil {
			return fmt.Errorf("engine start: %w", err)
		}
	} else {
		// Leases under this node's id are a previous run's (a crash, a
		// restart): no other live process uses the id, so they resume now.
		rctx, cancel := e.bounded(ctx)
		n, err := e.store.ReleaseLeases(rctx, e.owner)
		cancel()
		if err != nil {
			return fmt.Errorf("engine start: %w", err)
		}
		if n > 0 {
			e.log.InfoContext(ctx, "took back the task leases of this node's previous run", "node_id", e.owner, "tasks", n)
		}
	}
	e.started, e.sealed = true, true
	e.writer.start()
	saveCtx, stopSaving := context.WithCancel(context.Background())
	e.stopSaving = stopSaving
	e.saving.Add(1)
	go e.saveLoop(saveCtx)
	e.runCtx, e.abort = context.WithCancel(context.Background())
	loopCtx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	for range e.cfg.Workers {
		e.workers.Add(1)
		go e.work()
	}
	e.loops.Add(4)
	go e.pollLoop(loopCtx)
	go e.heartbeatLoop(loopCtx)
	go e.pruneLoop(loopCtx)
	go e.probeLoop(loopCtx)
	if e.cluster != nil {
		if err := e.rebalance(ctx); err != nil {
			e.log.WarnContext(ctx, "cluster: first heartbeat", "error", err)
		}
		e.loops.Add(2)
		go e.clusterLoop(loopCtx)
		go func() {
			defer e.loops.Done()
			if err := e.cluster.Coordinator.Listen(loopCtx, e.onAnnouncement); err != nil && loopCtx.Err() == nil {
				e.log.ErrorContext(loopCtx, "cluster: listen for work", "error", err)
			}
		}()
	}
	e.pokePoller()
	return nil
}

// Stop stops taking new work and hands it to the other nodes at once:
// queued tasks and, on a cluster, this node's membership and idle buckets
// are released first. Then it waits for running attempts until ctx ends
// (then cancels them), saves held results, flushes the writer, and
// releases every task lease and bucket this node still holds, so nothing
// waits for a lease to expire.
func (e *Engine) Stop(ctx context.Context) error {
	if !e.started {
		return nil
	}
	e.cancel()
	e.loops.Wait()
	// Owning nothing, this node writes new tasks unleased (and announces
	// them) and hands back any task a worker takes.
	owned := e.ownedBuckets()
	e.setOwnedExactly(nil)
	queued := e.disp.stop()
	var errs []error
	hctx, cancel := handover()
	defer cancel()
	if err := e.store.ReleaseTasks(hctx, queued); err != nil {
		errs = append(errs, fmt.Errorf("engine stop: %w", err))
	}
	if e.cluster != nil {
		if err := e.leave(owned); err != nil {
			errs = append(errs, fmt.Errorf("engine stop: %w", err))
		}
	}
	finished := make(chan struct{})
	go func() { e.workers.Wait(); e.recording.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-ctx.Done():
		e.abort()
		<-finished
	}
	e.stopSaving()
	e.saving.Wait()
	e.flushHeld(ctx)
	e.writer.stop()
	// What is still leased here: attempts cut off by ctx, results that
	// could not be saved, tasks written leased while stopping.
	hctx, cancel = handover()
	defer cancel()
	if n, err := e.store.ReleaseLeases(hctx, e.owner); err != nil {
		errs = append(errs, fmt.Errorf("engine stop: %w", err))
	} else if n > 0 {
		e.log.InfoContext(ctx, "released the task leases left at stop", "tasks", n)
	}
	if e.cluster != nil {
		if err := e.cluster.Coordinator.Release(hctx, e.cluster.NodeID, e.allBuckets()); err != nil {
			errs = append(errs, fmt.Errorf("engine stop: release buckets: %w", err))
		}
		e.announceRebalance(hctx)
	}
	e.abort()
	e.started = false
	return errors.Join(errs...)
}

// handoverTimeout bounds each step of a stop that hands work over:
// worth a few seconds, but a database that does not answer must not hold
// the process (the others then take over when the leases expire).
const handoverTimeout = 5 * time.Second

func handover() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), handoverTimeout)
}

// Kill stops the engine abruptly, as a crash would: running attempts are
// cancelled and nothing more is written. Their tasks keep their leases. For
// tests of crash recovery.
func (e *Engine) Kill() {
	if !e.started {
		return
	}
	e.abort()
	e.cancel()
	e.loops.Wait()
	e.disp.stop()
	e.stopSaving()
	e.saving.Wait()
	e.writer.stop()
	e.workers.Wait()
	e.recording.Wait()
	e.started = false
}

// Published is the result of publishing one event.
type Published struct {
	Event     event.Event
	Duplicate bool
	Tasks     int
}

// Publish routes events, commits them with their tasks in one group commit
// and hands the new tasks to the dispatcher. It returns only after the
// commit: a returned event is durable. Idempotency keys are remembered for
// IdempotencyTTL.
func (e *Engine) Publish(ctx context.Context, evs []event.Event) ([]Published, error) {
	return e.PublishDedup(ctx, evs, e.cfg.IdempotencyTTL)
}

// PublishDedup is Publish with its own idempotency window, such as a
// source's dedup window.
//
// Routing and the commit take at most CommitTimeout (less if ctx ends
// sooner). An error is definite — nothing was committed — unless it is
// store.ErrCommitUnknown; a retry with the same idempotency keys is safe
// either way, as it finds the events if they were committed.
func (e *Engine) PublishDedup(ctx context.Context, evs []event.Event, window time.Duration) ([]Published, error) {
	ctx, span := e.startCommit(ctx, evs)
	defer span.End()
	out, err := e.publish(ctx, evs, window, e.route)
	endSpan(span, err)
	return out, err
}

// PublishTo publishes one event to the given targets only, without
// routing it: a test event sent to one endpoint. It is durable and
// idempotent as Publish is.
func (e *Engine) PublishTo(ctx context.Context, ev event.Event, targets []Target) (Published, error) {
	ctx, span := e.startCommit(ctx, []event.Event{ev})
	defer span.End()
	out, err := e.publish(ctx, []event.Event{ev}, e.cfg.IdempotencyTTL, func(context.Context, *event.Event) ([]Target, error) {
		return targets, nil
	})
	endSpan(span, err)
	if err != nil {
		return Published{}, err
	}
	return out[0], nil
}

// Record commits one event to the event log for no destination (a
// workflow run's trigger that its runner starts itself), durably and
// idempotently as Publish does; it returns the event committed, the
// earlier one for a repeated idempotency key.
func (e *Engine) Record(ctx context.Context, ev event.Event) (event.Event, error) {
	p, err := e.PublishTo(ctx, ev, nil)
	return p.Event, err
}

// publish commits events with the tasks route gives each.
func (e *Engine) publish(ctx context.Context, evs []event.Event, window time.Duration,
	route func(context.Context, *event.Event) ([]Target, error)) ([]Published, error) {
	cctx := ctx
	// One deadline: a caller's that ends within CommitTimeout (the API's,
	// set for the same bound a moment before) is kept as it is rather
	// than wrapped in a second timer. The writer reads the deadline from
	// the context in the same way.
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > e.cfg.CommitTimeout {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, e.cfg.CommitTimeout)
		defer cancel()
	}
	now := e.clock.Now()
	batch := make([]store.NewEvent, len(evs))
	foreign := false
	for i := range evs {
		ev := &evs[i]
		targets, err := route(cctx, ev)
		if err != nil {
			return nil, err
		}
		ne := store.NewEvent{Event: *ev, IdempotentSince: now.Add(-window)}
		for _, tg := range targets {
			if tg.Kind == KindQueue {
				ne.Queues = append(ne.Queues, tg.DestinationID)
				continue
			}
			t := e.newTask(ev, tg, now)
			if !e.owns(&t) {
				// Another node dispatches it; it is announced after commit.
				foreign = true
			} else if e.disp.room(&t) {
				e.leaseNew(&t)
			}
			// Else its queue is full: the task waits in the store,
			// unleased; the dispatcher pokes the poller once it has room.
			ne.Tasks = append(ne.Tasks, t)
		}
		batch[i] = ne
	}
	res, err := e.writer.Accept(cctx, batch)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	out := make([]Published, len(res))
	var fresh []event.Event
	for i, r := range res {
		out[i] = Published{Event: r.Event, Duplicate: r.Duplicate, Tasks: len(r.Tasks)}
		if r.Duplicate {
			continue
		}
		fresh = append(fresh, r.Event)
		e.m.eventsAccepted.WithLabelValues(r.Event.Source).Inc()
		ev := r.Event
		leased := r.Tasks[:0:0]
		for j := range r.Tasks {
			if r.Tasks[j].LeaseFor > 0 {
				r.Tasks[j].Event = &ev
				leased = append(leased, r.Tasks[j])
			}
		}
		e.push(ctx, leased)
	}
	if foreign {
		e.announce(ctx)
	}
	if e.cfg.OnPublished != nil && len(fresh) > 0 {
		e.cfg.OnPublished(fresh)
	}
	return out, nil
}

func (e *Engine) route(ctx context.Context, ev *event.Event) ([]Target, error) {
	var out []Target
	for _, r := range e.cfg.Routers {
		ts, err := r.Route(ctx, ev)
		if err != nil {
			return nil, fmt.Errorf("route event: %w", err)
		}
		out = append(out, ts...)
	}
	return out, nil
}

func (e *Engine) newTask(ev *event.Event, tg Target, now time.Time) store.Task {
	return store.Task{
		ID: event.NewID(event.PrefixDelivery, now), TenantID: ev.TenantID, EventID: ev.ID, EventType: ev.Type,
		Kind: tg.Kind, DestinationID: tg.DestinationID, Status: store.StatusPending,
		NextAt: now, CreatedAt: now, UpdatedAt: now,
	}
}

// leaseNew has a task about to be written leased to this node in the
// transaction that writes it (with token 0), so it can be pushed to the
// dispatcher at once.
func (e *Engine) leaseNew(t *store.Task) {
	t.LeaseFor, t.LeaseOwner, t.LeaseToken = e.cfg.Lease, e.owner, 0
}

// Retry makes a tenant's tasks run again now, whatever their status; every
// resend is a new attempt on the same task. Unknown ids are skipped.
func (e *Engine) Retry(ctx context.Context, tenantID string, ids []string) ([]store.Task, error) {
	lease := e.cfg.Lease
	if e.cluster != nil {
		// The owner of each destination claims it: no lease.
		lease = 0
	}
	ts, err := e.store.RequeueTasks(ctx, tenantID, ids, e.clock.Now(), lease, e.owner)
	if err != nil {
		return nil, fmt.Errorf("retry: %w", err)
	}
	// Cluster-wide: the circuit is the owner's, which may be another node.
	e.closeTaskCircuits(ctx, ts)
	if e.cluster != nil {
		e.announce(ctx)
		e.pokePoller()
		return ts, nil
	}
	e.push(ctx, ts)
	return ts, nil
}

// Schedule tells the engine about tasks an executor wrote to the store
// itself (unleased, with their own NextAt), such as a workflow's next
// step: due ones are claimed at once, later ones when they come due. On a
// cluster, the other nodes are told too.
func (e *Engine) Schedule(ctx context.Context, ts []store.Task) {
	now := e.clock.Now()
	var leased []store.Task
	poke, remote := false, false
	for _, t := range ts {
		switch {
		case t.LeaseFor > 0:
			if t.Event == nil && t.Traceparent == "" {
				t.Traceparent = telemetry.FromContext(ctx)
			}
			leased = append(leased, t)
		case t.NextAt.After(now):
			// Due later: the poller finds it; a timer only for what is due
			// before its next poll.
			if t.NextAt.Sub(now) <= e.cfg.PollInterval {
				e.pokeAt(t.NextAt)
			}
		default:
			poke, remote = true, true
		}
	}
	e.push(ctx, leased)
	if poke {
		e.pokePoller()
	}
	if remote {
		e.announce(ctx)
	}
}

// Lease gives the tasks an executor is about to write, which this node
// can run at once (due, owned, with room in their queue), a lease: after
// they are committed, Schedule hands them straight to the dispatcher
// instead of waiting for the poller to claim them.
func (e *Engine) Lease(ts []store.Task) {
	now := e.clock.Now()
	for i := range ts {
		t := &ts[i]
		t.LeaseFor, t.LeaseOwner = 0, ""
		if t.NextAt.After(now) || !e.owns(t) || !e.disp.room(t) {
			continue
		}
		e.leaseNew(t)
	}
}

// announce tells the other nodes there is new work for them.
func (e *Engine) announce(ctx context.Context) {
	if e.cluster == nil {
		return
	}
	if err := e.cluster.Coordinator.Notify(context.WithoutCancel(ctx), ""); err != nil {
		e.log.WarnContext(ctx, "cluster: announce work", "error", err)
	}
}

// Replay sends an event again: its existing tasks run again and
// destinations that match it now but had no task get one.
func (e *Engine) Replay(ctx context.Context, tenantID, eventID string) ([]string, error) {
	ev, err := e.store.GetEvent(ctx, tenantID, eventID)
	if err != nil {
		return nil, err
	}
	existing, err := e.store.ListTasks(ctx, tenantID, store.TaskQuery{EventID: eventID, Page: store.Page{Limit: 1000}})
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	have := make(map[Target]bool, len(existing))
	ids := make([]string, 0, len(existing))
	for _, t := range existing {
		have[Target{t.Kind, t.DestinationID}] = true
		ids = append(ids, t.ID)
	}
	targets, err := e.route(ctx, &ev)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	var added []store.Task
	for _, tg := range targets {
		// A pull queue's consumers acknowledged the event already.
		if !have[tg] && tg.Kind != KindQueue {
			t := e.newTask(&ev, tg, now)
			if e.owns(&t) {
				e.leaseNew(&t)
			}
			added = append(added, t)
		}
	}
	if len(added) > 0 {
		if err := e.store.AddTasks(ctx, added); err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		var local []store.Task
		for i := range added {
			added[i].Event = &ev
			ids = append(ids, added[i].ID)
			if added[i].LeaseFor > 0 {
				local = append(local, added[i])
			}
		}
		e.push(ctx, local)
		if len(local) < len(added) {
			e.announce(ctx)
		}
	}
	if _, err := e.Retry(ctx, tenantID, ids[:len(existing)]); err != nil {
		return nil, err
	}
	return ids, nil
}

// Circuit reports the state of a destination's circuit breaker in this
// process (on a cluster, only the node that dispatches the destination
// sees it open): closed, open or half-open.
func (e *Engine) Circuit(kind, destinationID string) string {
	return e.disp.circuit(kind, destinationID)
}

func (e *Engine) pokePoller() {
	select {
	case e.poke <- struct{}{}:
	default:
	}
}

// pollLoop claims due retries and tasks whose lease expired, each poll
// interval and when poked.
func (e *Engine) pollLoop(ctx context.Context) {
	defer e.loops.Done()
	every(ctx, e.cfg.PollInterval, e.poke, func() { e.poll(ctx) })
}

func (e *Engine) poll(ctx context.Context) {
	e.disp.kick() // re-check pauses under test clocks
	e.m.inMemory.Set(float64(e.disp.size()))
	var buckets []int
	if e.cluster != nil {
		if buckets = e.ownedBuckets(); len(buckets) == 0 {
			return
		}
	}
	for e.disp.size() < e.cfg.MaxQueued {
		now := e.clock.Now()
		limit := min(claimBatch, e.cfg.MaxQueued-e.disp.size())
		cctx, cancel := e.bounded(ctx)
		ts, err := e.store.ClaimTasks(cctx, store.Claim{Now: now, Lease: e.cfg.Lease, Owner: e.owner, Limit: limit,
			Exclude: e.disp.full(), Buckets: buckets})
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				e.log.ErrorContext(ctx, "claim tasks", "error", err)
			}
			break
		}
		e.push(ctx, ts)
		if len(ts) < limit {
			break
		}
	}
	if len(e.disp.full()) > 0 {
		// Some queues are full and the store may hold more of their
		// tasks: have the dispatcher poke the poller as they drain
		// instead of waiting for the next tick.
		e.disp.markStarved()
	}
}

// pruneInBatches calls prune with the retention's cutoff until it deletes
// less than a batch, yielding between batches so deliveries never stall
// behind it, and returns how many it deleted. An error (logged as what)
// ends it.
func (e *Engine) pruneInBatches(ctx context.Context, what string, prune func(ctx context.Context, cutoff time.Time, limit int) (int, error)) int {
	total := 0
	for ctx.Err() == nil {
		cctx, cancel := e.bounded(ctx)
		n, err := prune(cctx, e.clock.Now().Add(-e.cfg.Retention), pruneBatch)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				e.log.ErrorContext(ctx, what, "error", err)
			}
			break
		}
		total += n
		if n < pruneBatch {
			break
		}
		select { // let queued writes through between batches
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
	return total
}

// pruneLoop deletes finished events older than the retention in small
// batches, yielding between them so deliveries never stall behind it.
func (e *Engine) pruneLoop(ctx context.Context) {
	defer e.loops.Done()
	every(ctx, e.cfg.PruneInterval, nil, func() { e.Prune(ctx) })
}

// Prune deletes every finished event older than the retention, then the
// workflow runs that ended before it, in batches, and returns how many
// events it deleted.
func (e *Engine) Prune(ctx context.Context) int {
	defer e.pruneInBatches(ctx, "prune runs", e.store.PruneRuns)
	return e.pruneInBatches(ctx, "prune", func(ctx context.Context, cutoff time.Time, limit int) (int, error) {
		n, err := e.store.Prune(ctx, cutoff, limit)
		if err == nil {
			e.m.pruned.Add(float64(n))
		}
		return n, err
	})
}

// push loads the limits of destinations new to the dispatcher (or not
// refreshed lately) and queues the tasks.
func (e *Engine) push(ctx context.Context, ts []store.Task) {
	if len(ts) == 0 {
		return
	}
	seen := map[dest]bool{}
	for i := range ts {
		t := &ts[i]
		k := destKey(t)
		if seen[k] || !e.disp.needLimits(t, limitsMaxAge) {
			continue
		}
		seen[k] = true
		var l Limits
		if ls, ok := e.cfg.Executors[t.Kind].(LimitSource); ok {
			lctx, cancel := e.bounded(ctx)
			l = ls.Limits(lctx, t)
			cancel()
		}
		e.disp.setLimits(t, l)
	}
	e.disp.push(ts)
}

func (e *Engine) work() {
	defer e.workers.Done()
	for {
		t, probe := e.disp.take()
		if t == nil {
			return
		}
		if !e.owns(t) {
			// Its bucket moved to another node (or this node's lease is
			// about to lapse): hand the task back instead of running it.
			e.disp.drop(t, probe)
			rctx, cancel := e.bounded(e.runCtx)
			err := e.store.ReleaseTasks(rctx, []store.TaskLease{t.Lease()})
			cancel()
			if err != nil && e.runCtx.Err() == nil {
				e.log.Warn("release a task of a bucket no longer owned", "task_id", t.ID, "error", err)
			}
			continue
		}
		if wait, until := e.mustWait(t); wait {
			e.disp.requeue(t, probe, until)
			continue
		}
		r, res, ok, recorded := e.attempt(t)
		if !ok {
			e.disp.done(t, probe, res)
			continue
		}
		if e.disp.ordered(t) {
			// The next task of an ordered destination checks the store for
			// older unfinished tasks: this result must be committed first.
			saved := recorded || e.record(t, r)
			if recorded {
				e.recorded(t, r, false)
			}
			e.disp.release(t, probe, res)
			if saved && e.disp.forget(t) {
				e.pokePoller()
			}
			continue
		}
		// Free the destination's slot as soon as the attempt is over, so
		// its next attempt overlaps this one's commit; the task stays known
		// (and leased) until its result is durable.
		e.disp.release(t, probe, res)
		if recorded {
			e.recorded(t, r, false)
			if e.disp.forget(t) {
				e.pokePoller()
			}
			continue
		}
		e.recordLater(t, r)
	}
}

// maxRecording bounds the results being committed for workers that went
// on (one writer batch); a worker past it waits for a slot.
const maxRecording = maxBatch

// recordLater records r while the worker goes on to its next attempt: the
// workers bound attempts, and a worker waiting for its result's group
// commit held a slot for as long again as an attempt that is itself a
// commit (a sync task's) took. What record does once the result is
// durable or held — forget the task, poke the poller — is unchanged.
func (e *Engine) recordLater(t *store.Task, r store.TaskResult) {
	e.recordSlots <- struct{}{}
	e.recording.Add(1)
	go func() {
		defer func() {
			<-e.recordSlots
			e.recording.Done()
		}()
		if e.record(t, r) && e.disp.forget(t) {
			e.pokePoller()
		}
	}()
}

// mustWait reports whether t, of an ordered destination, has to wait for an
// older unfinished task of the same destination, and until when to pause.
func (e *Engine) mustWait(t *store.Task) (bool, time.Time) {
	if !e.disp.ordered(t) {
		return false, time.Time{}
	}
	ctx, cancel := e.bounded(e.runCtx)
	oldest, err := e.store.OldestUnfinished(ctx, t.Kind, t.DestinationID)
	cancel()
	if err != nil || oldest.ID == t.ID {
		return false, time.Time{}
	}
	e.log.Debug("ordered destination waits for an older task", "task_id", t.ID, "oldest_id", oldest.ID,
		"bucket", store.Bucket(t.DestinationID), "owned", e.owns(t),
		"oldest_next_at", oldest.NextAt, "oldest_lease_until", oldest.LeaseUntil, "in_memory", e.disp.has(oldest.ID))
	if !oldest.NextAt.After(e.clock.Now()) && !oldest.LeaseUntil.After(e.clock.Now()) {
		e.pokePoller() // due and free: have it claimed now
	}
	// Look again when the older task is due, and at least one poll later
	// so the poller has claimed it.
	return true, maxTime(oldest.NextAt, e.clock.Now().Add(e.cfg.PollInterval))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// attempt executes one attempt of t and returns its result row; ok is
// false when the engine was stopped or killed meanwhile (the task keeps its
// lease and runs again later). recorded says the executor committed the
// result itself (Outcome.Recorded).
func (e *Engine) attempt(t *store.Task) (r store.TaskResult, res result, ok, recorded bool) {
	ctx := e.runCtx
	ex := e.cfg.Executors[t.Kind]
	start := e.clock.Now()
	var out Outcome
	if ex == nil {
		out = Outcome{Err: fmt.Errorf("no executor for destination kind %q", t.Kind), Permanent: true}
	} else {
		actx, cancel := context.WithTimeout(ctx, DefaultAttemptTimeout)
		actx = context.WithValue(actx, resultKey{}, func(out Outcome) store.TaskResult { return e.resultOf(t, start, out) })
		actx, span := e.startAttempt(actx, t)
		out = ex.Execute(actx, t)
		endSpan(span, out.Err)
		span.End()
		cancel()
	}
	if ctx.Err() != nil {
		// Killed or stopped past the grace period: the attempt did not
		// finish; the task keeps its lease and runs again later.
		return store.TaskResult{}, result{}, false, false
	}
	if out.Recorded != nil {
		r = *out.Recorded
	} else {
		r = e.resultOf(t, start, out)
	}
	res = result{ran: !out.NotAttempted, failed: out.Err != nil && !out.NotAttempted}
	if out.RetryAfter > 0 {
		res.pauseFor = min(out.RetryAfter, MaxRetryAfter)
	}
	return r, res, true, out.Recorded != nil
}

// pokeAt wakes the poller at t, for retries due sooner than the next poll.
func (e *Engine) pokeAt(t time.Time) {
	d := max(t.Sub(e.clock.Now()), 0)
	time.AfterFunc(d, e.pokePoller)
}
