package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/store"
)

// BenchmarkWaitWake measures how fast keyed waits resume: b.N runs wait
// on distinct order ids, then b.N matching events (500 per batch) wake
// them; runs/s counts from the first batch until no run waits. Before the
// clock starts it checks that an unrelated event, and one for an order no
// run waits for, make no task, and that a matching one makes exactly one.
// SQLite, fsync'd. Run with:
//
//	go test ./internal/app -run '^$' -bench WaitWake -benchtime 10000x
func BenchmarkWaitWake(b *testing.B) {
	a, c, _ := benchApp(b, nil)
	ctx := context.Background()
	if _, err := c.SaveWorkflowYAML(ctx, []byte(`name: ship
on: { events: ["order.created"] }
steps:
  - id: shipped
    wait_for: { event: shipment.confirmed, key: event.data.order_id, equals: "{{ trigger.data.id }}", buffer: 0s, timeout: 24h }
`)); err != nil {
		b.Fatal(err)
	}
	n := b.N + 1 // one more run, woken before the clock starts
	sendBatches(b, c, n, "order.created", func(i int) any { return map[string]any{"id": fmt.Sprint("o", i)} })
	st := a.Store()
	ts, err := st.ListTenants(ctx)
	if err != nil {
		b.Fatal(err)
	}
	tenant := ts[0].ID
	// none: the tenant has no run at status and no pending task for dest
	// (any, when empty).
	none := func(status, dest string) bool {
		runs, err := st.ListRuns(ctx, tenant, store.RunQuery{Status: status, Page: store.Page{Limit: 1}})
		if err != nil {
			b.Fatal(err)
		}
		pending, err := st.ListTasks(ctx, tenant, store.TaskQuery{Status: store.StatusPending, DestinationID: dest, Page: store.Page{Limit: 1}})
		if err != nil {
			b.Fatal(err)
		}
		return len(runs) == 0 && (dest == "" || len(pending) == 0)
	}
	// Every run started (no start task left) and waits (none running).
	pollUntil(10*time.Millisecond, func() bool { return none(store.RunRunning, "ship") })
	tasks := func(typ, data string) int {
		ev, err := c.SendEvent(ctx, client.EventCreate{Type: typ, Data: json.RawMessage(data)})
		if err != nil {
			b.Fatal(err)
		}
		return deliveries(ev)
	}
	if got := tasks("invoice.paid", `{"order_id": "o1"}`); got != 0 {
		b.Fatalf("an unrelated event made %d tasks", got)
	}
	if got := tasks("shipment.confirmed", `{"order_id": "nobody"}`); got != 0 {
		b.Fatalf("an event no run waits for made %d tasks", got)
	}
	if got := tasks("shipment.confirmed", fmt.Sprintf(`{"order_id": "o%d"}`, b.N)); got != 1 {
		b.Fatalf("a matching event made %d tasks, want 1", got)
	}
	b.ResetTimer()
	sendBatches(b, c, b.N, "shipment.confirmed", func(i int) any { return map[string]any{"order_id": fmt.Sprint("o", i)} })
	pollUntil(5*time.Millisecond, func() bool { return none(store.RunWaiting, "") })
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "runs/s")
}
