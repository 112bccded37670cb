package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/store"
)

// TestWorkflowBulkRuns: POST /v1/runs/retry and /v1/runs/cancel change
// the tenant's runs a filter selects, up to the limit, and say when more
// match; another tenant's runs are not touched; bad filters are 400s.
func TestWorkflowBulkRuns(t *testing.T) {
	drivers(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		const flows = `name: refuse
on: { events: ["payment.created"] }
steps:
  - id: check
    fail: { message: "refused" }
`
		const waits = `name: await
on: { events: ["order.paid"] }
steps:
  - id: shipped
    wait_for: { event: order.shipped, key: event.data.id, equals: "{{ trigger.data.id }}" }
`
		status, created := b.do("POST", "/v1/tenants", `{"name": "other"}`)
		require.Equal(t, http.StatusCreated, status)
		other := client.New(b.url, created["api_key"].(map[string]any)["key"].(string))
		for _, c := range []*client.Client{b.client, other} {
			_, err := c.SaveWorkflowYAML(ctx, []byte(flows))
			require.NoError(t, err)
			_, err = c.SaveWorkflowYAML(ctx, []byte(waits))
			require.NoError(t, err)
			for _, id := range []string{"p1", "p2", "p3"} {
				_, err := c.SendEvent(ctx, client.EventCreate{Type: "payment.created", Data: []byte(`{"id": "` + id + `"}`)})
				require.NoError(t, err)
				_, err = c.SendEvent(ctx, client.EventCreate{Type: "order.paid", Data: []byte(`{"id": "` + id + `"}`)})
				require.NoError(t, err)
			}
		}
		count := func(c *client.Client, workflow, status string) int {
			page, err := c.ListRuns(ctx, client.RunListOptions{Workflow: workflow, Status: status})
			require.NoError(t, err)
			return len(page.Data)
		}
		for _, c := range []*client.Client{b.client, other} {
			eventually(t, func() bool { return count(c, "refuse", "failed") == 3 && count(c, "await", "waiting") == 3 }, "runs not settled")
		}

		got, err := b.client.RetryRuns(ctx, client.RunFilter{Workflow: "refuse", Limit: 2})
		require.NoError(t, err)
		require.Equal(t, client.RunsChanged{Matched: 2, Changed: 2, More: true}, *got)
		got, err = b.client.RetryRuns(ctx, client.RunFilter{CreatedBefore: &client.Time{}, Workflow: "nothing"})
		require.NoError(t, err)
		require.Equal(t, client.RunsChanged{}, *got, "no run matches")
		eventually(t, func() bool {
			page, err := b.client.ListRuns(ctx, client.RunListOptions{Workflow: "refuse"})
			require.NoError(t, err)
			retried := 0
			for _, r := range page.Data {
				run, err := b.client.GetRun(ctx, r.ID)
				require.NoError(t, err)
				if run.Status == "failed" && len(run.Steps) == 2 {
					retried++
				}
			}
			return retried == 2
		}, "two runs ran their step again")

		got, err = b.client.CancelRuns(ctx, client.RunFilter{Status: "waiting"})
		require.NoError(t, err)
		require.Equal(t, client.RunsChanged{Matched: 3, Changed: 3}, *got)
		require.Zero(t, count(b.client, "await", "waiting"))
		require.Equal(t, 3, count(b.client, "await", "cancelled"))
		require.Equal(t, 3, count(other, "await", "waiting"), "another tenant's runs are not touched")
		require.Equal(t, 3, count(other, "refuse", "failed"))

		for _, tc := range []struct {
			path, body string
			status     int
			msg        string
		}{
			{"/v1/runs/cancel", `{"status": "failed"}`, 422, "status: must be running or waiting"},
			{"/v1/runs/retry", `{"status": "waiting"}`, 422, "status: must be failed"},
			{"/v1/runs/retry", `{"limit": 1001}`, 422, "limit: must be 1 to 1000"},
			{"/v1/runs/cancel", `{"created_after": "2026-02-01T00:00:00Z", "created_before": "2026-01-01T00:00:00Z"}`, 422, "created_before: must be after created_after"},
			{"/v1/runs/cancel", `{"state": "x"}`, 400, "unknown field"},
		} {
			status, out := b.do("POST", tc.path, tc.body)
			require.Equal(t, tc.status, status, tc.body)
			require.Contains(t, out["error"].(map[string]any)["message"], tc.msg)
		}
	})
}

// TestWorkflowRunHistory: GET /v1/runs/{id} shows every attempt of every
// step (the two 503s before the success), when the wait woke and how long
// it lasted, and a step log entry cut to its bound with a note, while the
// next step still sees the whole output.
func TestWorkflowRunHistory(t *testing.T) {
	drivers(t, func(t *testing.T, b *bundle) {
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

// TestRunTasksEndWithTheirSaves: each task of a run has its result written
// with the run's save, so once a run shows succeeded every one of its
// tasks has ended, each with one attempt. A set, if or switch step runs in
// the task of the step before it; each step keeps its own step log entry.
func TestRunTasksEndWithTheirSaves(t *testing.T) {
	b := setup(t)
	b.saveWorkflow(`name: tally
on: { events: ["tally.asked"] }
steps:
  - id: one
    set: { n: "1" }
  - id: two
    set: { n: "vars.n + 1" }
  - id: check
    if: { condition: "vars.n == 2", then: three, else: end }
  - id: three
    set: { n: "vars.n + 1" }
  - id: done
    emit: { type: tally.done, data: { n: "{{ vars.n }}" } }
`)
	ev := b.send("tally.asked", `{}`)
	run := b.waitRun("tally", "succeeded")
	var steps []string
	for _, s := range run["steps"].([]any) {
		steps = append(steps, s.(map[string]any)["step"].(string))
	}
	require.Equal(t, []string{"one", "two", "check", "three", "done"}, steps, "one step log entry per step")
	st, tid := b.app.Store(), tenantID(t, b)
	tasks, err := st.ListTasks(t.Context(), tid, store.TaskQuery{EventID: ev.ID, Kind: "workflow", Oldest: true})
	require.NoError(t, err)
	var outcomes []string
	for _, task := range tasks {
		require.Equal(t, store.StatusSucceeded, task.Status, "task %s of the succeeded run", task.ID)
		attempts, err := st.ListAttempts(t.Context(), tid, task.ID)
		require.NoError(t, err)
		require.Len(t, attempts, 1)
		outcomes = append(outcomes, attempts[0].Outcome)
	}
	// The start; "one" with the three steps after it; the emit.
	require.Equal(t, []string{"started", "step_succeeded", "step_succeeded"}, outcomes)
	done := b.eventsOf("tally.done")
	require.Len(t, done, 1)
	require.JSONEq(t, `{"n": 3}`, string(done[0].Data))
}
