package workflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/route"
	"github.com/hookline/hookline/internal/store"
)

var _ route.Filler = (*Runner)(nil)

// FillRoutes fills the routing table with a tenant's workflows: each
// enabled one starts a run for the events it is triggered by, and for a
// workflow.failed event that names it as the error workflow; and with the
// runs waiting for an event (routed only while the tenant has workflows).
func (r *Runner) FillRoutes(ctx context.Context, tenantID string) (route.Fill, error) {
	list, err := r.cfg.Store.ListWorkflows(ctx, tenantID)
	if err != nil {
		return route.Fill{}, fmt.Errorf("load workflows: %w", err)
	}
	var triggers, errorFlows []route.Entry
	compiled := 0
	for _, sw := range list {
		w, err := r.compile(sw)
		if err != nil {
			r.cfg.Logger.ErrorContext(ctx, "workflow skipped", "workflow", sw.Name, "error", err)
			continue
		}
		compiled++
		if !sw.Enabled {
			continue
		}
		target := engine.Target{Kind: Kind, DestinationID: w.Name}
		triggers = append(triggers, route.Entry{
			Target: target, Patterns: w.events, Filter: w.trigger, Cond: startsRuns,
			LogKey: "workflow", LogMsg: "workflow trigger condition failed; no run started",
		})
		name := w.Name
		errorFlows = append(errorFlows, route.Entry{
			Target: target, Patterns: []string{FailedType},
			Cond: func(e *route.Event) bool {
				v, _ := e.Field("error_workflow")
				return v == name && startsRuns(e)
			},
		})
	}
	fill := route.Fill{Entries: append(triggers, errorFlows...), RouteWaits: compiled > 0}
	if !fill.RouteWaits {
		return fill, nil
	}
	waiting, err := r.cfg.Store.WaitingRuns(ctx, tenantID)
	if err != nil {
		return route.Fill{}, fmt.Errorf("waiting runs: %w", err)
	}
	for _, run := range waiting {
		fill.Waits = append(fill.Waits, waitOf(run))
	}
	return fill, nil
}

// startsRuns reports whether an event may start runs: not a
// workflow.failed event about a run that a workflow.failed event started,
// as starting anything again could go on without end.
func startsRuns(e *route.Event) bool {
	if e.Type != FailedType {
		return true
	}
	typ, _ := e.Field("event", "type")
	return typ != FailedType
}

// waitOf is the routing table's view of a run: waiting for the events of
// its wait_for step, or not waiting.
func waitOf(run store.Run) route.Wait {
	w := route.Wait{Kind: Kind, RunID: run.ID, Rev: run.Rev, EventID: run.EventID}
	if run.Status == store.RunWaiting {
		w.Pattern = run.WaitEvent
	}
	return w
}

// setWait tells the routing table about a save of run (with the revision
// the save gave it; err is the save's outcome) when it changed what the
// run waits for: before, its pattern as loaded.
func (r *Runner) setWait(ctx context.Context, run store.Run, before string, err error) {
	w := waitOf(run)
	switch {
	case w.Pattern == before:
	case err == nil:
		r.cfg.Waits.SetWait(ctx, run.TenantID, w)
	case !errors.Is(err, store.ErrConflict):
		// Perhaps committed all the same: the store will say.
		r.cfg.Waits.Invalidate(run.TenantID)
	}
}
