package app_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestWorkflowRunHistory: GET /v1/runs/{id} shows every attempt of every
// step (the two 503s before the success), when the wait woke and how long
// it lasted, and a step log entry cut to its bound with a note, while the
// next step still sees the whole output.
func TestWorkflowRunHistory(t *testing.T) {
	drivers(t, func(t *testing.T, opts ...setupOpt) {
		b := setup(t, opts...)
		big := strings.Repeat("x", 80<<10)
		pay := newService(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n < 3 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"receipt": %q}`, big)
		})
		b.saveWorkflow(fmt.Sprintf(`name: history
on: { events: ["order.created"] }
steps:
  - id: pay
    http: { method: POST, url: "%s/pay" }
    retry: { attempts: 3, backoff: fixed, initial: 1ms }
  - id: shipped
    wait_for: { event: shipment.confirmed, key: event.data.order_id, equals: "{{ trigger.data.id }}" }
  - id: done
    emit: { type: order.done, data: { receipt_len: "{{ len(steps.pay.output.body.receipt) }}" } }
`, pay.URL))
		b.send("order.created", `{"id": "o1"}`)
		waiting := b.waitRun("history", "waiting")
		require.Equal(t, "shipped", waiting["current_step"])
		b.send("shipment.confirmed", `{"order_id": "o1"}`)
		run := b.waitRun("history", "succeeded")

		var pays []map[string]any
		for _, a := range run["attempts"].([]any) {
			if at := a.(map[string]any); at["step"] == "pay" {
				pays = append(pays, at)
			}
		}
		require.Len(t, pays, 3, "every attempt is kept")
		for i, want := range []string{"retrying", "retrying", "succeeded"} {
			require.Equal(t, float64(i+1), pays[i]["attempts"], "the attempt's number")
			require.Equal(t, want, pays[i]["status"])
		}
		require.Contains(t, pays[0]["error"], "503")
		require.Equal(t, 503.0, pays[0]["output"].(map[string]any)["status"])

		log := stepLog(run)
		out := log["pay"]["output"].(map[string]any)
		require.Equal(t, true, out["truncated"], "the logged output is cut")
		require.Greater(t, out["bytes"], float64(80<<10))
		require.LessOrEqual(t, len(out["preview"].(string)), 4<<10+len("…"))
		done := b.eventsOf("order.done")
		require.Len(t, done, 1)
		require.JSONEq(t, fmt.Sprintf(`{"receipt_len": %d}`, len(big)), string(done[0].Data), "later steps see all of it")

		shipped := log["shipped"]
		require.Equal(t, "succeeded", shipped["status"])
		started, err := time.Parse(time.RFC3339Nano, shipped["started_at"].(string))
		require.NoError(t, err)
		woke, err := time.Parse(time.RFC3339Nano, shipped["woke_at"].(string))
		require.NoError(t, err)
		require.InDelta(t, shipped["duration_ms"], float64(woke.Sub(started).Milliseconds()), 1, "woke when the wait ended")
		require.NotContains(t, log["pay"], "woke_at", "only waits wake")
	})
}
