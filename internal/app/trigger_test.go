package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/testkit"
)

// withScheduleInterval has the scheduler look for due schedules every d.
func withScheduleInterval(d time.Duration) setupOpt {
	return func(_ *config.Config, o *app.Options) { o.ScheduleInterval = d }
}

// onStores runs f on SQLite and, when HOOKLINE_TEST_POSTGRES is set, on
// PostgreSQL, each in a parallel subtest; db gives a server a database of
// its own.
func onStores(t *testing.T, f func(t *testing.T, db func(*testing.T) setupOpt)) {
	bothStores(t, func(t *testing.T) setupOpt { return withDatabase(testkit.PostgresSchema(t)) }, f)
}

// scheduledTimes lists the scheduled_at of a workflow's runs' events,
// oldest first.
func (b *bundle) scheduledTimes(name string) []string {
	b.t.Helper()
	var out []string
	for _, ev := range b.eventsOf("workflow.scheduled") {
		var d struct {
			Workflow    string `json:"workflow"`
			ScheduledAt string `json:"scheduled_at"`
		}
		require.NoError(b.t, json.Unmarshal(ev.Data, &d))
		if d.Workflow == name {
			out = append(out, d.ScheduledAt)
		}
	}
	slices.Sort(out)
	return out
}

// nextAt is when the first schedule of a workflow is due next, as
// GET /v1/workflows/{name} shows it.
func (b *bundle) nextAt(name string) string {
	b.t.Helper()
	status, out := b.do("GET", "/v1/workflows/"+name, "")
	require.Equal(b.t, http.StatusOK, status, "%v", out)
	scheds, _ := out["schedules"].([]any)
	if len(scheds) == 0 {
		return ""
	}
	next, _ := scheds[0].(map[string]any)["next_at"].(string)
	return next
}

// runsOf counts a workflow's runs of a status.
func (b *bundle) runsOf(name, status string) int {
	b.t.Helper()
	_, out := b.do("GET", "/v1/workflows/"+name+"/runs?status="+status, "")
	data, _ := out["data"].([]any)
	return len(data)
}

const digestFlow = `name: daily-digest
on:
  schedule: { cron: "0 9 * * MON-FRI", timezone: Europe/Berlin }
steps:
  - id: send
    emit: { type: digest.sent, data: { for: "{{ event.data.scheduled_at }}" } }
`

// TestWorkflowSchedule runs a weekday 9:00 Berlin schedule on a test
// clock: the run's event carries the scheduled time, weekends start
// none, disabling stops it and enabling plans it from then.
func TestWorkflowSchedule(t *testing.T) {
	onStores(t, func(t *testing.T, db func(*testing.T) setupOpt) {
		// Friday 2026-12-04, 07:59 UTC: 08:59 in Berlin (UTC+1 in winter).
		b, clk := setupAt(t, time.Date(2026, 12, 4, 7, 59, 0, 0, time.UTC), withScheduleInterval(20*time.Millisecond), db(t))
		b.saveWorkflow(digestFlow)
		require.Equal(t, "2026-12-04T08:00:00.000Z", b.nextAt("daily-digest"))

		clk.Advance(time.Minute)
		b.waitRun("daily-digest", "succeeded")
		sent := b.eventsOf("digest.sent")
		require.Len(t, sent, 1)
		require.JSONEq(t, `{"for": "2026-12-04T08:00:00Z"}`, string(sent[0].Data))
		evs := b.eventsOf("workflow.scheduled")
		require.Len(t, evs, 1)
		require.Equal(t, "2026-12-04T08:00:00Z", evs[0].OccurredAt.UTC().Format(time.RFC3339), "occurred_at is the scheduled time")
		eventually(t, func() bool { return b.nextAt("daily-digest") == "2026-12-07T08:00:00.000Z" }, "Monday is next: the weekend is skipped")

		// Disabled over Monday: no run, and enabling plans from now on.
		status, out := b.do("PATCH", "/v1/workflows/daily-digest", `{"enabled": false}`)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Empty(t, b.nextAt("daily-digest"))
		clk.Set(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
		status, _ = b.do("PATCH", "/v1/workflows/daily-digest", `{"enabled": true}`)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "2026-12-08T08:00:00.000Z", b.nextAt("daily-digest"), "Monday's time passed while disabled: not run")
		require.Len(t, b.scheduledTimes("daily-digest"), 1)

		// A changed schedule is planned afresh.
		b.saveWorkflow(`name: daily-digest
on:
  schedule:
    - { cron: "30 17 * * *", timezone: America/New_York }
    - { every: 6h }
steps:
  - id: send
    emit: { type: digest.sent, data: { for: "{{ event.data.scheduled_at }}" } }
`)
		require.Equal(t, "2026-12-07T22:30:00.000Z", b.nextAt("daily-digest"))
	})
}

// TestWorkflowScheduleMissed stops the server over five hourly times and
// starts it again: each missed policy starts the runs it promises, once.
func TestWorkflowScheduleMissed(t *testing.T) {
	onStores(t, func(t *testing.T, db func(*testing.T) setupOpt) {
		for _, tc := range []struct {
			name, missed string
			want         []string
		}{
			{"skip", "skip", nil},
			{"run_once", "run_once", []string{"2026-12-07T15:00:00Z"}},
			{"run_all", "run_all\n    catch_up: 3", []string{"2026-12-07T13:00:00Z", "2026-12-07T14:00:00Z", "2026-12-07T15:00:00Z"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b, clk := setupAt(t, time.Date(2026, 12, 7, 10, 30, 0, 0, time.UTC), withScheduleInterval(20*time.Millisecond), db(t))
				b.saveWorkflow(fmt.Sprintf(`name: hourly
on:
  schedule:
    cron: "0 * * * *"
    missed: %s
steps:
  - id: note
    set: { at: "event.data.scheduled_at" }
`, tc.missed))
				require.Equal(t, "2026-12-07T11:00:00.000Z", b.nextAt("hourly"))
				b.stop()
				clk.Set(time.Date(2026, 12, 7, 15, 30, 0, 0, time.UTC)) // 11:00 to 15:00 missed
				b.start()
				eventually(t, func() bool { return b.nextAt("hourly") == "2026-12-07T16:00:00.000Z" }, "the schedule moved on")
				eventually(t, func() bool { return b.runsOf("hourly", "succeeded") == len(tc.want) }, "runs")
				require.Equal(t, tc.want, b.scheduledTimes("hourly"))

				// The next time, on time, runs whatever the policy.
				clk.Set(time.Date(2026, 12, 7, 16, 0, 20, 0, time.UTC))
				eventually(t, func() bool { return b.runsOf("hourly", "succeeded") == len(tc.want)+1 }, "the on-time run")
				require.Equal(t, append(tc.want, "2026-12-07T16:00:00Z"), b.scheduledTimes("hourly"))
			})
		}
	})
}

// TestWorkflowScheduleTwoNodes runs two nodes on one PostgreSQL database
// and one test clock, both looking for due schedules every few
// milliseconds: each scheduled time starts exactly one run.
func TestWorkflowScheduleTwoNodes(t *testing.T) {
	t.Parallel()
	dsn := testkit.PostgresSchema(t)
	ctx := context.Background()
	clk := clock.NewManual(time.Date(2026, 12, 7, 9, 0, 30, 0, time.UTC))
	fast := withScheduleInterval(5 * time.Millisecond)
	nodes := []*node{startNode(t, dsn, "node-a", withClock(clk), fast), startNode(t, dsn, "node-b", withClock(clk), fast)}
	c := client.New(nodes[0].url, clusterKey)
	_, err := c.SaveWorkflowYAML(ctx, []byte(`name: minutely
on: { schedule: { cron: "* * * * *", missed: run_all } }
steps:
  - id: note
    set: { at: "event.data.scheduled_at" }
`))
	require.NoError(t, err)
	const minutes = 30
	for range minutes {
		clk.Advance(time.Minute)
		eventually(t, func() bool {
			due, err := nodes[1].app.Store().DueSchedules(ctx, clk.Now(), 1)
			return err == nil && len(due) == 0
		}, "the schedule moved on")
	}
	var runs *client.Page[client.Run]
	eventually(t, func() bool {
		runs, err = c.ListRuns(ctx, client.RunListOptions{Workflow: "minutely", Status: "succeeded", ListOptions: client.ListOptions{Limit: 100}})
		return err == nil && len(runs.Data) >= minutes
	}, "every scheduled run ran")
	require.Len(t, runs.Data, minutes, "no scheduled time ran twice")
	page, err := c.ListEvents(ctx, client.EventListOptions{Type: "workflow.scheduled", ListOptions: client.ListOptions{Limit: 100}})
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, ev := range page.Data {
		var d struct {
			ScheduledAt string `json:"scheduled_at"`
		}
		require.NoError(t, json.Unmarshal(ev.Data, &d))
		require.False(t, seen[d.ScheduledAt], "%s published twice", d.ScheduledAt)
		seen[d.ScheduledAt] = true
	}
	require.Len(t, seen, minutes)
}

// TestWorkflowManualRun starts runs through the API: a workflow with no
// events (on: {manual: true}) takes its input as event.data, a repeated
// idempotency key answers the first run, and bad input or a disabled
// workflow is refused before anything is written.
func TestWorkflowManualRun(t *testing.T) {
	onStores(t, func(t *testing.T, db func(*testing.T) setupOpt) {
		b := setup(t, db(t))
		b.saveWorkflow(`name: refund
on: { manual: true }
steps:
  - id: note
    set: { amount: "event.data.amount * 100", by: "event.source" }
`)
		status, out := b.do("POST", "/v1/workflows/refund/runs", `{"input": {"order": "o-1", "amount": 12.5}}`, "Idempotency-Key", "refund-o-1")
		require.Equal(t, http.StatusCreated, status, "%v", out)
		require.Equal(t, "running", out["status"])
		require.Equal(t, "note", out["current_step"])
		id := out["id"].(string)
		run := b.waitRun("refund", "succeeded")
		require.Equal(t, id, run["id"])
		require.Equal(t, map[string]any{"amount": 1250.0, "by": "manual"}, run["vars"])
		ev := b.eventsOf("workflow.manual")
		require.Len(t, ev, 1)
		require.JSONEq(t, `{"order": "o-1", "amount": 12.5}`, string(ev[0].Data))
		require.Equal(t, run["event_id"], ev[0].ID)

		status, out = b.do("POST", "/v1/workflows/refund/runs", `{"input": {"order": "o-1", "amount": 12.5}, "idempotency_key": "refund-o-1"}`)
		require.Equal(t, http.StatusOK, status, "%v", out)
		require.Equal(t, id, out["id"], "the key answers the run it started")
		status, out = b.do("POST", "/v1/workflows/refund/runs", "")
		require.Equal(t, http.StatusCreated, status, "no body: input {} (%v)", out)
		require.NotEqual(t, id, out["id"])

		for _, tc := range []struct {
			path, body string
			status     int
			msg        string
		}{
			{"refund", `{"input": [1, 2]}`, http.StatusUnprocessableEntity, "input: must be a JSON object"},
			{"refund", `{"input": {"a": 1}, "extra": true}`, http.StatusBadRequest, "unknown field"},
			{"refund", `{"input": {"a": 1}, "idempotency_key": "x"}`, http.StatusUnprocessableEntity, "differs from the Idempotency-Key header"},
			{"nope", `{}`, http.StatusNotFound, "nope"},
		} {
			headers := []string{}
			if strings.Contains(tc.body, "idempotency_key") {
				headers = []string{"Idempotency-Key", "y"}
			}
			status, out := b.do("POST", "/v1/workflows/"+tc.path+"/runs", tc.body, headers...)
			require.Equal(t, tc.status, status, "%s: %v", tc.body, out)
			require.Contains(t, fmt.Sprint(out["error"]), tc.msg)
		}
		// Another tenant cannot start it.
		status, out = b.do("POST", "/v1/tenants", `{"name": "other"}`)
		require.Equal(t, http.StatusCreated, status, "%v", out)
		otherKey := out["api_key"].(map[string]any)["key"].(string)
		status, out = b.do("POST", "/v1/workflows/refund/runs", `{}`, apiBearer(otherKey)...)
		require.Equal(t, http.StatusNotFound, status, "%v", out)

		status, _ = b.do("PATCH", "/v1/workflows/refund", `{"enabled": false}`)
		require.Equal(t, http.StatusOK, status)
		status, out = b.do("POST", "/v1/workflows/refund/runs", `{"input": {}}`)
		require.Equal(t, http.StatusConflict, status, "%v", out)
		require.Len(t, b.eventsOf("workflow.manual"), 2, "refused requests wrote no event")
		require.Equal(t, 2, b.runsOf("refund", ""), "nor a run")
	})
}

// TestWorkflowConcurrency runs a workflow limited to one run at a time per
// customer against a service that holds each call until the test lets it
// go: a customer never has two calls in flight, another customer's run
// goes on meanwhile, and the runs beyond the limit are queued, then run.
func TestWorkflowConcurrency(t *testing.T) {
	onStores(t, func(t *testing.T, db func(*testing.T) setupOpt) {
		var mu sync.Mutex
		inFlight, most := map[string]int{}, map[string]int{}
		release := make(chan struct{})
		svc := newService(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			cus := r.URL.Query().Get("customer")
			mu.Lock()
			inFlight[cus]++
			most[cus] = max(most[cus], inFlight[cus])
			mu.Unlock()
			select {
			case <-release:
			case <-r.Context().Done():
			}
			mu.Lock()
			inFlight[cus]--
			mu.Unlock()
		})
		flying := func(cus string) int {
			mu.Lock()
			defer mu.Unlock()
			return inFlight[cus]
		}
		b := setup(t, db(t))
		b.saveWorkflow(fmt.Sprintf(`name: sync-customer
on: { events: ["customer.updated"] }
concurrency: { key: "event.data.customer", limit: 1 }
steps:
  - id: push
    http: { url: "%s/push?customer={{ event.data.customer }}" }
`, svc.URL))
		for _, cus := range []string{"cus_1", "cus_1", "cus_1", "cus_2"} {
			b.send("customer.updated", `{"customer": "`+cus+`"}`)
		}
		eventually(t, func() bool {
			return flying("cus_1") == 1 && flying("cus_2") == 1 && b.runsOf("sync-customer", "queued") == 2
		}, "one run per customer goes on, the other two of cus_1 are queued")
		for done := 1; done <= 4; done++ {
			release <- struct{}{}
			eventually(t, func() bool { return b.runsOf("sync-customer", "succeeded") == done }, "%d runs done", done)
		}
		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, map[string]int{"cus_1": 1, "cus_2": 1}, most, "never two calls of one customer at once")
		require.Equal(t, 4, svc.count())
	})
}

// TestWorkflowThrottle starts five runs at once of a workflow throttled to
// two a minute: two start, three wait, and each minute two more start.
func TestWorkflowThrottle(t *testing.T) {
	onStores(t, func(t *testing.T, db func(*testing.T) setupOpt) {
		b, clk := setupAt(t, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC), db(t))
		b.saveWorkflow(`name: report
on: { events: ["report.requested"] }
throttle: { limit: 2, period: 1m }
steps:
  - id: note
    set: { at: "now()" }
`)
		for range 5 {
			b.send("report.requested", `{}`)
		}
		eventually(t, func() bool {
			return b.runsOf("report", "succeeded") == 2 && b.runsOf("report", "queued") == 3
		}, "two start, three are delayed, none dropped")
		clk.Advance(time.Minute)
		eventually(t, func() bool {
			return b.runsOf("report", "succeeded") == 4 && b.runsOf("report", "queued") == 1
		}, "a minute later two more")
		clk.Advance(time.Minute)
		eventually(t, func() bool { return b.runsOf("report", "succeeded") == 5 }, "then the last")
	})
}

// TestWorkflowDebounce sends bursts of events per customer to a workflow
// debounced by 30 s: each customer's run starts 30 s after its last
// event, for that event only.
func TestWorkflowDebounce(t *testing.T) {
	onStores(t, func(t *testing.T, db func(*testing.T) setupOpt) {
		b, clk := setupAt(t, time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC), db(t))
		b.saveWorkflow(`name: reindex
on: { events: ["doc.changed"] }
debounce: { key: "event.data.customer", period: 30s }
steps:
  - id: note
    set: { rev: "event.data.rev" }
`)
		b.send("doc.changed", `{"customer": "cus_1", "rev": 1}`)
		b.send("doc.changed", `{"customer": "cus_1", "rev": 2}`)
		b.send("doc.changed", `{"customer": "cus_2", "rev": 1}`)
		// Each event is recorded (a debounced attempt) before time moves.
		eventually(t, func() bool { return b.debouncedAttempts() == 3 }, "three events recorded")
		clk.Advance(10 * time.Second)
		b.send("doc.changed", `{"customer": "cus_1", "rev": 3}`)
		eventually(t, func() bool { return b.debouncedAttempts() == 4 }, "the fourth recorded")

		clk.Advance(25 * time.Second) // cus_2's 30 s passed; cus_1's last came 25 s ago
		eventually(t, func() bool { return b.runsOf("reindex", "succeeded") == 1 }, "cus_2's run")
		clk.Advance(10 * time.Second)
		eventually(t, func() bool { return b.runsOf("reindex", "succeeded") == 2 }, "cus_1's run, for its last event")
		_, out := b.do("GET", "/v1/workflows/reindex/runs", "")
		var revs []string
		for _, r := range out["data"].([]any) {
			revs = append(revs, fmt.Sprint(r.(map[string]any)["vars"].(map[string]any)["rev"]))
		}
		slices.Sort(revs)
		require.Equal(t, []string{"1", "3"}, revs, "cus_2 rev 1 and cus_1 rev 3 only")
	})
}

// debouncedAttempts counts the events recorded for a debounced key: each
// adds the task that checks it when its period ends.
func (b *bundle) debouncedAttempts() int {
	b.t.Helper()
	_, out := b.do("GET", "/v1/deliveries?endpoint_id="+url.QueryEscape("reindex#debounce")+"&limit=100", "")
	data, _ := out["data"].([]any)
	return len(data)
}
