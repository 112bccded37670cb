package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/store"
)

// Kind is the destination kind of workflow tasks. A task whose destination
// is a workflow's name starts a run; one whose destination is a run id
// continues that run.
const Kind = "workflow"

// FailedType is the type of the event announcing a failed run.
const FailedType = "workflow.failed"

// routeTTL bounds how long a tenant's workflows are cached for routing.
const routeTTL = 5 * time.Second

// Config wires a Runner.
type Config struct {
	Store store.Store
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
	// Notify runs a notify step: the rule for the run's event, with the
	// run's vars; id makes the messages' ids. It returns the messages'
	// ids; nil refuses notify steps.
	Notify func(ctx context.Context, tenantID string, rule client.NotifyRule, ev *event.Event, vars map[string]any, id string) ([]string, error)
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
}

// Runner runs workflows: it routes events to them, executes their tasks
// and answers the run API.
type Runner struct {
	cfg Config
	env map[string]any

	mu       sync.Mutex
	compiled map[string]*Workflow // tenant/name/version
	routes   map[string]*routes   // by tenant
}

type routes struct {
	loaded    time.Time
	workflows []*Workflow
	enabled   map[string]bool
}

// New returns a Runner.
func New(cfg Config) *Runner {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	if cfg.Lease == nil {
		cfg.Lease = func([]store.Task) {}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	env := make(map[string]any, len(cfg.Env))
	for k, v := range cfg.Env {
		env[k] = v
	}
	return &Runner{cfg: cfg, env: env, compiled: map[string]*Workflow{}, routes: map[string]*routes{}}
}

// Invalidate drops a tenant's cached workflows after a change.
func (r *Runner) Invalidate(tenantID string) {
	r.mu.Lock()
	delete(r.routes, tenantID)
	r.mu.Unlock()
}

// Load returns a compiled workflow version (0: the latest).
func (r *Runner) Load(ctx context.Context, tenantID, name string, version int) (*Workflow, store.Workflow, error) {
	sw, err := r.cfg.Store.GetWorkflow(ctx, tenantID, name, version)
	if err != nil {
		return nil, sw, err
	}
	// A deleted and recreated workflow numbers its versions from 1 again:
	// the creation time tells the two v1s apart.
	k := fmt.Sprintf("%s/%s/%d/%d", tenantID, name, sw.Version, sw.CreatedAt.UnixNano())
	r.mu.Lock()
	w := r.compiled[k]
	r.mu.Unlock()
	if w != nil {
		return w, sw, nil
	}
	var spec client.WorkflowSpec
	if err := json.Unmarshal(sw.Spec, &spec); err != nil {
		return nil, sw, fmt.Errorf("workflow %s v%d: stored spec: %w", name, sw.Version, err)
	}
	if w, err = Compile(spec); err != nil {
		return nil, sw, fmt.Errorf("workflow %s v%d no longer compiles: %w", name, sw.Version, err)
	}
	w.Version = sw.Version
	r.mu.Lock()
	r.compiled[k] = w
	r.mu.Unlock()
	return w, sw, nil
}

var _ engine.Router = (*Runner)(nil)

// Route starts the workflows an event triggers, the error workflow a
// workflow.failed event names, and wakes the runs waiting for it.
func (r *Runner) Route(ctx context.Context, e *event.Event) ([]engine.Target, error) {
	rs, err := r.load(ctx, e.TenantID)
	if err != nil {
		return nil, err
	}
	if len(rs.workflows) == 0 {
		return nil, nil
	}
	var (
		out []engine.Target
		env expr.Env
	)
	if e.Type == FailedType && failedOfFailed(e) {
		// A run started by workflow.failed failed in turn: starting
		// anything again could go on without end.
		return r.waitingTargets(ctx, e, nil)
	}
	for _, w := range rs.workflows {
		if !rs.enabled[w.Name] || !event.MatchAny(w.On.Events, e.Type) {
			continue
		}
		if env == nil {
			if env, err = expr.EventEnv(e); err != nil {
				return nil, err
			}
		}
		ok, err := w.Triggered(env, e.Type)
		if err != nil {
			r.cfg.Logger.WarnContext(ctx, "workflow trigger condition failed; no run started", "workflow", w.Name, "event_id", e.ID, "error", err)
			continue
		}
		if ok {
			out = append(out, engine.Target{Kind: Kind, DestinationID: w.Name})
		}
	}
	if e.Type == FailedType {
		var f struct {
			ErrorWorkflow string `json:"error_workflow"`
		}
		if json.Unmarshal(e.Data, &f) == nil && f.ErrorWorkflow != "" && rs.enabled[f.ErrorWorkflow] {
			target := engine.Target{Kind: Kind, DestinationID: f.ErrorWorkflow}
			if !slices.Contains(out, target) {
				out = append(out, target)
			}
		}
	}
	return r.waitingTargets(ctx, e, out)
}

// waitingTargets adds the runs waiting for events like e.
func (r *Runner) waitingTargets(ctx context.Context, e *event.Event, out []engine.Target) ([]engine.Target, error) {
	waiting, err := r.cfg.Store.WaitingRuns(ctx, e.TenantID)
	if err != nil {
		return nil, fmt.Errorf("waiting runs: %w", err)
	}
	for _, run := range waiting {
		if run.EventID != e.ID && event.Match(run.WaitEvent, e.Type) {
			out = append(out, engine.Target{Kind: Kind, DestinationID: run.ID})
		}
	}
	return out, nil
}

// failedOfFailed reports whether a workflow.failed event is about a run
// that a workflow.failed event started.
func failedOfFailed(e *event.Event) bool {
	var f struct {
		Event struct {
			Type string `json:"type"`
		} `json:"event"`
	}
	return json.Unmarshal(e.Data, &f) == nil && f.Event.Type == FailedType
}

func (r *Runner) load(ctx context.Context, tenantID string) (*routes, error) {
	now := r.cfg.Clock.Now()
	r.mu.Lock()
	rs := r.routes[tenantID]
	r.mu.Unlock()
	if rs != nil && now.Sub(rs.loaded) < routeTTL {
		return rs, nil
	}
	list, err := r.cfg.Store.ListWorkflows(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("load workflows: %w", err)
	}
	rs = &routes{loaded: now, enabled: map[string]bool{}}
	for _, sw := range list {
		w, _, err := r.Load(ctx, tenantID, sw.Name, sw.Version)
		if err != nil {
			r.cfg.Logger.ErrorContext(ctx, "workflow skipped", "workflow", sw.Name, "error", err)
			continue
		}
		rs.workflows = append(rs.workflows, w)
		rs.enabled[sw.Name] = sw.Enabled
	}
	r.mu.Lock()
	r.routes[tenantID] = rs
	r.mu.Unlock()
	return rs, nil
}

// Limits runs one task of a run at a time.
func (r *Runner) Limits(_ context.Context, t *store.Task) engine.Limits {
	if isRun(t.DestinationID) {
		return engine.Limits{MaxInFlight: 1}
	}
	return engine.Limits{}
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
	var st state
	if err := json.Unmarshal(run.State, &st); err != nil {
		return run, fmt.Errorf("run %s: state: %w", id, err)
	}
	if st.Failed == "" {
		return run, ErrNotRetryable
	}
	now := r.cfg.Clock.Now()
	rev := run.Rev
	st.Current, st.Attempt, st.Failed, st.Wait = st.Failed, 0, "", nil
	st.Seq++
	next := r.newTask(&run, st.Event.Type, now, now)
	st.Next = next.ID
	run.Status, run.Error, run.WaitEvent, run.UpdatedAt = store.RunRunning, "", "", now
	r.lease([]store.Task{next})
	if run.State, err = json.Marshal(st); err != nil {
		return run, err
	}
	if err := r.cfg.Store.SaveRun(ctx, store.RunSave{Run: run, Rev: rev, Tasks: []store.Task{next}}); err != nil {
		return run, err
	}
	run.Rev++
	r.cfg.Schedule(ctx, []store.Task{next})
	return run, nil
}

// Cancel stops a run that has not ended; its pending tasks find it
// cancelled and do nothing.
func (r *Runner) Cancel(ctx context.Context, tenantID, id string) (store.Run, error) {
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
	rev := run.Rev
	st.Next, st.Wait = "", nil
	run.Status, run.WaitEvent, run.UpdatedAt, run.Error = store.RunCancelled, "", r.cfg.Clock.Now(), "cancelled"
	if run.State, err = json.Marshal(st); err != nil {
		return run, err
	}
	if err := r.cfg.Store.SaveRun(ctx, store.RunSave{Run: run, Rev: rev}); err != nil {
		return run, err
	}
	run.Rev++
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
