package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// openSignedIn signs the tab in with b's key and opens path.
func openSignedIn(tb *tab, b *bundle, path string) {
	tb.t.Helper()
	tb.run(chromedp.Navigate(b.base+"/signin?next="+path), chromedp.WaitVisible(chromedp.ID("api_key")),
		chromedp.SendKeys(chromedp.ID("api_key"), b.key), chromedp.Submit(chromedp.ID("api_key")),
		chromedp.WaitVisible(chromedp.CSS("main h1")))
}

// TestBrowserWorkflows drives the workflow pages in headless Chromium: a
// run whose step failed once then succeeded shows both attempts on its
// timeline; a waiting run is cancelled from its page; an edit with a
// mistake shows it at its line. No page may log a console error or fail a
// request.
func TestBrowserWorkflows(t *testing.T) {
	t.Parallel()
	tb, b := browserSetup(t)
	ctx := context.Background()
	saveWorkflows(t, b, chargeWorkflow(flaky(t).URL), waitWorkflow)
	b.send("order.created", `{"id": "o-1", "total": 42}`)
	run := runOf(t, b, "charge", "succeeded")
	waiting := runOf(t, b, "wait-payment", "waiting")

	openSignedIn(tb, b, "/workflows")
	tb.run(chromedp.WaitVisible(`//a[text()="charge"]`))
	require.Contains(t, tb.text("table"), "order.created")
	tb.shot("workflows")
	tb.clean("workflows")

	// The run's timeline: the charge step failed once, then succeeded.
	tb.run(chromedp.Click(`//a[text()="charge"]`), chromedp.WaitVisible(chromedp.ID("yaml")),
		chromedp.Click(chromedp.CSS(`a[href="/runs/`+run.ID+`"]`)), chromedp.WaitVisible(chromedp.ID("step-1-attempt-2")))
	first := tb.text("#step-1-attempt-1")
	require.Contains(t, first, "Attempt 1")
	require.Contains(t, first, "retrying")
	require.Contains(t, first, "answered 503 Service Unavailable")
	second := tb.text("#step-1-attempt-2")
	require.Contains(t, second, "Attempt 2")
	require.Contains(t, second, "succeeded")
	tb.run(chromedp.Click(`//li[@id="step-1-attempt-2"]//summary[text()="Output"]`))
	require.Contains(t, tb.text("#step-1-attempt-2 > details:last-of-type .json"), `"charge": "ch_1"`, "the output, formatted")
	require.Equal(t, "succeeded", tb.text("#run-status"))
	tb.shot("run-timeline")
	tb.clean("the run's timeline")

	// Cancel the waiting run from its page.
	tb.run(chromedp.Navigate(b.base+"/runs/"+waiting.ID), chromedp.WaitVisible(chromedp.ID("cancel")))
	require.Contains(t, tb.text("#step-1"), "for an event payment.received; times out in ")
	tb.shot("run-waiting")
	// The confirmation is the browser's own dialog: answered yes here.
	require.True(t, value(tb, chromedp.Evaluate[bool](`window.confirm = () => true, true`)))
	tb.run(chromedp.Click(chromedp.ID("cancel")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	require.Contains(t, tb.text(".flash"), "Run cancelled")
	require.Equal(t, "cancelled", tb.text("#run-status"))
	got, err := b.api.GetRun(ctx, waiting.ID)
	require.NoError(t, err)
	require.Equal(t, "cancelled", got.Status)
	tb.clean("cancel")

	// An edit with a mistake: shown at its line, nothing saved.
	bad := strings.Replace(waitWorkflow, "timeout: 1h}", "timeout: 1h}\n  - id: later\n    set:\n      x: \"1 +\"", 1)
	tb.run(chromedp.Navigate(b.base+"/workflows/wait-payment"), chromedp.WaitVisible(chromedp.ID("yaml")),
		chromedp.SetValue(chromedp.ID("yaml"), bad), chromedp.Click(`//button[text()="Save"]`),
		chromedp.WaitVisible(chromedp.ID("mistakes-list")))
	require.Contains(t, tb.text("#line-9"), `x: "1 +"`)
	require.Contains(t, tb.text("#line-9 .err"), "line 9: steps[1].set.x: invalid expression")
	require.Equal(t, bad, value(tb, chromedp.Value(chromedp.ID("yaml"))), "the document stays in the editor")
	tb.shot("workflow-error")
	// The refused save answers 422 (as the endpoint form does): the one
	// request the tab may see fail, in its answer and in the browser's log.
	tb.mu.Lock()
	require.NotEmpty(t, tb.bad)
	for _, e := range tb.bad {
		require.Regexp(t, `422 .*/workflows/wait-payment$`, e)
	}
	tb.bad = nil
	tb.mu.Unlock()

	// 360 px wide: nothing scrolls sideways but the tables' own boxes.
	tb.run(chromedp.EmulateViewport(360, 740))
	for _, path := range []string{"/workflows", "/workflows/charge", "/runs", "/runs/" + run.ID} {
		tb.run(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS("main")))
		fits := value(tb, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		require.True(t, fits, "%s is readable at 360 px", path)
	}
	tb.clean("narrow pages")
}
