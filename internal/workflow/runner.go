package workflow

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/lru"
	"github.com/hookline/hookline/internal/route"
	"github.com/hookline/hookline/internal/store"
)

// Kind is the destination kind of workflow tasks. A task whose destination
// is a workflow's name starts a run; one whose destination is a run id
// continues that run.
const Kind = "workflow"

// FailedType is the type of the event announcing a failed run.
const FailedType = "workflow.failed"

// Config wires a Runner.
type Config struct {
	Store Store
	// Client makes http steps' requests (the SSRF-guarded client).
	Client *http.Client
	Clock  clock.Clock
	Logger *slog.Logger
	// Publish commits events (emit steps, workflow.failed); duplicates
	// are recognised by idempotency key.
	Publish func(ctx context.Context, evs []event.Event) error
	// Lease leases the tasks about to be written that this node runs at
	// once; Schedule hands tasks written with a run's state to the engine.
	Lease    func(ts []store.Task)
	Schedule func(ctx context.Context, ts []store.Task)
	// Collections applies sync steps; nil refuses them.
	Collections *collection.Service
	// Records reads the collections foreach steps go over; nil refuses
	// them.
	Records collection.RecordLister
	// Notify runs a notify step: the rule for the run's event, with the
	// run's vars; id makes the messages' ids. It returns the messages'
	// ids; nil refuses notify steps.
	Notify func(ctx context.Context, tenantID string, rule content.RuleDef, ev *event.Event, vars map[string]any, id string) ([]string, error)
	// CheckNotify validates notify steps when a stored spec is compiled
	// (content.CheckRule); nil refuses them.
	CheckNotify func(content.RuleDef) error
	// Env is what expressions see as env: the variables the operator
	// chose to expose. Only runs of EnvTenant (the operator's own tenant)
	// see them; other tenants' env is empty.
	Env       map[string]string
	EnvTenant string
	UserAgent string
	// Rand spreads the waits between a step's attempts (±20%, see
	// backoff.Spread); it returns a value in [0, 1). Default
	// math/rand/v2's Float64.
	Rand func() float64
	// Waits is told when a run starts or stops waiting for an event, so
	// that the next event is routed to it (route.Table); nil: nobody.
	Waits Waits
	// ApprovalKey signs approval links; PublicURL, when set, is their
	// base (else they are paths of this server).
	ApprovalKey []byte
	PublicURL   string
}

// Store is what a Runner needs from the store: the workflows and runs,
// AddTasks for the tasks that offer a kept event to a waiting run, and
// GetEvent for such a task run at once, without its event loaded.
type Store interface {
	store.Workflows
	AddTasks(ctx context.Context, ts []store.Task) error
	GetEvent(ctx context.Context, tenantID, id string) (event.Event, error)
}

// Waits keeps the runs waiting for events where routing sees them.
type Waits interface {
	// SetWait records that a run started or stopped waiting (after the
	// change is committed).
	SetWait(ctx context.Context, tenantID string, w route.Wait)
	// Invalidate has the tenant's waiting runs read from the store again:
	// a save whose outcome is unknown may or may not have changed one.
	Invalidate(tenantID string)
}

type noWaits struct{}

func (noWaits) SetWait(context.Context, string, route.Wait) {}
func (noWaits) Invalidate(string)                           {}

// Runner runs workflows: it fills the routing table with their triggers
// and waiting runs, executes their tasks and answers the run API.
type Runner struct {
	cfg Config
	env map[string]any

	// compiled keeps the workflow versions last used, compiled, by
	// tenant/name/version/creation.
	compiled *lru.Cache[string, *Workflow]
}

// maxCompiled bounds the compiled workflow versions kept; one evicted is
// compiled again from its stored spec when next used.
const maxCompiled = 1024

// New returns a Runner.
func New(cfg Config) *Runner {
	cfg.Clock = cmp.Or[clock.Clock](cfg.Clock, clock.Real{})
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	cfg.Client = cmp.Or(cfg.Client, http.DefaultClient)
	if cfg.Lease == nil {
		cfg.Lease = func([]store.Task) {}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Waits == nil {
		cfg.Waits = noWaits{}
	}
	env := make(map[string]any, len(cfg.Env))
	for k, v := range cfg.Env {
		env[k] = v
	}
	return &Runner{cfg: cfg, env: env, compiled: lru.New[string, *Workflow](maxCompiled)}
}

// Load returns a compiled workflow version (0: the latest).
func (r *Runner) Load(ctx context.Context, tenantID, name string, version int) (*Workflow, store.Workflow, error) {
	sw, err := r.cfg.Store.GetWorkflow(ctx, tenantID, name, version)
	if err != nil {
		return nil, sw, err
	}
	w, err := r.compile(sw)
	return w, sw, err
}

// compile returns a stored workflow version compiled, once while it stays
// among the maxCompiled last used.
func (r *Runner) compile(sw store.Workflow) (*Workflow, error) {
	tenantID, name := sw.TenantID, sw.Name
	// A deleted and recreated workflow numbers its versions from 1 again:
	// the creation time tells the two v1s apart.
	k := fmt.Sprintf("%s/%s/%d/%d", tenantID, name, sw.Version, sw.CreatedAt.UnixNano())
	if w, ok := r.compiled.Get(k); ok {
		return w, nil
	}
	var spec Def
	if err := json.Unmarshal(sw.Spec, &spec); err != nil {
		return nil, fmt.Errorf("workflow %s v%d: stored spec: %w", name, sw.Version, err)
	}
	w, err := Compile(spec, Options{CheckNotify: r.cfg.CheckNotify})
	if err != nil {
		return nil, fmt.Errorf("workflow %s v%d no longer compiles: %w", name, sw.Version, err)
	}
	w.Version = sw.Version
	r.compiled.Add(k, w)
	return w, nil
}

// startInFlight is how many tasks starting runs of one workflow run at
// once. A start reads the workflow and writes the run; the more run
// together, the more share one commit of the run saves. The engine's
// default is for endpoints, and a workflow's own concurrency and throttle
// limits are its gates, kept by the store.
const startInFlight = 64

// Limits runs one task of a run at a time, and startInFlight tasks that
// start runs of a workflow.
func (r *Runner) Limits(_ context.Context, t *store.Task) engine.Limits {
	dest := t.DestinationID
	switch {
	case isRun(dest):
		return engine.Limits{MaxInFlight: 1}
	case strings.HasPrefix(dest, bufferPrefix), strings.HasPrefix(dest, cancelPrefix), isDebounce(dest):
		return engine.Limits{}
	}
	return engine.Limits{MaxInFlight: startInFlight}
}

func (r *Runner) lease(ts []store.Task) { r.cfg.Lease(ts) }

func isRun(dest string) bool { return strings.HasPrefix(dest, "run_") }

// runID derives a run's id from the task that starts it, so a retried
// start finds the run it made.
func runID(taskID string) string {
	_, id, _ := strings.Cut(taskID, "_")
	return "run_" + id
}

// newTask is a task continuing run at when.
func (r *Runner) newTask(run *store.Run, typ string, now, when time.Time) store.Task {
	return store.Task{
		ID: event.NewID(event.PrefixDelivery, now), TenantID: run.TenantID, EventID: run.EventID, EventType: typ,
		Kind: Kind, DestinationID: run.ID, Status: store.StatusPending, NextAt: when, CreatedAt: now, UpdatedAt: now,
	}
}

// ErrNotRetryable is returned by Retry for a run that did not fail.
var ErrNotRetryable = errors.New("only failed runs can be retried")

// ErrFinished is returned by Cancel for a run that already ended.
var ErrFinished = errors.New("run already ended")

// ErrChildRun is returned by Retry for a run that a parallel, foreach or
// call step started: its parent took in its failure.
var ErrChildRun = fmt.Errorf("%w: a run started by another run's step is retried with that run", ErrNotRetryable)

// Retry restarts a failed run at the step it failed at, with that step's
// retries counted afresh.
func (r *Runner) Retry(ctx context.Context, tenantID, id string) (store.Run, error) {
	run, err := r.cfg.Store.GetRun(ctx, tenantID, id)
	if err != nil {
		return run, err
	}
	if run.Status != store.RunFailed {
		return run, ErrNotRetryable
	}
	if run.ParentID != "" {
		return run, ErrChildRun
	}
	var st state
	if err := json.Unmarshal(run.State, &st); err != nil {
		return run, fmt.Errorf("run %s: state: %w", id, err)
	}
	if st.Failed == "" {
		return run, ErrNotRetryable
	}
	now := r.cfg.Clock.Now()
	rev, before := run.Rev, waitOf(run)
	st.Current, st.Attempt, st.Failed, st.Wait = st.Failed, 0, "", nil
	st.Seq++
	next := r.newTask(&run, st.Event.Type, now, now)
	st.Next = next.ID
	run.Status, run.Error, run.WaitEvent, run.UpdatedAt = store.RunRunning, "", "", now
	settle(&run)
	r.lease([]store.Task{next})
	if run.State, err = json.Marshal(st); err != nil {
		return run, err
	}
	if err := r.cfg.Store.SaveRun(ctx, store.RunSave{Run: run, Rev: rev, Tasks: []store.Task{next}}); err != nil {
		r.setWait(ctx, run, before, err)
		return run, err
	}
	run.Rev++
	r.setWait(ctx, run, before, nil)
	if st.Listens > 0 {
		// Listening again: routing reads the run's listens anew.
		r.cfg.Waits.Invalidate(run.TenantID)
	}
	r.cfg.Schedule(ctx, []store.Task{next})
	return run, nil
}

// Cancel stops a run that has not ended; its pending tasks find it
// cancelled and do nothing. The child runs its step waits for are
// cancelled after it, and a child run's parent is told, as when it ends.
func (r *Runner) Cancel(ctx context.Context, tenantID, id string) (store.Run, error) {
	return r.cancel(ctx, tenantID, id, "cancelled")
}

// cancel cancels a run with reason as its error.
func (r *Runner) cancel(ctx context.Context, tenantID, id, reason string) (store.Run, error) {
	run, err := r.cfg.Store.GetRun(ctx, tenantID, id)
	if err != nil {
		return run, err
	}
	switch run.Status {
	case store.RunSucceeded, store.RunFailed, store.RunCancelled:
		return run, ErrFinished
	}
	var st state
	if err := json.Unmarshal(run.State, &st); err != nil {
		return run, fmt.Errorf("run %s: state: %w", id, err)
	}
	rev, before := run.Rev, waitOf(run)
	fan := st.Fan
	st.Next, st.Wait = "", nil
	now := r.cfg.Clock.Now()
	run.Status, run.WaitEvent, run.UpdatedAt, run.Error = store.RunCancelled, "", now, reason
	settle(&run)
	if run.State, err = json.Marshal(st); err != nil {
		return run, err
	}
	var tasks []store.Task
	if run.ParentID != "" {
		tasks = append(tasks, r.notifyTask(&run, st.Event.Type, now))
	}
	r.lease(tasks)
	if err := r.cfg.Store.SaveRun(ctx, store.RunSave{Run: run, Rev: rev, Tasks: tasks}); err != nil {
		r.setWait(ctx, run, before, err)
		return run, err
	}
	run.Rev++
	r.setWait(ctx, run, before, nil)
	if st.Listens > 0 {
		r.endListens(ctx, run, st.Listens)
	}
	if len(tasks) > 0 {
		r.cfg.Schedule(ctx, tasks)
	}
	if w, _, err := r.Load(ctx, tenantID, run.Workflow, run.Version); err == nil {
		r.pokeQueued(ctx, w, run, st.Event)
	}
	if fan != nil {
		for _, c := range fan.Children {
			if ended(c.Status) {
				continue
			}
			if err := r.stop(ctx, tenantID, c.ID); err != nil {
				// The parent is cancelled: its child's news will be
				// skipped, and the child ends on its own.
				r.cfg.Logger.WarnContext(ctx, "cancel child run", "run_id", id, "child_id", c.ID, "error", err)
			}
		}
	}
	return run, nil
}

// Current is the step a run is at, from its state.
func Current(run store.Run) (string, any) {
	var st state
	if json.Unmarshal(run.State, &st) != nil {
		return "", nil
	}
	if run.Status == store.RunFailed {
		return st.Failed, st.Vars
	}
	return st.Current, st.Vars
}
