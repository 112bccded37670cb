package app_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/testkit"
)

// payWorkflow waits for the payment of each order (a keyed wait, its
// key derived from the match, keeping no early events) and then emits
// order.paid.
const payWorkflow = `name: pay
on: { events: ["order.created"] }
steps:
  - id: paid
    wait_for: { event: payment.received, match: "event.data.order == trigger.data.id && event.data.paid", buffer: 0s, timeout: 1h }
  - id: done
    emit: { type: order.paid, data: { order: "{{ event.data.id }}" } }
    next: end
`

// TestClusterRoutesAtOnce: on two PostgreSQL nodes whose routing tables
// are never rebuilt for age, a workflow saved through one node and a run
// that starts waiting on either are routed by both — they were told —
// and a run waiting on one node resumes on an event published to the
// other.
func TestClusterRoutesAtOnce(t *testing.T) {
	t.Parallel()
	dsn := testkit.PostgresSchema(t)
	ageless := withRouteMaxAge(time.Hour)
	n1, n2 := startNode(t, dsn, "route-1", ageless), startNode(t, dsn, "route-2", ageless)
	ctx := context.Background()
	cs := []*client.Client{client.New(n1.url, clusterKey), client.New(n2.url, clusterKey)}
	send := func(c *client.Client, typ, data string) int {
		t.Helper()
		ev, err := c.SendEvent(ctx, client.EventCreate{Type: typ, Data: json.RawMessage(data)})
		require.NoError(t, err)
		require.NotNil(t, ev.Deliveries)
		return *ev.Deliveries
	}
	// Both nodes build their tenant's table: nothing routes yet.
	for _, c := range cs {
		require.Zero(t, send(c, "order.created", `{"id": "o0"}`))
	}

	_, err := cs[0].SaveWorkflowYAML(ctx, []byte(payWorkflow))
	require.NoError(t, err)
	// Node 2 starts the workflow without waiting for its table to age.
	require.Eventually(t, func() bool { return send(cs[1], "order.created", `{"id": "o1"}`) == 1 }, 15*time.Second, 10*time.Millisecond)
	// Node 1 builds its table again (invalidated by the save): a type that
	// routes nowhere.
	require.Zero(t, send(cs[0], "order.shipped", `{}`))

	var run client.Run
	require.Eventually(t, func() bool {
		page, err := cs[0].ListRuns(ctx, client.RunListOptions{Workflow: "pay", Status: "waiting"})
		require.NoError(t, err)
		if len(page.Data) == 0 {
			return false
		}
		run = page.Data[0]
		return run.Current == "paid"
	}, 15*time.Second, 10*time.Millisecond, "the run never waited")

	// The wait was recorded by one node; both route to it without a
	// rebuild. An event for its order that the match refuses is offered
	// and ignored; one for another order is not offered.
	for i, c := range cs {
		require.Zero(t, send(c, "payment.received", `{"order": "other", "paid": true}`))
		require.Eventually(t, func() bool { return send(c, "payment.received", `{"order": "o1", "paid": false}`) == 1 },
			15*time.Second, 10*time.Millisecond, "node %d never offered the run the event", i+1)
	}

	require.Equal(t, 1, send(cs[1], "payment.received", `{"order": "o1", "paid": true}`))
	require.Eventually(t, func() bool {
		r, err := cs[0].GetRun(ctx, run.ID)
		require.NoError(t, err)
		return r.Status == "succeeded"
	}, 15*time.Second, 10*time.Millisecond, "the run did not resume")

	// Once it stopped waiting, neither node offers it events.
	for i, c := range cs {
		require.Eventually(t, func() bool { return send(c, "payment.received", `{"order": "o1", "paid": true}`) == 0 },
			15*time.Second, 10*time.Millisecond, "node %d still routes to the run", i+1)
	}
}

// TestWaitRoutedAtOnce: on one node whose routing table is never rebuilt
// for age, a run that starts waiting takes the next event, and a run
// cancelled while it waits is offered none.
func TestWaitRoutedAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, withRouteMaxAge(time.Hour))
	b.saveWorkflow(payWorkflow)
	require.Zero(t, deliveries(b.send("payment.received", `{"order": "o1"}`)), "nothing waits yet")
	require.Equal(t, 1, deliveries(b.send("order.created", `{"id": "o1"}`)))
	b.waitRun("pay", "waiting")
	require.Equal(t, 1, deliveries(b.send("payment.received", `{"order": "o1", "paid": true}`)))
	b.waitRun("pay", "succeeded")
	require.Len(t, b.eventsOf("order.paid"), 1)
	require.Zero(t, deliveries(b.send("payment.received", `{"order": "o1"}`)), "the run no longer waits")

	// A second run, cancelled while it waits.
	require.Equal(t, 1, deliveries(b.send("order.created", `{"id": "o2"}`)))
	var run client.Run
	eventually(t, func() bool {
		page, err := b.client.ListRuns(context.Background(), client.RunListOptions{Workflow: "pay", Status: "waiting"})
		require.NoError(t, err)
		if len(page.Data) == 1 {
			run = page.Data[0]
		}
		return len(page.Data) == 1
	}, "second run not waiting")
	_, err := b.client.CancelRun(context.Background(), run.ID)
	require.NoError(t, err)
	require.Zero(t, deliveries(b.send("payment.received", `{"order": "o2"}`)), "a cancelled run is offered nothing")
}
