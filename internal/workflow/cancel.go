package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/route"
	"github.com/hookline/hookline/internal/store"
)

// cancel_on. A new run computes, from its event, the value each keyed
// cancel_on entry waits for, and stores them with the run
// (store.RunListen). Routing keeps them as waits of their own — the
// destination is cancelPrefix, the entry's index, ':' and the run id —
// in the same index as wait_for steps, for as long as the run has not
// ended, so a cancelling event costs only the runs it cancels. The task
// such an event gets checks the entry's match and cancels the run.

// maxCancelOn bounds a workflow's cancel_on entries.
const maxCancelOn = 10

// maxCancelTries bounds the cancels tried again after a step of the run
// saved it meanwhile.
const maxCancelTries = 10

// cancelPrefix starts the destination of a task offering an event to a
// run's cancel_on entry.
const cancelPrefix = "cancel:"

// cancelOn is a compiled cancel_on entry.
type cancelOn struct {
	event  string
	match  *expr.Program
	key    string
	equals func(map[string]any) (any, error)
}

// compileCancels compiles a workflow's cancel_on entries.
func compileCancels(in []CancelDef) ([]*cancelOn, error) {
	if len(in) > maxCancelOn {
		return nil, errAt("cancel_on", "at most %d entries", maxCancelOn)
	}
	var out []*cancelOn
	var errs []error
	for i, c := range in {
		path := fmt.Sprintf("cancel_on[%d]", i)
		if err := event.ValidatePattern(c.Event); err != nil {
			errs = append(errs, &Error{Path: path + ".event", Err: err})
			continue
		}
		co := &cancelOn{event: c.Event}
		if c.Match != "" {
			p, err := expr.Compile(c.Match, matchVars(stepVars)...)
			if err != nil {
				errs = append(errs, &Error{Path: path + ".match", Err: err})
				continue
			}
			co.match = p
		}
		var err error
		if co.key, co.equals, err = correlation(path, c.Key, c.Equals, c.Match, matchVars(stepVars)); err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, co)
	}
	return out, errors.Join(errs...)
}

// listens are the cancel_on entries of a new run with the values their
// keys must have, from the run's event. A keyed entry whose value cannot
// be had (equals fails, or gives no string, number or boolean) is left
// out and logged: the run cannot be cancelled by it.
func (r *Runner) listens(w *Workflow, run *store.Run, st *state) []store.RunListen {
	if len(w.cancels) == 0 {
		return nil
	}
	ev := st.Event.value()
	vars := map[string]any{"event": ev, "trigger": ev, "steps": map[string]any{}, "vars": st.Vars, "env": r.envFor(run.TenantID),
		"run": map[string]any{"id": run.ID, "workflow": run.Workflow, "version": run.Version, "attempt": 1}}
	var out []store.RunListen
	for i, c := range w.cancels {
		l := store.RunListen{RunID: run.ID, TenantID: run.TenantID, Idx: i, Pattern: c.event, EventID: run.EventID}
		if c.key != "" {
			v, err := c.equals(vars)
			value, ok := route.KeyValue(v)
			if err != nil || !ok {
				r.cfg.Logger.Warn("cancel_on: no value for the key; the run cannot be cancelled by it",
					"run_id", run.ID, "entry", i, "key", c.key, "error", err)
				continue
			}
			l.Key, l.Value = c.key, value
		}
		out = append(out, l)
	}
	return out
}

// listenWait is the routing table's view of a listen: rev 1 while the
// run has not ended, and the run's revision with no pattern once it did.
func listenWait(l store.RunListen) route.Wait {
	return route.Wait{Kind: Kind, RunID: cancelPrefix + strconv.Itoa(l.Idx) + ":" + l.RunID, Rev: 1, Pattern: l.Pattern,
		Key: l.Key, Value: l.Value, EventID: l.EventID}
}

// startListens tells routing of a new run's listens, once committed.
func (r *Runner) startListens(ctx context.Context, ls []store.RunListen) {
	for _, l := range ls {
		r.cfg.Waits.SetWait(ctx, l.TenantID, listenWait(l))
	}
}

// endListens tells routing that a run with n cancel_on entries ended
// (at revision rev).
func (r *Runner) endListens(ctx context.Context, run store.Run, n int) {
	for i := range n {
		w := listenWait(store.RunListen{RunID: run.ID, Idx: i})
		w.Rev, w.Pattern = max(run.Rev, 2), ""
		r.cfg.Waits.SetWait(ctx, run.TenantID, w)
	}
}

// cancelOnEvent runs a task offering an event to a run's cancel_on
// entry: a matching event cancels the run.
func (r *Runner) cancelOnEvent(ctx context.Context, t *store.Task) engine.Outcome {
	url := "workflow:" + t.DestinationID
	idx, runID, _ := strings.Cut(strings.TrimPrefix(t.DestinationID, cancelPrefix), ":")
	i, err := strconv.Atoi(idx)
	if err != nil || !isRun(runID) || t.Event == nil {
		return outcome("skipped", url, skipped{Reason: "not a cancel_on task", EventID: t.EventID})
	}
	run, err := r.cfg.Store.GetRun(ctx, t.TenantID, runID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return outcome("skipped", url, skipped{Reason: "run not found", EventID: t.EventID})
	case err != nil:
		return internal(url, err)
	case ended(run.Status):
		return outcome("skipped", url, skipped{Reason: "run " + run.Status, EventID: t.EventID})
	}
	w, _, err := r.Load(ctx, run.TenantID, run.Workflow, run.Version)
	if err != nil || i >= len(w.cancels) {
		return outcome("skipped", url, skipped{Reason: "no such cancel_on entry", EventID: t.EventID})
	}
	c := w.cancels[i]
	if !event.Match(c.event, t.Event.Type) {
		return outcome("skipped", url, skipped{Reason: "event does not match cancel_on", EventID: t.EventID})
	}
	if c.match != nil {
		p := &progress{r: r, run: run}
		if err := json.Unmarshal(run.State, &p.st); err != nil {
			return internal(url, fmt.Errorf("run state: %w", err))
		}
		vars := p.vars()
		vars["trigger"], vars["event"] = vars["event"], snapOf(t.Event).value()
		v, err := c.match.Eval(vars)
		if b, _ := v.(bool); err != nil || !b {
			return outcome("skipped", url, skipped{Reason: "event does not match cancel_on", EventID: t.EventID})
		}
	}
	reason := fmt.Sprintf("cancelled by event %s (%s)", t.EventID, t.Event.Type)
	_, err = r.cancel(ctx, run.TenantID, run.ID, reason)
	// A step of the run saved meanwhile: cancel the run as it is now.
	for try := 0; errors.Is(err, store.ErrConflict) && try < maxCancelTries; try++ {
		_, err = r.cancel(ctx, run.TenantID, run.ID, reason)
	}
	switch {
	case errors.Is(err, ErrFinished), errors.Is(err, store.ErrConflict):
		return outcome("skipped", url, skipped{Reason: "the run ended or changed meanwhile", EventID: t.EventID})
	case err != nil:
		return internal(url, err)
	}
	return outcome("cancelled", url, progressed{RunID: run.ID, Status: store.RunCancelled})
}
