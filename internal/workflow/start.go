package workflow

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// ManualType is the type of the event that starts a run by hand (POST
// /v1/workflows/{name}/runs); its data is the run's input.
const ManualType = "workflow.manual"

// ErrDisabled is returned by StartRun for a disabled workflow.
var ErrDisabled = errors.New("workflow is disabled")

// begin creates run id of w, at its first step, for ev, with the task that
// runs the step. created is false when the run exists already: an earlier
// attempt made it. When begin runs an attempt whose outcome is done (not
// nil), the attempt's result is written with the run it creates, and
// done.Recorded set.
func (r *Runner) begin(ctx context.Context, w *Workflow, id string, ev *event.Event,
	done *engine.Outcome) (run store.Run, created bool, err error) {
	now := r.cfg.Clock.Now()
	run = store.Run{
		ID: id, TenantID: ev.TenantID, Workflow: w.Name, Version: w.Version, Status: store.RunRunning,
		EventID: ev.ID, CreatedAt: now, UpdatedAt: now,
	}
	st := state{Event: snapOf(ev), Vars: map[string]any{}, Steps: map[string]stepResult{}, Current: w.steps[0].id, Seq: 1}
	next := r.newTask(&run, ev.Type, now, now)
	st.Next = next.ID
	listens := r.listens(w, &run, &st)
	st.Listens = len(listens)
	if run.State, err = json.Marshal(st); err != nil {
		return run, false, err
	}
	tasks := []store.Task{next}
	r.lease(tasks)
	var result *store.TaskResult
	if done != nil {
		result = resultFor(ctx, *done)
	}
	recorded, err := r.saveRun(ctx, store.RunSave{Run: run, Tasks: tasks, Gates: w.gates(st.Event, now), Listens: listens, Result: result})
	var le *store.LimitError
	switch {
	case errors.As(err, &le):
		// Over a concurrency or throttle limit: queued, not dropped.
		run, err := r.queue(ctx, w, run, 0, st, le, now, listens...)
		if errors.Is(err, store.ErrConflict) {
			return run, false, nil
		}
		if err == nil {
			r.startListens(ctx, listens)
		}
		return run, err == nil, err
	case errors.Is(err, store.ErrConflict):
		return run, false, nil
	case err != nil:
		return run, false, err
	}
	if recorded {
		done.Recorded = result
	}
	r.startListens(ctx, listens)
	r.cfg.Schedule(ctx, tasks)
	return run, true, nil
}

// Startable returns the latest version of a workflow a person may start
// (ErrDisabled when it is disabled, store.ErrNotFound when there is
// none).
func (r *Runner) Startable(ctx context.Context, tenantID, name string) (*Workflow, error) {
	w, sw, err := r.Load(ctx, tenantID, name, 0)
	if err == nil && !sw.Enabled {
		err = ErrDisabled
	}
	return w, err
}

// StartRun starts a run of the latest version of workflow name by hand
// for ev, the event that asks for it (of type ManualType, whose data is
// the input), once commit has written ev to the event log (to no
// destination; it returns the event committed, an earlier one for a
// repeated idempotency key). Nothing is committed for a workflow that
// cannot start (Startable's errors). The run's id derives from the
// event's, so a repeated event finds the run it started; created says
// whether this call made it.
func (r *Runner) StartRun(ctx context.Context, name string, ev event.Event,
	commit func(context.Context, event.Event) (event.Event, error)) (run store.Run, created bool, err error) {
	w, err := r.Startable(ctx, ev.TenantID, name)
	if err != nil {
		return store.Run{}, false, err
	}
	if ev, err = commit(ctx, ev); err != nil {
		return store.Run{}, false, err
	}
	id := runID(ev.ID)
	if run, created, err = r.begin(ctx, w, id, &ev, nil); err != nil || created {
		return run, created, err
	}
	run, err = r.cfg.Store.GetRun(ctx, ev.TenantID, id)
	return run, false, err
}
