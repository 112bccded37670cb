package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline/client"
)

// chainName names Y1's collection and W1's workflow: unique per run, so
// that runs on one shared server do not meet.
func (r *runner) chainName(sp spec) string {
	return "bench_" + r.runID + "_" + strings.ToLower(sp.name)
}

// createSync creates Y1's collection, applying each event of eventType as
// an upsert of the record keyed by its data.seq (a new record per event,
// so every event is one change), and the sync subscription feeding it. It
// returns the type of the collection's changed events.
func (r *runner) createSync(ctx context.Context, api *client.Client, sp spec, eventType string, undo *[]func(context.Context) error) (string, error) {
	name := r.chainName(sp)
	spec := client.CollectionSpec{
		Name: name, Key: "data.seq", Events: map[string]client.CollectionOp{eventType: {Op: "upsert"}},
	}
	if sp.mirror {
		spec.Mirror = &client.CollectionMirror{DSN: r.cfg.Mirror, Table: r.chainName(sp), Create: true,
			Columns: []client.MirrorColumn{{Name: "note", Value: "record.note"}}}
	}
	if _, err := api.CreateCollection(ctx, spec); err != nil {
		return "", fmt.Errorf("create collection (a mirror's database must be reachable from the server): %w", err)
	}
	*undo = append(*undo, func(ctx context.Context) error { return api.DeleteCollection(ctx, name) })
	types := []string{eventType}
	sub, err := api.CreateSubscription(ctx, client.SubscriptionCreate{
		EventTypes: &types, Destination: &client.SubDest{Kind: "sync", Collection: name},
	})
	if err != nil {
		return "", fmt.Errorf("create sync subscription: %w", err)
	}
	*undo = append(*undo, func(ctx context.Context) error { return api.DeleteSubscription(ctx, sub.ID) })
	return "collection." + name + ".changed", nil
}

// awaitMirror waits until Y2's mirror table holds every change, or the
// timeout, and records how fast the events got there.
func (r *runner) awaitMirror(ctx context.Context, api *client.Client, sp spec, firstAccept time.Time, res *Scenario) error {
	name := r.chainName(sp)
	r.logf("%s: waiting for the mirror table", sp.name)
	deadline := time.Now().Add(r.cfg.Timeout)
	poll := time.NewTicker(pollInterval)
	defer poll.Stop()
	last := ""
	for {
		col, err := api.GetCollection(ctx, name)
		if err != nil {
			return fmt.Errorf("read mirror status: %w", err)
		}
		if m := col.MirrorStatus; m != nil {
			if m.State == "ok" && m.Lag == 0 {
				if span := time.Since(firstAccept); span > 0 {
					res.MirroredPerSec = float64(res.Accepted) / span.Seconds()
				}
				r.logf("%s: every change in the mirror table (%.0f events/s)", sp.name, res.MirroredPerSec)
				return nil
			}
			last = fmt.Sprintf("state %s, lag %d %s", m.State, m.Lag, m.LastError)
		}
		if time.Now().After(deadline) {
			res.TimedOut = true
			r.logf("%s: mirror not caught up after %s: %s", sp.name, r.cfg.Timeout, last)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poll.C:
		}
	}
}

// dropMirrorTable drops Y2's mirror table unless the run keeps its data.
func (r *runner) dropMirrorTable(ctx context.Context, sp spec) {
	table := r.chainName(sp)
	if r.cfg.KeepData {
		r.logf("%s: kept mirror table %s", sp.name, table)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := dropTable(ctx, r.cfg.Mirror, table); err != nil {
		r.logf("%s: %v", sp.name, err)
	}
}

// createWorkflow creates W1's workflow, the three steps of
// internal/app's BenchmarkWorkflow started by each event of eventType: a
// POST of the event's data to the receiver's service endpoint, a set, and
// an emit of an event naming the run's event as data.event_id. It returns
// the emitted type.
func (r *runner) createWorkflow(ctx context.Context, api *client.Client, rcv *receiver, sp spec, eventType string, undo *[]func(context.Context) error) (string, error) {
	service := -1
	for i, k := range sp.kinds() {
		if k == behaviourService {
			service = i
		}
	}
	name, emitted := r.chainName(sp), eventType+".confirmed"
	_, err := api.SaveWorkflow(ctx, client.WorkflowSpec{
		Name: name, On: client.WorkflowTrigger{Events: []string{eventType}},
		Steps: []client.Step{
			{ID: "reserve", HTTP: &client.HTTPStep{Method: "POST", URL: rcv.url(service), Body: "{{ toJSON(event.data) }}"}},
			{ID: "total", Set: map[string]string{"total": "event.data.seq * 2"}},
			{ID: "confirm", Emit: &client.EmitStep{Type: emitted, Data: map[string]any{
				"event_id": "{{ event.id }}", "reservation": "{{ steps.reserve.output.body.reservation }}",
			}}},
		},
	})
	if err != nil {
		return "", fmt.Errorf("save workflow (the server must allow calls to 127.0.0.1): %w", err)
	}
	*undo = append(*undo, func(ctx context.Context) error { return api.DeleteWorkflow(ctx, name) })
	return emitted, nil
}
