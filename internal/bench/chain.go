package bench

import (
	"context"
	"fmt"
	"strings"

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
	_, err := api.CreateCollection(ctx, client.CollectionSpec{
		Name: name, Key: "data.seq", Events: map[string]client.CollectionOp{eventType: {Op: "upsert"}},
	})
	if err != nil {
		return "", fmt.Errorf("create collection: %w", err)
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
