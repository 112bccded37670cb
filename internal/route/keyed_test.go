package route_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/route"
)

func keyed(run, pattern, value string) route.Wait {
	return route.Wait{Kind: "workflow", RunID: run, Rev: 2, Pattern: pattern, Key: "event.data.order.id", Value: value}
}

// TestKeyedWaits: an event goes to the runs waiting for its value only;
// one that no keyed run takes goes to the buffer of its type and key, and
// one without the key's value to none.
func TestKeyedWaits(t *testing.T) {
	t.Parallel()
	buffer := engine.Target{Kind: "workflow", DestinationID: "buffer"}
	wf := &filler{fill: route.Fill{
		Waits: []route.Wait{
			keyed("run_1", "shipment.*", "o1"), keyed("run_2", "shipment.confirmed", "o2"), keyed("run_3", "shipment.*", "o1"),
			{Kind: "workflow", RunID: "run_9", Rev: 2, Pattern: "shipment.confirmed"}, // no key: offered every one
		},
		Buffers:    []route.Buffer{{Pattern: "shipment.confirmed", Key: "event.data.order.id", Target: buffer}},
		RouteWaits: true,
	}}
	b := setup(t, wf)
	require.Equal(t, []string{"workflow:run_1", "workflow:run_3", "workflow:run_9"},
		b.route(t, ev("shipment.confirmed", `{"order": {"id": "o1"}}`)))
	require.Equal(t, []string{"workflow:run_2", "workflow:run_9"}, b.route(t, ev("shipment.confirmed", `{"order": {"id": "o2"}}`)))
	require.Equal(t, []string{"workflow:run_9", "workflow:buffer"}, b.route(t, ev("shipment.confirmed", `{"order": {"id": "o3"}}`)),
		"no run waits for o3: the event is kept")
	require.Equal(t, []string{"workflow:run_9"}, b.route(t, ev("shipment.confirmed", `{"order": {"id": {"x": 1}}}`)),
		"an object is no key's value")
	require.Equal(t, []string{"workflow:run_9"}, b.route(t, ev("shipment.confirmed", `{}`)))
	require.Empty(t, b.route(t, ev("shipment.sent", `{"order": {"id": "o3"}}`)), "no buffer for that type")
	require.Equal(t, []string{"workflow:run_1", "workflow:run_3"}, b.route(t, ev("shipment.sent", `{"order": {"id": "o1"}}`)))
	require.Empty(t, b.route(t, ev("order.created", `{"order": {"id": "o1"}}`)))

	ctx := context.Background()
	// Numbers match their text.
	b.table.SetWait(ctx, tenant, keyed("run_4", "invoice.paid", "42"))
	require.Equal(t, []string{"workflow:run_4"}, b.route(t, ev("invoice.paid", `{"order": {"id": 42}}`)))
	// A run that stops waiting is no longer offered its value.
	b.table.SetWait(ctx, tenant, route.Wait{Kind: "workflow", RunID: "run_1", Rev: 3})
	b.table.SetWait(ctx, tenant, route.Wait{Kind: "workflow", RunID: "run_3", Rev: 3})
	require.Equal(t, []string{"workflow:run_9", "workflow:buffer"}, b.route(t, ev("shipment.confirmed", `{"order": {"id": "o1"}}`)))
	// And one that waits again, for another value, is found by it.
	w := keyed("run_3", "shipment.*", "o7")
	w.Rev = 4
	b.table.SetWait(ctx, tenant, w)
	require.Equal(t, []string{"workflow:run_3", "workflow:run_9"}, b.route(t, ev("shipment.confirmed", `{"order": {"id": "o7"}}`)))
}

// TestKeyedWaitsAtScale: with 10,000 runs waiting on distinct values an
// event costs only the run it wakes.
func TestKeyedWaitsAtScale(t *testing.T) {
	t.Parallel()
	var ws []route.Wait
	for i := range 10_000 {
		ws = append(ws, keyed(fmt.Sprintf("run_%05d", i), "shipment.confirmed", fmt.Sprint("o", i)))
	}
	b := setup(t, &filler{fill: route.Fill{Waits: ws, RouteWaits: true}})
	require.Equal(t, []string{"workflow:run_04321"}, b.route(t, ev("shipment.confirmed", `{"order": {"id": "o4321"}}`)))
	require.Empty(t, b.route(t, ev("shipment.confirmed", `{"order": {"id": "nobody"}}`)))
	require.Empty(t, b.route(t, ev("order.created", `{"order": {"id": "o1"}}`)))
}

func TestKeyPath(t *testing.T) {
	t.Parallel()
	for key, want := range map[string][]string{
		"event.data.order_id": {"order_id"}, "event.data.order.id": {"order", "id"},
		"event.data": nil, "event.data.": nil, "data.order_id": nil, "event.data.a..b": nil, "event.id": nil,
	} {
		got, ok := route.KeyPath(key)
		require.Equal(t, want != nil, ok, key)
		require.Equal(t, want, got, key)
	}
}
