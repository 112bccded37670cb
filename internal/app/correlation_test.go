package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// deliveries is how many tasks an event made when it was accepted.
func deliveries(ev *client.Event) int {
	if ev.Deliveries == nil {
		return 0
	}
	return *ev.Deliveries
}

const shipFlow = `name: ship
on: { events: ["order.created"] }
steps:
  - id: charge
    http: { method: POST, url: "%s/charge" }
    retry: { attempts: 100, backoff: fixed, initial: 20ms }
  - id: shipped
    wait_for: { event: shipment.confirmed, key: event.data.order_id, equals: "{{ trigger.data.id }}", buffer: 10m, timeout: 1h }
  - id: done
    emit: { type: order.shipped, data: { order: "{{ event.data.id }}", carrier: "{{ steps.shipped.output.data.carrier }}" } }
`

// TestWorkflowBufferedCorrelation: the shipment is confirmed while the
// payment step is still retrying; the run, once it reaches its wait,
// takes the kept event at once. A shipment for another order is kept for
// that order, not taken.
func TestWorkflowBufferedCorrelation(t *testing.T) {
	drivers(t, func(t *testing.T, b *bundle) {
		var healthy atomic.Bool
		payments := newService(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if !healthy.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusCreated)
		})
		b.saveWorkflow(fmt.Sprintf(shipFlow, payments.URL))
		b.send("order.created", `{"id": "o1"}`)
		eventually(t, func() bool { return payments.count() >= 2 }, "the charge is not being retried")

		other := b.send("shipment.confirmed", `{"order_id": "o2", "carrier": "ups"}`)
		require.Equal(t, 1, deliveries(other), "kept: one buffer task")
		mine := b.send("shipment.confirmed", `{"order_id": "o1", "carrier": "dhl"}`)
		require.Equal(t, 1, deliveries(mine), "no run waits yet: kept")
		d := b.waitStatus(mine.ID, client.DeliverySucceeded)
		require.Equal(t, "buffered", d.AttemptLog[0].Outcome)

		healthy.Store(true)
		run := b.waitRun("ship", "succeeded")
		log := stepLog(run)
		require.Equal(t, "succeeded", log["shipped"]["status"])
		out, _ := log["shipped"]["output"].(map[string]any)
		require.Equal(t, mine.ID, out["id"], "the kept event is the wait's output")
		shipped := b.eventsOf("order.shipped")
		require.Len(t, shipped, 1)
		require.JSONEq(t, `{"order": "o1", "carrier": "dhl"}`, string(shipped[0].Data))

		// Order o2 starts later: it takes the shipment kept for it.
		b.send("order.created", `{"id": "o2"}`)
		eventually(t, func() bool { return len(b.eventsOf("order.shipped")) == 2 }, "o2 did not take its kept shipment")
	})
}

const parcelFlow = `name: parcel
on: { events: ["parcel.created"] }
steps:
  - id: delivered
    wait_for: { event: parcel.delivered, match: "event.data.parcel == trigger.data.id && event.data.ok", buffer: 0s, timeout: 1h }
  - id: done
    emit: { type: parcel.done, data: { parcel: "{{ event.data.id }}" } }
`

// TestWorkflowIndexedWaits: runs wait on distinct keys (derived from
// their match); an event no run waits for makes no task, one for a key
// wakes exactly its run, also after the server was killed while the runs
// waited. An event the match refuses leaves the run waiting.
func TestWorkflowIndexedWaits(t *testing.T) {
	drivers(t, func(t *testing.T, b *bundle) {
		b.saveWorkflow(parcelFlow)
		for i := range 3 {
			b.send("parcel.created", fmt.Sprintf(`{"id": "p%d"}`, i))
		}
		eventually(t, func() bool {
			_, out := b.do("GET", "/v1/runs?workflow=parcel&status=waiting", "")
			return len(out["data"].([]any)) == 3
		}, "runs not waiting")
		b.restart(true)

		require.Equal(t, 0, deliveries(b.send("parcel.delivered", `{"parcel": "nobody", "ok": true}`)), "no run waits for it")
		require.Equal(t, 0, deliveries(b.send("parcel.lost", `{"parcel": "p1"}`)), "an unrelated type")
		refused := b.send("parcel.delivered", `{"parcel": "p1", "ok": false}`)
		require.Equal(t, 1, deliveries(refused), "offered to p1's run only")
		d := b.waitStatus(refused.ID, client.DeliverySucceeded)
		require.Equal(t, "skipped", d.AttemptLog[0].Outcome, "the match refused it")

		ok := b.send("parcel.delivered", `{"parcel": "p1", "ok": true}`)
		require.Equal(t, 1, deliveries(ok))
		eventually(t, func() bool { return len(b.eventsOf("parcel.done")) == 1 }, "p1's run did not wake")
		require.JSONEq(t, `{"parcel": "p1"}`, string(b.eventsOf("parcel.done")[0].Data))
		_, out := b.do("GET", "/v1/runs?workflow=parcel&status=waiting", "")
		require.Len(t, out["data"], 2, "the others still wait")
	})
}

const cancellableFlow = `name: fulfil
on: { events: ["order.created"] }
cancel_on:
  - { event: order.cancelled, key: event.data.order_id, equals: "{{ trigger.data.id }}" }
steps:
  - id: reserve
    http: { method: POST, url: "%s/reserve" }
    retry: { attempts: 100, backoff: fixed, initial: 20ms }
  - id: shipped
    wait_for: { event: shipment.confirmed, key: event.data.order_id, equals: "{{ trigger.data.id }}", timeout: 1h }
`

// TestWorkflowCancelOn: a cancelling event for a run's key cancels it,
// waiting (also after the server was killed while it waited) or running
// (between retries of a step); one for another key makes no task.
func TestWorkflowCancelOn(t *testing.T) {
	drivers(t, func(t *testing.T, b *bundle) {
		inventory := newService(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.Header.Get("X-Order"), "slow") {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		})
		b.saveWorkflow(strings.Replace(fmt.Sprintf(cancellableFlow, inventory.URL), `url: "`+inventory.URL+`/reserve" }`,
			`url: "`+inventory.URL+`/reserve", headers: { X-Order: "{{ event.data.id }}" } }`, 1))
		b.send("order.created", `{"id": "o1"}`)
		waiting := b.waitRun("fulfil", "waiting")
		b.restart(true)

		require.Equal(t, 0, deliveries(b.send("order.cancelled", `{"order_id": "o2"}`)), "no run for o2")
		cancel := b.send("order.cancelled", `{"order_id": "o1"}`)
		require.Equal(t, 1, deliveries(cancel), "one task: o1's run")
		eventually(t, func() bool {
			_, run := b.do("GET", "/v1/runs/"+waiting["id"].(string), "")
			return run["status"] == "cancelled"
		}, "the waiting run was not cancelled")
		_, run := b.do("GET", "/v1/runs/"+waiting["id"].(string), "")
		require.Equal(t, "cancelled by event "+cancel.ID+" (order.cancelled)", run["error"])
		require.Equal(t, 0, deliveries(b.send("order.cancelled", `{"order_id": "o1"}`)), "an ended run listens no more")

		// A run between retries of its first step.
		b.send("order.created", `{"id": "slow-1"}`)
		eventually(t, func() bool { return inventory.count() >= 3 }, "slow-1 is not retrying")
		require.Equal(t, 1, deliveries(b.send("order.cancelled", `{"order_id": "slow-1"}`)))
		eventually(t, func() bool {
			_, out := b.do("GET", "/v1/runs?workflow=fulfil&status=cancelled", "")
			return len(out["data"].([]any)) == 2
		}, "the running run was not cancelled")
		calls := inventory.count()
		_, out := b.do("GET", "/v1/runs?workflow=fulfil&status=running", "")
		require.Empty(t, out["data"], "no run goes on")
		require.LessOrEqual(t, inventory.count(), calls+1, "the retries stop")
	})
}
