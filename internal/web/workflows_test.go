package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// flaky is an httptest server that answers 503 to its first request and
// 200 with a JSON body afterwards.
func flaky(t *testing.T) *httptest.Server {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error": "try later"}`))
			return
		}
		_, _ = w.Write([]byte(`{"charge": "ch_1"}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// chargeWorkflow calls url once per order, retried 100 ms after a failure.
func chargeWorkflow(url string) string {
	return `name: charge
description: Charge each order
on:
  events: ["order.created"]
steps:
  - id: charge
    http:
      url: ` + url + `/charges
      body: '{"order": {{ toJSON(event.data.id) }}}'
    retry: {attempts: 3, initial: 100ms, max: 100ms}
  - id: remember
    set:
      charge: steps.charge.output.body.charge
`
}

// waitWorkflow waits an hour for a payment.
const waitWorkflow = `name: wait-payment
on:
  events: ["order.created"]
steps:
  - id: paid
    wait_for: {event: payment.received, timeout: 1h}
`

// saveWorkflows saves each YAML document through the API.
func saveWorkflows(t *testing.T, b *bundle, docs ...string) {
	t.Helper()
	for _, doc := range docs {
		_, err := b.api.SaveWorkflowYAML(context.Background(), []byte(doc))
		require.NoError(t, err)
	}
}

// runOf waits until the newest run of workflow has status and returns it.
func runOf(t *testing.T, b *bundle, workflow, status string) client.Run {
	t.Helper()
	var run client.Run
	eventually(t, func() bool {
		page, err := b.api.ListRuns(context.Background(), client.RunListOptions{Workflow: workflow})
		if err != nil || len(page.Data) == 0 {
			return false
		}
		run = page.Data[0]
		return run.Status == status
	}, "run of "+workflow+" is "+status)
	return run
}

func TestWorkflowPages(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	saveWorkflows(t, b, chargeWorkflow(flaky(t).URL), waitWorkflow,
		"name: pause\non: {events: [order.created]}\nsteps:\n  - id: nap\n    delay: {for: 300ms}\n",
		"name: doomed\non: {events: [order.created]}\nsteps:\n  - id: boom\n    fail: {message: \"out of stock\"}\n")
	c := browser(t)

	b.signIn(c, b.key)
	_, page := b.get(c, "/workflows")
	require.Contains(t, page, `href="/workflows/charge"`)
	require.Contains(t, page, "Charge each order")
	require.Contains(t, page, "order.created")
	require.Contains(t, page, "no runs yet")

	b.send("order.created", `{"id": "o-1"}`)
	run := runOf(t, b, "charge", "succeeded")
	waiting := runOf(t, b, "wait-payment", "waiting")
	napped := runOf(t, b, "pause", "succeeded")
	doomed := runOf(t, b, "doomed", "failed")

	_, page = b.get(c, "/workflows")
	require.Regexp(t, `1 <span class="badge b-ok">succeeded</span>`, page, "recent runs by status")
	require.Regexp(t, `1 <span class="badge b-warn">waiting</span>`, page)

	// The timeline: both attempts of the charge, then the set step.
	resp, page := b.get(c, "/runs/"+run.ID)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	first := section(t, page, "step-1-attempt-1")
	require.Contains(t, first, "retrying")
	require.Contains(t, first, "answered 503 Service Unavailable")
	require.Contains(t, first, `<span class="j-key">&#34;error&#34;</span><span class="j-p">: </span><span class="j-str">&#34;try later&#34;</span>`, "the output, formatted")
	second := section(t, page, "step-1-attempt-2")
	require.Contains(t, second, "succeeded")
	require.Contains(t, second, `<span class="j-key">&#34;charge&#34;</span><span class="j-p">: </span><span class="j-str">&#34;ch_1&#34;</span>`)
	require.Contains(t, section(t, page, "step-2"), "remember")
	require.NotContains(t, page, `id="cancel"`, "an ended run cannot be cancelled")
	require.NotContains(t, page, `id="retry"`, "nor retried: it did not fail")

	// A delay that ended shows how long it waited (at least its 300 ms,
	// more on a loaded machine) and when it woke.
	_, page = b.get(c, "/runs/"+napped.ID)
	require.Regexp(t, `Waited ([3-9]\d\d ms|[\d.]+ s) from [-\d: .]+ UTC; woke <time`, page)

	// A waiting run shows what it waits for, and can be cancelled.
	_, page = b.get(c, "/runs/"+waiting.ID)
	require.Contains(t, page, "payment.received")
	require.Contains(t, page, `hx-trigger="every 10s"`, "a live run refreshes itself")
	require.Contains(t, page, `id="cancel"`)
	resp, _ = b.post(c, "/runs/"+waiting.ID+"/cancel", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/runs/"+waiting.ID+"?done=run_cancelled", resp.Header.Get("Location"))
	got, err := b.api.GetRun(ctx, waiting.ID)
	require.NoError(t, err)
	require.Equal(t, "cancelled", got.Status)
	resp, page = b.post(c, "/runs/"+waiting.ID+"/cancel", nil)
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Contains(t, page, "already ended (cancelled)")
	resp, page = b.post(c, "/runs/"+run.ID+"/retry", nil)
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Contains(t, page, "only failed runs can be retried")

	// A failed run is retried from the step it failed at.
	_, page = b.get(c, "/runs/"+doomed.ID)
	require.Contains(t, page, `<button type="submit" id="retry">Retry from boom</button>`)
	require.Contains(t, page, "out of stock")
	resp, _ = b.post(c, "/runs/"+doomed.ID+"/retry", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/runs/"+doomed.ID+"?done=run_retried", resp.Header.Get("Location"))
	eventually(t, func() bool {
		_, page := b.get(c, "/runs/"+doomed.ID)
		return strings.Contains(page, `id="step-2"`) && strings.Contains(page, `id="run-status"><span class="badge b-bad">failed`)
	}, "the retry ran the step again, as a new entry")

	// Runs: filters and paging.
	_, page = b.get(c, "/runs")
	require.Contains(t, page, run.ID)
	require.Contains(t, page, waiting.ID)
	_, page = b.get(c, "/runs?status=cancelled")
	require.Contains(t, page, waiting.ID)
	require.NotContains(t, page, run.ID)
	_, page = b.get(c, "/runs?workflow=charge")
	require.Contains(t, page, run.ID)
	require.NotContains(t, page, waiting.ID)
	past := time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04")
	future := time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04")
	_, page = b.get(c, "/runs?to="+past)
	require.Contains(t, page, "No run matches these filters")
	_, page = b.get(c, "/runs?from="+future)
	require.Contains(t, page, "No run matches these filters")
	_, page = b.get(c, "/runs?from="+past+"&to="+future)
	require.Contains(t, page, run.ID)
	for _, path := range []string{"/workflows", "/workflows/new", "/workflows/charge", "/runs", "/runs/" + run.ID, "/runs/" + waiting.ID} {
		resp, page := b.get(c, path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.NotRegexp(t, inline, page, "%s: nothing the Content-Security-Policy blocks", path)
	}
	for _, bad := range []string{"?status=nope", "?cursor=x", "?from=yesterday"} {
		resp, _ := b.get(c, "/runs"+bad)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, bad)
	}
}

// section is the element of page with the id, up to the next element
// with an id of the same kind.
func section(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `id="`+id+`"`)
	require.GreaterOrEqual(t, i, 0, "no element %s", id)
	rest := page[i+len(id)+5:]
	if j := regexp.MustCompile(`id="step-\d+(-attempt-\d+)?"`).FindStringIndex(rest); j != nil {
		rest = rest[:j[0]]
	}
	return rest
}

func TestWorkflowEditor(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	saveWorkflows(t, b, waitWorkflow)
	c := b.signedIn()

	_, page := b.get(c, "/workflows/wait-payment")
	require.Contains(t, page, `<textarea id="yaml" name="yaml"`)
	require.Contains(t, page, "wait_for:", "the definition as YAML")
	require.Contains(t, page, "saving a change makes version 2")

	// Mistakes of the spec are shown at their lines, nothing is saved.
	bad := `name: wait-payment
on:
  events: ["order.created"]
steps:
  - id: paid
    wait_for: {event: payment.received, timeout: 1h}
  - id: later
    set:
      x: "1 +"
  - id: call
    http: {url: "ftp://x"}
`
	resp, page := b.post(c, "/workflows/wait-payment", url.Values{"yaml": {bad}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, page, "2 mistakes: nothing was saved")
	require.Regexp(t, `id="line-9" class="bad">.*<code>      x: &#34;1 &#43;&#34;</code><p class="err">line 9: steps\[1\].set.x: invalid expression`, page)
	require.Regexp(t, `id="line-11" class="bad">.*<p class="err">line 11: steps\[2\].http.url: must be an http or https URL`, page)
	require.Contains(t, page, "      x: &#34;1 &#43;&#34;\n", "the document as submitted stays in the editor")
	_, versions, err := b.api.GetWorkflow(ctx, "wait-payment", 0)
	require.NoError(t, err)
	require.Equal(t, []int{1}, versions)

	// A mistake of the YAML itself: at its line too.
	resp, page = b.post(c, "/workflows/wait-payment", url.Values{"yaml": {"name: wait-payment\non:\n  events: [a]\n  bogus: 1\nsteps: []\n"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Regexp(t, `id="line-4" class="bad">.*line 4: unknown field &#34;bogus&#34;`, page)

	// Another name is refused at the name's line.
	resp, page = b.post(c, "/workflows/wait-payment", url.Values{"yaml": {strings.Replace(waitWorkflow, "wait-payment", "other", 1)}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, page, `line 1: name: must stay &#34;wait-payment&#34;`)

	// A good change is a new version.
	good := strings.Replace(waitWorkflow, "timeout: 1h", "timeout: 2h", 1)
	resp, _ = b.post(c, "/workflows/wait-payment", url.Values{"yaml": {strings.ReplaceAll(good, "\n", "\r\n")}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/workflows/wait-payment?done=workflow_saved", resp.Header.Get("Location"))
	wf, versions, err := b.api.GetWorkflow(ctx, "wait-payment", 0)
	require.NoError(t, err)
	require.Equal(t, []int{2, 1}, versions)
	require.Equal(t, "2h", wf.Steps[0].WaitFor.Timeout)
	_, page = b.get(c, "/workflows/wait-payment?version=1")
	require.Contains(t, page, "timeout: 1h")

	// A disabled workflow's definition says so, so saving it keeps it off.
	_, err = b.api.SetWorkflowEnabled(ctx, "wait-payment", false)
	require.NoError(t, err)
	_, page = b.get(c, "/workflows/wait-payment")
	require.Contains(t, page, "enabled: false")

	// A new workflow.
	_, page = b.get(c, "/workflows/new")
	require.Contains(t, page, "Create workflow")
	resp, _ = b.post(c, "/workflows", url.Values{"yaml": {strings.Replace(waitWorkflow, "wait-payment", "second", 1)}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/workflows/second?done=workflow_saved", resp.Header.Get("Location"))
	_, page = b.get(c, "/workflows/second?done=workflow_saved")
	require.Contains(t, page, "Workflow saved.")

	resp, _ = b.post(c, "/workflows/second", url.Values{"yaml": {strings.Repeat("#", 2<<20)}})
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	resp, _ = b.get(c, "/workflows/second?version=x")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, _ = b.get(c, "/workflows/nope")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// Another tenant's workflows and runs are not reachable.
func TestWorkflowsOtherTenant(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	saveWorkflows(t, b, waitWorkflow)
	b.send("order.created", `{}`)
	run := runOf(t, b, "wait-payment", "waiting")
	c, _ := b.otherTenant()

	_, page := b.get(c, "/workflows")
	require.Contains(t, page, "No workflows yet")
	_, page = b.get(c, "/runs")
	require.NotContains(t, page, run.ID)
	for _, path := range []string{"/workflows/wait-payment", "/runs/" + run.ID} {
		resp, _ := b.get(c, path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
	for _, path := range []string{"/runs/" + run.ID + "/cancel", "/runs/" + run.ID + "/retry"} {
		resp, _ := b.post(c, path, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
	resp, _ := b.post(c, "/workflows/wait-payment", url.Values{"yaml": {waitWorkflow}})
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "no saving into another tenant's workflow")
	got, err := b.api.GetRun(ctx, run.ID)
	require.NoError(t, err)
	require.Equal(t, "waiting", got.Status, "untouched")
	_, versions, err := b.api.GetWorkflow(ctx, "wait-payment", 0)
	require.NoError(t, err)
	require.Equal(t, []int{1}, versions)
}

// TestRunPageChildren: a run's timeline lists, under a parallel step, the
// run of each branch by index with its status, and a branch's page links
// back to the run that started it.
func TestRunPageChildren(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	saveWorkflows(t, b, `name: fan
on: {events: [order.created]}
steps:
  - id: split
    parallel:
      join: any
      branches:
        - steps: [ {id: hold, wait_for: {event: never.comes, timeout: 1h}} ]
        - steps: [ {id: quick, set: {done: "true"}} ]
  - id: after
    set: {ok: "true"}
`)
	c := browser(t)
	b.signIn(c, b.key)
	b.send("order.created", `{"id": "o-1"}`)
	var run client.Run
	eventually(t, func() bool {
		page, err := b.api.ListRuns(ctx, client.RunListOptions{Workflow: "fan", Status: "succeeded"})
		for _, r := range page.Data {
			if err == nil && r.ParentID == "" {
				run = r
			}
		}
		return run.ID != ""
	}, "the fan run succeeded")
	kids, err := b.api.ListRuns(ctx, client.RunListOptions{ParentRunID: run.ID})
	require.NoError(t, err)
	require.Len(t, kids.Data, 2)

	resp, page := b.get(c, "/runs/"+run.ID)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, "<summary>2 branches</summary>")
	table := section(t, page, "step-1-children")
	require.Regexp(t, `<td>0</td><td><a class="mono" href="/runs/run_\w+">run_\w+</a></td><td><span class="badge b-\w+">cancelled</span></td><td class="mono">hold</td>`, table)
	require.Regexp(t, `<td>1</td><td><a class="mono" href="/runs/run_\w+">run_\w+</a></td><td><span class="badge b-ok">succeeded</span>`, table)
	_, page = b.get(c, "/runs/"+kids.Data[0].ID)
	require.Contains(t, page, `href="/runs/`+run.ID+`" id="parent-run"`)
	require.NotRegexp(t, inline, page)

	// A failed branch is not retried on its own: its parent is.
	saveWorkflows(t, b, `name: fan-fail
on: {events: [order.failed]}
steps:
  - id: split
    parallel:
      branches:
        - steps: [ {id: boom, fail: {message: "no stock"}} ]
`)
	b.send("order.failed", `{}`)
	var failed client.Run
	eventually(t, func() bool {
		page, err := b.api.ListRuns(ctx, client.RunListOptions{Workflow: "fan-fail", Status: "failed"})
		for _, r := range page.Data {
			if err == nil && r.ParentID != "" {
				failed = r
			}
		}
		return failed.ID != ""
	}, "the branch failed")
	_, page = b.get(c, "/runs/"+failed.ID)
	require.Contains(t, page, `id="retry-parent"`)
	require.NotContains(t, page, `id="retry"`, "a child run is retried with its parent")
	eventually(t, func() bool {
		parent, err := b.api.GetRun(ctx, failed.ParentID)
		return err == nil && parent.Status == "failed"
	}, "the parent took the branch's failure in")
	_, page = b.get(c, "/runs/"+failed.ParentID)
	require.Contains(t, page, `id="retry"`)
}

// TestWorkflowScheduleAndRunNow shows a scheduled workflow's next run and
// starts a run by hand with an input from its page.
func TestWorkflowScheduleAndRunNow(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	saveWorkflows(t, b, `name: digest
on:
  schedule: { cron: "0 9 * * MON-FRI", timezone: Europe/Berlin }
  manual: true
steps:
  - id: note
    set: { who: "event.data.who" }
`)
	c := b.signedIn()
	_, page := b.get(c, "/workflows")
	require.Contains(t, page, "cron 0 9 * * MON-FRI")
	_, page = b.get(c, "/workflows/digest")
	require.Regexp(t, `<dt>Schedule</dt><dd><span class="mono">0 9 \* \* MON-FRI</span> \(Europe/Berlin, missed: run_once\) · next run <time datetime="\d{4}-\d\d-\d\dT0[78]:00:00Z"`, page)
	require.Contains(t, page, `action="/workflows/digest/run"`)

	resp, _ := b.post(c, "/workflows/digest/run", url.Values{"input": {`{"who": "ops"}`}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc := resp.Header.Get("Location")
	require.Regexp(t, `^/runs/run_\w+\?done=run_started$`, loc)
	run := runOf(t, b, "digest", "succeeded")
	require.Equal(t, map[string]any{"who": "ops"}, run.Vars)
	require.True(t, strings.HasPrefix(loc, "/runs/"+run.ID))
	_, page = b.get(c, loc)
	require.Contains(t, page, "Run started by hand.")

	resp, page = b.post(c, "/workflows/digest/run", url.Values{"input": {`{"who":`}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, page, "The input is not valid JSON.")
	resp, page = b.post(c, "/workflows/digest/run", url.Values{"input": {`[1]`}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, page, "input: must be a JSON object")
	resp, _ = b.post(c, "/workflows/nope/run", url.Values{})
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	_, err := b.api.SetWorkflowEnabled(ctx, "digest", false)
	require.NoError(t, err)
	_, page = b.get(c, "/workflows/digest")
	require.Contains(t, page, "not planned while disabled")
	resp, page = b.post(c, "/workflows/digest/run", url.Values{})
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Contains(t, page, "This workflow is disabled")

	// Another tenant cannot start it.
	other, _ := b.otherTenant()
	resp, _ = b.post(other, "/workflows/digest/run", url.Values{})
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
