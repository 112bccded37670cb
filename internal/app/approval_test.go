package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/config"
)

// refundFlow asks for an approval of each refund, then pays it, says it
// was refused, or that no one decided in time.
const refundFlow = `name: refund
on: {events: [refund.requested]}
steps:
- {id: review, approval: {message: "Refund {{ event.data.amount }} to {{ event.data.customer }}?", timeout: 48h, on_timeout: expired}}
- {id: decide, if: {condition: steps.review.output.approved, then: pay, else: refused}}
- {id: pay, next: end, emit: {type: refund.paid, data: {id: "{{ event.data.id }}", comment: "{{ steps.review.output.comment }}", by: "{{ steps.review.output.decided_by }}"}}}
- {id: refused, next: end, emit: {type: refund.refused, data: {id: "{{ event.data.id }}", comment: "{{ steps.review.output.comment }}", by: "{{ steps.review.output.decided_by }}"}}}
- {id: expired, emit: {type: refund.expired, data: {id: "{{ event.data.id }}"}}}
`

// approvalAsked waits for the workflow.approval_requested event of the
// run started for refund id and returns its data.
func (b *bundle) approvalAsked(id string) map[string]any {
	b.t.Helper()
	var found map[string]any
	eventually(b.t, func() bool {
		for _, ev := range b.eventsOf("workflow.approval_requested") {
			var data map[string]any
			require.NoError(b.t, json.Unmarshal(ev.Data, &data))
			if strings.Contains(data["message"].(string), id) {
				found = data
				return true
			}
		}
		return false
	}, "no approval asked for %s", id)
	return found
}

// form posts an approval link's form without the API key.
func (b *bundle) form(link string, values url.Values) (int, string) {
	b.t.Helper()
	resp, err := http.PostForm(b.url+link, values)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp.StatusCode, string(body)
}

func (b *bundle) page(link string) (int, string) {
	b.t.Helper()
	resp, err := http.Get(b.url + link)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp.StatusCode, string(body)
}

// TestWorkflowApproval: an approval step waits for a person. Approved
// through the API, rejected through its signed link (a GET only shows the
// page; a link decides once; a changed or expired link is refused), and
// timed out on a manual clock; another tenant cannot see the run.
func TestWorkflowApproval(t *testing.T) {
	// Each server has a clock of its own: the two run at once.
	ownClock := func(_ *config.Config, o *app.Options) {
		o.Clock = clock.NewManual(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	}
	drivers(t, func(t *testing.T, b *bundle) {
		clk := b.opts.Clock.(*clock.Manual)
		b.saveWorkflow(refundFlow)

		// Approved through the API.
		b.send("refund.requested", `{"id": "r1", "amount": 40, "customer": "ada-r1"}`)
		asked := b.approvalAsked("ada-r1")
		require.Equal(t, "Refund 40 to ada-r1?", asked["message"])
		require.True(t, strings.HasPrefix(asked["approve_url"].(string), "/approve/ap_"), "no public_url: a path of this server: %v", asked)
		require.Equal(t, asked["approve_url"].(string)+"?decision=reject", asked["reject_url"])
		runID := asked["run_id"].(string)
		run := b.waitRun("refund", "waiting")
		require.Equal(t, runID, run["id"], "the event goes out just before the run is saved waiting")
		require.Equal(t, "review", run["current_step"])
		waiting := stepLog(run)["review"]
		require.Equal(t, "waiting", waiting["status"])
		require.Equal(t, asked["approve_url"], waiting["output"].(map[string]any)["approve_url"], "the run shows its links")

		status, body := b.do("POST", "/v1/tenants", `{"name": "other"}`)
		require.Equal(t, http.StatusCreated, status, "%v", body)
		other := apiBearer(body["api_key"].(map[string]any)["key"].(string))
		status, body = b.do("POST", "/v1/runs/"+runID+"/approve", `{"comment": "theirs"}`, other...)
		require.Equal(t, http.StatusNotFound, status, "%v", body)

		status, body = b.do("POST", "/v1/runs/"+runID+"/approve", `{"comment": "fine by me"}`)
		require.Equal(t, http.StatusOK, status, "%v", body)
		done := b.waitRun("refund", "succeeded")
		require.Equal(t, runID, done["id"])
		review := stepLog(done)["review"]
		require.Equal(t, "succeeded", review["status"])
		out := review["output"].(map[string]any)
		require.Equal(t, true, out["approved"])
		require.Equal(t, "fine by me", out["comment"])
		require.Equal(t, "api", out["decided_by"])
		require.Equal(t, "2026-05-01T09:00:00Z", out["decided_at"])
		paid := b.eventsOf("refund.paid")
		require.Len(t, paid, 1)
		require.JSONEq(t, `{"id": "r1", "comment": "fine by me", "by": "api"}`, string(paid[0].Data))
		status, body = b.do("POST", "/v1/runs/"+runID+"/reject", "")
		require.Equal(t, http.StatusConflict, status, "decided already: %v", body)
		status, body = b.do("POST", "/v1/runs/"+runID+"/approve", `{"comment": "`+strings.Repeat("x", 2001)+`"}`)
		require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)

		// Rejected through the signed link.
		b.send("refund.requested", `{"id": "r2", "amount": 75, "customer": "bob-r2"}`)
		asked = b.approvalAsked("bob-r2")
		link := asked["reject_url"].(string)
		b.waitRun("refund", "waiting")
		status, page := b.page(link)
		require.Equal(t, http.StatusOK, status, page)
		require.Contains(t, page, "Refund 75 to bob-r2?")
		require.Contains(t, page, `<form method="post">`)
		_, run = b.do("GET", "/v1/runs/"+asked["run_id"].(string), "")
		require.Equal(t, "waiting", run["status"], "a GET decides nothing")

		path, _, _ := strings.Cut(link, "?")
		last := "A"
		if strings.HasSuffix(path, last) {
			last = "B"
		}
		tampered := path[:len(path)-1] + last
		status, _ = b.form(tampered, url.Values{"decision": {"approve"}})
		require.Equal(t, http.StatusNotFound, status)
		status, _ = b.page(tampered)
		require.Equal(t, http.StatusNotFound, status)
		status, _ = b.form(path, url.Values{"decision": {"maybe"}})
		require.Equal(t, http.StatusBadRequest, status)

		b.restart(true) // the wait and its link survive a crash
		status, page = b.form(path, url.Values{"decision": {"reject"}, "comment": {"too much"}})
		require.Equal(t, http.StatusOK, status, page)
		require.Contains(t, page, "Rejected")
		status, page = b.form(path, url.Values{"decision": {"approve"}})
		require.Equal(t, http.StatusConflict, status, page)
		require.Contains(t, page, "already decided")
		done = b.waitRun("refund", "succeeded")
		refused := b.eventsOf("refund.refused")
		require.Len(t, refused, 1)
		require.JSONEq(t, `{"id": "r2", "comment": "too much", "by": "link"}`, string(refused[0].Data))
		require.Equal(t, false, stepLog(done)["review"]["output"].(map[string]any)["approved"])

		// No decision: the timeout goes to on_timeout, and the link
		// has expired.
		b.send("refund.requested", `{"id": "r3", "amount": 5, "customer": "cy-r3"}`)
		asked = b.approvalAsked("cy-r3")
		b.waitRun("refund", "waiting")
		b.restart(true)
		clk.Advance(48*time.Hour + time.Minute)
		eventually(t, func() bool { return len(b.eventsOf("refund.expired")) == 1 }, "approval did not time out")
		done = b.waitRun("refund", "succeeded")
		require.Equal(t, "timed_out", stepLog(done)["review"]["status"])
		status, page = b.form(asked["approve_url"].(string), url.Values{"decision": {"approve"}})
		require.Equal(t, http.StatusGone, status, page)
		status, body = b.do("POST", "/v1/runs/"+asked["run_id"].(string)+"/approve", "")
		require.Equal(t, http.StatusConflict, status, "%v", body)
	}, ownClock)
}
