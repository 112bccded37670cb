package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// TestBrowserContent drives the content pages in headless Chromium: a
// template previewed for a chosen recipient and locale (htmx renders it
// in place, on submit and as the event data is typed), the message log
// and a recipient's inbox. No page may log a console error or fail a
// request.
func TestBrowserContent(t *testing.T) {
	t.Parallel()
	tb, b := browserSetup(t)
	ctx := context.Background()
	seedContent(t, b)

	openSignedIn(tb, b, "/templates")
	tb.run(chromedp.WaitVisible(`//a[text()="order-shipped"]`))
	tb.shot("templates")
	tb.run(chromedp.Click(`//a[text()="order-shipped"]`), chromedp.WaitVisible(chromedp.ID("preview")))
	page := value(tb, chromedp.Location())

	// Camille, in her own locale (French), then in English.
	tb.run(chromedp.SetValue(chromedp.ID("recipient"), "cus_cam"),
		chromedp.SetValue(chromedp.ID("data"), `{"order_id": "A-1", "items": [1, 2]}`),
		chromedp.Click(`//button[text()="Render"]`))
	tb.waitText("#preview-subject", "Camille, la commande A-1 est partie")
	tb.waitText("#preview-locale", "fr")
	require.Equal(t, page, value(tb, chromedp.Location()), "rendered in place, not by navigation")
	tb.run(chromedp.SetValue(chromedp.ID("locale"), "en"), chromedp.Click(`//button[text()="Render"]`))
	tb.waitText("#preview-subject", "Camille, order A-1 has shipped")

	// Typing the event data renders it again, once typing pauses.
	require.True(t, value(tb, chromedp.Evaluate[bool](`document.getElementById("data").value = "", true`)))
	tb.run(chromedp.SendKeys(chromedp.ID("data"), `{"order_id": "A-9", "items": [1, 2, 3]}`))
	tb.waitText("#preview-text", "Hi Camille (), 3 items are on their way.")
	tb.waitText("#preview-subject", "A-9")
	tb.shot("template-preview")
	tb.clean("the preview")

	// A render error is shown, readably, where the preview was.
	tb.run(chromedp.SetValue(chromedp.ID("data"), `{"order_id": "A-1"}`), chromedp.Click(`//button[text()="Render"]`))
	tb.waitText("#preview-error", "error calling len")
	tb.clean("a render error")

	// The message log and an inbox.
	_, err := b.api.SendEvent(ctx, client.EventCreate{Type: "order.shipped",
		Data: json.RawMessage(`{"customer_id": "cus_cam", "order_id": "B-7", "items": [1]}`)})
	require.NoError(t, err)
	eventually(t, func() bool {
		page, err := b.api.ListMessages(ctx, client.MessageListOptions{Status: "sent"})
		return err == nil && len(page.Data) == 2
	}, "the messages are sent")
	tb.run(chromedp.Navigate(b.base+"/messages"), chromedp.WaitVisible(chromedp.CSS("table")),
		chromedp.Click(`//nav[@aria-label="Channels"]/a[text()="inbox"]`), chromedp.WaitVisible(`//a[text()="cus_cam"]`))
	require.Contains(t, tb.text("table"), "Camille, la commande B-7 est partie")
	tb.shot("messages")
	tb.run(chromedp.Click(`//a[text()="cus_cam"]`), chromedp.WaitVisible(chromedp.ID("unread")))
	require.Equal(t, "1 unread", tb.text("#unread"))
	require.Contains(t, tb.text("ol.inbox"), "Camille, la commande B-7 est partie")
	tb.shot("inbox")
	tb.clean("messages and inbox")

	// 360 px wide: nothing scrolls sideways but the tables' own boxes.
	tb.run(chromedp.EmulateViewport(360, 740))
	for _, path := range []string{"/templates", "/templates/order-shipped", "/messages", "/recipients", "/recipients/cus_cam/inbox"} {
		tb.run(chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS("main")))
		fits := value(tb, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		require.True(t, fits, "%s is readable at 360 px", path)
	}
	tb.clean("narrow pages")
}

// waitText waits up to 10 s until the element sel's text contains want.
func (tb *tab) waitText(sel, want string) {
	tb.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		got := value(tb, chromedp.Evaluate[string](`(document.querySelector(`+jsString(sel)+`) || {textContent: ""}).textContent`))
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("%s says %q, not %q", sel, got, want)
		}
		<-tick.C
	}
}

// jsString quotes s as a JavaScript string.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
