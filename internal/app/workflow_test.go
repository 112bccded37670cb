package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

func (b *bundle) saveWorkflow(yaml string) map[string]any {
	b.t.Helper()
	status, out := b.do("POST", "/v1/workflows", yaml, "Content-Type", "application/yaml")
	require.Contains(b.t, []int{http.StatusCreated, http.StatusOK}, status, "%v", out)
	return out
}

// waitRun waits until the latest run of a workflow that no other run
// started (its branches, iterations and called runs are runs too)
// reaches status and returns it with its step log.
func (b *bundle) waitRun(workflow, status string) map[string]any {
	b.t.Helper()
	var run map[string]any
	eventually(b.t, func() bool {
		_, out := b.do("GET", "/v1/workflows/"+workflow+"/runs?limit=100", "")
		data, _ := out["data"].([]any)
		for _, d := range data {
			if r := d.(map[string]any); r["parent_run_id"] == nil {
				_, run = b.do("GET", "/v1/runs/"+r["id"].(string), "")
				return run["status"] == status
			}
		}
		return false
	}, "run of %s never reached %s (last: %v)", workflow, status, run)
	return run
}

func stepLog(run map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, s := range run["steps"].([]any) {
		st := s.(map[string]any)
		out[st["step"].(string)] = st
	}
	return out
}

func (b *bundle) eventsOf(typ string) []client.Event {
	b.t.Helper()
	page, err := b.client.ListEvents(context.Background(), client.EventListOptions{Type: typ})
	require.NoError(b.t, err)
	return page.Data
}

const orderFlow = `name: order-fulfilment
on: { events: ["order.created"], if: "data.total > 0" }
error_workflow: order-alert
steps:
  - id: reserve
    http: { method: POST, url: "%[1]s/reserve", body: "{{ toJSON(event.data.items) }}" }
    retry: { attempts: 5, backoff: fixed, initial: 1ms }
  - id: charge
    http:
      method: POST
      url: "%[2]s/charges"
      headers: { Idempotency-Key: "{{ run.id }}-charge" }
      body: '{"order": "{{ event.data.id }}", "amount": {{ event.data.total }}}'
    retry: { attempts: 2, initial: 1ms }
    on_error: release
  - id: confirm
    emit:
      type: order.confirmed
      data: { order: "{{ event.data.id }}", reservation: "{{ steps.reserve.output.body.reservation }}", total: "{{ event.data.total }}" }
    next: end
  - id: release
    http: { method: POST, url: "%[1]s/release", body: '{"reservation": "{{ steps.reserve.output.body.reservation }}"}' }
  - id: abort
    fail: { message: "payment failed for order {{ event.data.id }}" }
`

const alertFlow = `name: order-alert
on: { events: ["ops.never"] }
steps:
  - id: alert
    emit: { type: ops.alert, data: { run: "{{ event.data.run_id }}", why: "{{ event.data.error }}" } }
`

func TestWorkflowOrderExample(t *testing.T) {
	b := setup(t)
	// Inventory is flaky: it succeeds on the 3rd try.
	inventory := newService(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/reserve" && n < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"reservation": "res_42"}`)
	})
	var payFails atomic.Bool
	payments := newService(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if payFails.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	b.saveWorkflow(alertFlow)
	out := b.saveWorkflow(fmt.Sprintf(orderFlow, inventory.URL, payments.URL))
	require.Equal(t, 1.0, out["version"])

	b.send("order.created", `{"id": "o1", "total": 0, "items": []}`) // the if: keeps it out
	b.send("order.created", `{"id": "o2", "total": 42.5, "items": [{"sku": "A", "qty": 2}]}`)
	run := b.waitRun("order-fulfilment", "succeeded")
	log := stepLog(run)
	require.Equal(t, 3.0, log["reserve"]["attempts"], "the flaky service succeeded on the 3rd try")
	require.Equal(t, "succeeded", log["charge"]["status"])
	require.NotContains(t, log, "release")
	require.Equal(t, `[{"qty":2,"sku":"A"}]`, inventory.body(0))
	require.Equal(t, run["id"].(string)+"-charge", payments.header(0, "Idempotency-Key"))
	confirmed := b.eventsOf("order.confirmed")
	require.Len(t, confirmed, 1)
	require.JSONEq(t, `{"order": "o2", "reservation": "res_42", "total": 42.5}`, string(confirmed[0].Data))

	_, runs := b.do("GET", "/v1/workflows/order-fulfilment/runs", "")
	require.Len(t, runs["data"], 1, "total 0 started no run")

	t.Run("failing service takes the on_error path", func(t *testing.T) {
		payFails.Store(true)
		before := inventory.count()
		b.send("order.created", `{"id": "o3", "total": 10, "items": []}`)
		run := b.waitRun("order-fulfilment", "failed")
		log := stepLog(run)
		require.Equal(t, "failed", log["charge"]["status"])
		require.Equal(t, 2.0, log["charge"]["attempts"])
		require.Equal(t, "succeeded", log["release"]["status"], "the error path ran")
		require.Contains(t, run["error"], "payment failed for order o3")
		require.Equal(t, before+2, inventory.count(), "reserve then release")
		// The error workflow starts with the failed run as its event.
		eventually(t, func() bool { return len(b.eventsOf("ops.alert")) == 1 }, "error workflow did not run")
		require.Contains(t, string(b.eventsOf("ops.alert")[0].Data), run["id"].(string))
	})

	t.Run("a new version applies to new runs", func(t *testing.T) {
		out := b.saveWorkflow(strings.Replace(fmt.Sprintf(orderFlow, inventory.URL, payments.URL), "attempts: 5", "attempts: 6", 1))
		require.Equal(t, 2.0, out["version"])
		require.Equal(t, "updated", out["action"])
		out = b.saveWorkflow(strings.Replace(fmt.Sprintf(orderFlow, inventory.URL, payments.URL), "attempts: 5", "attempts: 6", 1))
		require.Equal(t, "unchanged", out["action"])
	})
}

func TestWorkflowRetryAndCancel(t *testing.T) {
	b := setup(t)
	var healthy atomic.Bool
	svc := newService(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		io.WriteString(w, "ok")
	})
	b.saveWorkflow(fmt.Sprintf(`name: ping
on: { events: ["ping"] }
steps:
  - id: call
    http: { url: "%s/ping" }
  - id: done
    set: { ok: "true" }
`, svc.URL))
	b.send("ping", `{}`)
	run := b.waitRun("ping", "failed")
	require.Equal(t, "call", run["current_step"])
	healthy.Store(true)
	status, out := b.do("POST", "/v1/runs/"+run["id"].(string)+"/retry", "")
	require.Equal(t, http.StatusAccepted, status, "%v", out)
	run = b.waitRun("ping", "succeeded")
	require.Len(t, run["steps"], 3, "the failed attempt, its retry, and the next step")
	status, _ = b.do("POST", "/v1/runs/"+run["id"].(string)+"/retry", "")
	require.Equal(t, http.StatusConflict, status)
	status, _ = b.do("POST", "/v1/runs/"+run["id"].(string)+"/cancel", "")
	require.Equal(t, http.StatusConflict, status)
}

// TestWorkflowCrashMidStep: the engine dies while a step's request is in
// flight; after restart the run resumes at that step (its request sent
// again with the same idempotency key) and completes, later steps once.
func TestWorkflowCrashMidStep(t *testing.T) {
	b := setup(t)
	release := make(chan struct{})
	var first atomic.Bool
	first.Store(true)
	charge := newService(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if first.Swap(false) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	after := newService(t, nil)
	b.saveWorkflow(fmt.Sprintf(`name: pay
on: { events: ["order.created"] }
steps:
  - id: charge
    http: { method: POST, url: "%s/charge", headers: { Idempotency-Key: "{{ run.id }}-charge" } }
    timeout: 30s
  - id: notify
    http: { method: POST, url: "%s/notify", body: '{"run": "{{ run.id }}"}' }
`, charge.URL, after.URL))
	b.send("order.created", `{"id": "o1"}`)
	eventually(t, func() bool { return charge.count() == 1 }, "charge never called")
	b.restart(true) // crash with the charge in flight
	close(release)
	run := b.waitRun("pay", "succeeded")
	require.Equal(t, 2, charge.count(), "the interrupted step ran again")
	require.Equal(t, charge.header(0, "Idempotency-Key"), charge.header(1, "Idempotency-Key"))
	require.Equal(t, run["id"].(string)+"-charge", charge.header(1, "Idempotency-Key"))
	require.Equal(t, 1, after.count(), "later steps run once")
}

// TestWorkflowDelayAndWait: a delay and a wait_for survive restarts with
// an injected clock; the wait takes the matching event, or times out.
func TestWorkflowDelayAndWait(t *testing.T) {
	b, clk := setupAt(t, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	b.saveWorkflow(`name: pay-later
on: { events: ["order.created"] }
steps:
  - id: pause
    delay: { for: 1h }
  - id: paid
    wait_for: { event: payment.received, match: "event.data.order == trigger.data.id", timeout: 2h, on_timeout: expired }
  - id: done
    emit: { type: order.paid, data: { order: "{{ event.data.id }}", amount: "{{ steps.paid.output.data.amount }}" } }
    next: end
  - id: expired
    emit: { type: order.expired, data: { order: "{{ event.data.id }}" } }
`)
	b.send("order.created", `{"id": "o1"}`)
	run := b.waitRun("pay-later", "waiting")
	require.Equal(t, "pause", run["current_step"])
	b.restart(true)
	clk.Advance(59 * time.Minute)
	require.Equal(t, "pause", b.waitRun("pay-later", "waiting")["current_step"], "not before the hour")
	clk.Advance(2 * time.Minute)
	eventually(t, func() bool { return b.waitRun("pay-later", "waiting")["current_step"] == "paid" }, "delay did not end")
	b.restart(false)
	other := b.send("payment.received", `{"order": "other", "amount": 1}`)
	d := b.waitStatus(other.ID, client.DeliverySucceeded)
	require.Equal(t, "buffered", d.AttemptLog[0].Outcome, "the match is keyed: the event is kept for its order, not offered to the run")
	require.Equal(t, "paid", b.waitRun("pay-later", "waiting")["current_step"], "an event for another order is ignored")
	b.send("payment.received", `{"order": "o1", "amount": 99}`)
	done := b.waitRun("pay-later", "succeeded")
	_, runLog := b.do("GET", "/v1/runs/"+done["id"].(string), "")
	pause := runLog["steps"].([]any)[0].(map[string]any)
	require.Equal(t, "pause", pause["step"])
	require.Equal(t, "2026-03-01T12:00:00.000Z", pause["started_at"], "a wait's entry starts when the wait began")
	require.InDelta(t, float64(61*time.Minute/time.Millisecond), pause["duration_ms"], 1000, "and lasts as long as it did")
	paid := b.eventsOf("order.paid")
	require.Len(t, paid, 1)
	require.JSONEq(t, `{"order": "o1", "amount": 99}`, string(paid[0].Data))

	t.Run("timeout", func(t *testing.T) {
		b.send("order.created", `{"id": "o2"}`)
		eventually(t, func() bool {
			_, out := b.do("GET", "/v1/runs?workflow=pay-later&status=waiting", "")
			return len(out["data"].([]any)) == 1
		}, "second run not waiting")
		clk.Advance(61 * time.Minute)
		eventually(t, func() bool {
			_, out := b.do("GET", "/v1/runs?workflow=pay-later&status=waiting", "")
			data := out["data"].([]any)
			return len(data) == 1 && data[0].(map[string]any)["current_step"] == "paid"
		}, "second run's delay did not end")
		b.restart(true)
		clk.Advance(2*time.Hour + time.Minute)
		eventually(t, func() bool { return len(b.eventsOf("order.expired")) == 1 }, "wait did not time out")
		require.JSONEq(t, `{"order": "o2"}`, string(b.eventsOf("order.expired")[0].Data))
	})
}

func TestWorkflowValidationAPI(t *testing.T) {
	b := setup(t)
	status, out := b.do("POST", "/v1/workflows", "name: bad\non: { events: [x.y] }\nsteps:\n  - id: a\n    http: { url: \"ftp://x\" }\n  - id: b\n    set: { v: \"1 +\" }\n", "Content-Type", "application/yaml")
	require.Equal(t, http.StatusUnprocessableEntity, status)
	e := out["error"].(map[string]any)
	require.Equal(t, 5.0, e["details"].(map[string]any)["line"])
	require.Len(t, e["details"].(map[string]any)["errors"], 2)
	body, _ := json.Marshal(map[string]any{"name": "x", "on": map[string]any{"events": []string{"a.b"}}, "steps": []any{map[string]any{"id": "s"}}})
	status, out = b.do("POST", "/v1/workflows", string(body))
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
	require.Contains(t, out["error"].(map[string]any)["message"], "has no kind")
}
