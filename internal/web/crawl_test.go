package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// crawlLimit bounds how many pages TestEveryPage visits, and perShape how
// many pages of one shape (a path with its ids blanked) it visits.
const (
	crawlLimit = 120
	perShape   = 2
)

// idInPath blanks the ids of a path, so /endpoints/ep_01J… and
// /endpoints/ep_01K… are the same shape of page.
var idInPath = regexp.MustCompile(`[a-z]+_[0-9a-z]{26}`)

// problems is run on every page: what a person using a keyboard, a screen
// reader or a narrow screen would trip over. Each string is a problem.
const problems = `(() => {
	const out = [];
	const name = (el) => {
		if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.title) return true;
		if (el.labels && el.labels.length) return true;
		return false;
	};
	for (const el of document.querySelectorAll('input, select, textarea')) {
		if (el.type === 'hidden') continue;
		if (!name(el)) out.push('no label: ' + el.outerHTML.slice(0, 120));
	}
	for (const el of document.querySelectorAll('button, a[href]')) {
		const text = (el.textContent || '').trim() || el.getAttribute('aria-label') || el.title ||
			[...el.querySelectorAll('img[alt], svg[aria-label]')].map(i => i.getAttribute('alt') || i.getAttribute('aria-label')).join('');
		if (!text) out.push('no text: ' + el.outerHTML.slice(0, 120));
	}
	for (const el of document.querySelectorAll('img')) {
		if (!el.hasAttribute('alt')) out.push('no alt: ' + el.outerHTML.slice(0, 120));
	}
	if (!document.querySelector('h1')) out.push('no h1');
	if (!document.title) out.push('no title');
	const ids = {};
	for (const el of document.querySelectorAll('[id]')) {
		if (ids[el.id]) out.push('duplicate id: ' + el.id);
		ids[el.id] = true;
	}
	return out;
})()`

// TestEveryPage follows every link of the dashboard from the overview, as
// a signed-in operator, with data in every list, and holds each page it
// reaches to the basics: no console error or failed request, a label on
// every control, text on every button and link, one h1, unique ids, and
// nothing scrolling sideways at 360 px but the tables' own boxes. A page
// added later is covered once a link leads to it.
func TestEveryPage(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	// After setup, so the browser closes (with any live stream it holds)
	// before the server stops.
	tb := newTab(t)
	ctx := context.Background()
	rc := newReceiver(t, http.StatusOK)
	b.endpoint(client.EndpointCreate{URL: rc.URL + "/orders", EventTypes: []string{"order.created"}})
	b.send("order.created", `{"order_id": "ord_1", "lines": [{"sku": "a", "qty": 2}]}`)
	eventually(t, func() bool { return rc.hits.Load() >= 1 }, "delivered")
	// Something in every list: a source with an event and a rejection, a
	// collection with a record, workflows with runs, content, a type.
	b.githubSource("github")
	require.Equal(t, http.StatusOK, b.postGitHub("github", githubSecret, "d-1", `{"ref": "main"}`))
	require.Equal(t, http.StatusUnauthorized, b.postGitHub("github", "wrong", "d-2", `{"ref": "main"}`))
	b.customers()
	b.customerEvent("customer.updated", "cus_1", 1, "Ada")
	saveWorkflows(t, b, chargeWorkflow(flaky(t).URL), waitWorkflow)
	b.send("order.created", `{"id": "ord_2"}`)
	runOf(t, b, "charge", "succeeded")
	runOf(t, b, "wait-payment", "waiting")
	seedContent(t, b)
	b.send("order.shipped", `{"customer_id": "cus_ada", "order_id": "o-1", "items": [1, 2]}`)
	_, err := b.api.CreateEventType(ctx, client.EventType{Name: "order.created", Description: "An order was placed",
		Schema: json.RawMessage(`{"type": "object", "properties": {"order_id": {"type": "string"}}, "examples": [{"order_id": "ord_1"}]}`)})
	require.NoError(t, err)

	tb.run(chromedp.Navigate(b.base+"/signin"), chromedp.WaitVisible(chromedp.ID("api_key")),
		chromedp.SendKeys(chromedp.ID("api_key"), b.key), chromedp.Submit(chromedp.ID("api_key")),
		chromedp.WaitVisible(`//h1[text()="Overview"]`))

	root, err := url.Parse(b.base + "/")
	require.NoError(t, err)
	seen := map[string]bool{}
	shapes := map[string]int{}
	queue := []string{root.String()}
	visited := 0
	for len(queue) > 0 && visited < crawlLimit {
		page := queue[0]
		queue = queue[1:]
		visited++
		tb.run(chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("main")))
		tb.clean(page)
		found := value(tb, chromedp.Evaluate[[]string](problems))
		require.Empty(t, found, "%s", page)

		links := value(tb, chromedp.Evaluate[[]string](`[...document.querySelectorAll('a[href]')].map(a => a.href)`))
		slices.Sort(links)
		for _, l := range slices.Compact(links) {
			u, err := url.Parse(l)
			if err != nil || u.Host != root.Host || u.Path == "/signin" || u.Path == "/signout" {
				continue
			}
			u.Fragment = ""
			if seen[u.String()] {
				continue
			}
			seen[u.String()] = true
			shape := idInPath.ReplaceAllString(u.Path, "{id}")
			if u.RawQuery != "" {
				shape += "?"
			}
			if shapes[shape] >= perShape {
				continue
			}
			shapes[shape]++
			queue = append(queue, u.String())
		}
	}
	t.Logf("visited %d pages of %d shapes", visited, len(shapes))
	require.Greater(t, len(shapes), 25, "the crawl reaches the dashboard's pages")

	// Narrow: every shape of page once.
	tb.run(chromedp.EmulateViewport(360, 740))
	narrow := map[string]bool{}
	for page := range seen {
		u, _ := url.Parse(page)
		shape := idInPath.ReplaceAllString(u.Path, "{id}")
		if narrow[shape] || u.RawQuery != "" || shapes[shape] == 0 {
			continue
		}
		narrow[shape] = true
		tb.run(chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("main")))
		fits := value(tb, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		require.True(t, fits, "%s is readable at 360 px", page)
	}
	tb.clean("narrow pages")
}
