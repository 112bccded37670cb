package workflow

import (
	"context"
	"errors"
	"fmt"
	"slices"

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
	var buffers []route.Buffer
	compiled := 0
	for _, sw := range list {
		w, err := r.compile(sw)
		if err != nil {
			r.cfg.Logger.ErrorContext(ctx, "workflow skipped", "workflow", sw.Name, "error", err)
			continue
		}
		compiled++
		buffers = w.addBuffers(buffers)
		if !sw.Enabled {
			continue
		}
		target := engine.Target{Kind: Kind, DestinationID: w.Name}
		if len(w.events) > 0 {
			triggers = append(triggers, route.Entry{
				Target: target, Patterns: w.events, Filter: w.trigger, Cond: startsRuns,
				LogKey: "workflow", LogMsg: "workflow trigger condition failed; no run started",
			})
		}
		name := w.Name
		errorFlows = append(errorFlows, route.Entry{
			Target: target, Patterns: []string{FailedType},
			Cond: func(e *route.Event) bool {
				v, _ := e.Field("error_workflow")
				return v == name && startsRuns(e)
			},
		})
	}
	fill := route.Fill{Entries: append(triggers, errorFlows...), RouteWaits: compiled > 0, Buffers: buffers}
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
	listening, err := r.cfg.Store.ListeningRuns(ctx, tenantID)
	if err != nil {
		return route.Fill{}, fmt.Errorf("listening runs: %w", err)
	}
	for _, l := range listening {
		fill.Waits = append(fill.Waits, listenWait(l))
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
	if run.Status == store.RunWaiting && run.WaitEvent != "" {
		w.Pattern, w.Key, w.Value = run.WaitEvent, run.WaitKey, run.WaitValue
	}
	return w
}

// sameWait reports whether two views of a run wait for the same events.
func sameWait(a, b route.Wait) bool {
	return a.Pattern == b.Pattern && a.Key == b.Key && a.Value == b.Value
}

// settle clears a run's wait key when it waits for no event, before a
// save.
func settle(run *store.Run) {
	if run.WaitEvent == "" {
		run.WaitKey, run.WaitValue = "", ""
	}
}

// setWait tells the routing table about a save of run (with the revision
// the save gave it; err is the save's outcome) when it changed what the
// run waits for: before, what it waited for as loaded.
func (r *Runner) setWait(ctx context.Context, run store.Run, before route.Wait, err error) {
	w := waitOf(run)
	switch {
	case sameWait(w, before):
	case err == nil:
		r.cfg.Waits.SetWait(ctx, run.TenantID, w)
	case !errors.Is(err, store.ErrConflict):
		// Perhaps committed all the same: the store will say.
		r.cfg.Waits.Invalidate(run.TenantID)
	}
}

// bufferPrefix starts the destination of the tasks that keep an event for
// keyed waits, followed by the key: neither a workflow name nor a run id.
const bufferPrefix = "buffer:"

// addBuffers adds the buffers of w's keyed waits that keep events, one
// per pattern and key.
func (w *Workflow) addBuffers(bs []route.Buffer) []route.Buffer {
	for _, s := range w.steps {
		if s.kind != KindWaitFor || s.waitKey == "" || s.buffer <= 0 {
			continue
		}
		b := route.Buffer{Pattern: s.waitEvent, Key: s.waitKey, Target: engine.Target{Kind: Kind, DestinationID: bufferPrefix + s.waitKey}}
		if !slices.Contains(bs, b) {
			bs = append(bs, b)
		}
	}
	return bs
}
