package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// TestBrowserDataPages drives the pages about data coming in, in headless
// Chromium: a source's URL and the rejection of a badly signed request,
// an event type's schema, the live tail, a collection's records, a
// record's history and the live changes feed.
// No page may log a console error or fail a request.
func TestBrowserDataPages(t *testing.T) {
	t.Parallel()
	tb, b := browserSetup(t)
	tb.signIn(b)

	// A source: its URL to paste, its scheme, what it received and what
	// it refused.
	src := b.githubSource("github")
	require.Equal(t, http.StatusOK, b.postGitHub("github", githubSecret, "d-1", `{"ref": "refs/heads/main", "commits": [{"id": "c0ffee"}]}`))
	tb.run(chromedp.Click(`//nav//a[text()="Sources"]`), chromedp.WaitVisible(`//a[text()="github"]`))
	tb.shot("sources")
	tb.run(chromedp.Click(`//a[text()="github"]`), chromedp.WaitVisible(chromedp.ID("source-url")))
	require.Equal(t, b.url+"/in/github", tb.text("#source-url"))
	require.Contains(t, tb.text(".empty"), "No request was refused")
	require.Equal(t, http.StatusUnauthorized, b.postGitHub("github", "not the secret", "d-2", `{"ref": "x"}`))
	tb.run(chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("rejections")))
	require.Contains(t, tb.text("#rejections"), "matches no configured secret")
	tb.shot("source")
	tb.clean("the source " + src.ID)

	// The event catalogue: a type's schema and its examples.
	_, err := b.api.CreateEventType(context.Background(), client.EventType{Name: "order.created", Description: "An order was placed.",
		Schema: json.RawMessage(orderSchema)})
	require.NoError(t, err)
	tb.run(chromedp.Click(`//nav//a[text()="Event types"]`), chromedp.WaitVisible(`//a[text()="order.created"]`))
	tb.run(chromedp.Click(`//a[text()="order.created"]`), chromedp.WaitVisible(chromedp.ID("schema")))
	require.Contains(t, tb.text("#schema"), `"required": [`)
	require.Contains(t, tb.text("#schema"), `"order_id"`)
	tb.shot("event-type")
	tb.clean("the event type")

	// The live tail: a published event shows without a reload; paused,
	// new events wait until it resumes.
	tb.run(chromedp.Click(`//nav//a[text()="Live tail"]`), chromedp.WaitVisible(`//p[@id="tail-status"][starts-with(text(), "Live")]`))
	first := b.send("order.created", `{"order_id": "ord_1", "total": 4200}`)
	tb.run(chromedp.WaitVisible(`#tail-rows a[href="/events/` + first + `"]`))
	tb.run(chromedp.Click(`//button[text()="Pause"]`))
	held := b.send("order.created", `{"order_id": "ord_2", "total": 990}`)
	tb.run(chromedp.WaitVisible(`//p[@id="tail-status"][contains(text(), "paused, 1 waiting")]`))
	require.NotContains(t, tb.text("#tail-rows"), held)
	b.send("user.signed_up", `{"user": "u_7"}`)
	tb.run(chromedp.Click(`//button[text()="Resume"]`), chromedp.WaitVisible(`#tail-rows a[href="/events/`+held+`"]`))
	require.Contains(t, tb.text("#tail-rows"), "user.signed_up")
	tb.shot("tail")
	tb.clean("the live tail")

	// A collection: browse its records, open one's history, and see a
	// change arrive in the live feed.
	b.customers()
	b.customerEvent("customer.updated", "cus_1", 1, "Ada")
	b.customerEvent("customer.updated", "cus_2", 1, "Alan")
	b.customerEvent("customer.updated", "cus_1", 2, "Ada Lovelace")
	tb.run(chromedp.Click(`//nav//a[text()="Collections"]`), chromedp.WaitVisible(`//a[text()="customers"]`))
	tb.run(chromedp.Click(`//a[text()="customers"]`), chromedp.WaitVisible(chromedp.ID("records")),
		chromedp.WaitVisible(`//p[@id="changes-status"][starts-with(text(), "Live")]`))
	require.Contains(t, tb.text("#records"), "cus_2")
	b.customerEvent("customer.updated", "cus_3", 1, "Grace")
	tb.run(chromedp.WaitVisible(`//tbody[@id="changes-rows"]/tr[1]/td[text()="4"]`))
	require.Contains(t, tb.text("#changes-rows tr"), "cus_3", "the newest change, on top")
	tb.shot("collection")
	tb.run(chromedp.Click(`//table[@id="records"]//a[text()="cus_1"]`), chromedp.WaitVisible(chromedp.ID("history")))
	history := tb.text("#history")
	require.Contains(t, history, "version 2")
	require.Contains(t, history, "version 1")
	require.Contains(t, tb.text("#record-data"), `"Ada Lovelace"`)
	tb.shot("record")
	tb.clean("the collection")
}

// signIn signs the tab in with the bundle's admin key.
func (tb *tab) signIn(b *bundle) {
	tb.t.Helper()
	openSignedIn(tb, b, "/")
	tb.run(chromedp.WaitVisible(`//h1[text()="Overview"]`))
	require.True(tb.t, strings.HasSuffix(value(tb, chromedp.Location()), "/"))
}
