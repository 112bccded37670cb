package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/config"
)

// take returns what went wrong on the pages seen so far and forgets it,
// for a step that is meant to be refused.
func (tb *tab) take() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	bad := tb.bad
	tb.bad = nil
	return bad
}

// frameHost is a platform's own site that frames the portal: its page at
// / shows the URL of its src parameter in an iframe. Reached as
// http://localhost:PORT it is another site than the server at
// 127.0.0.1, as a platform's site is.
func frameHost(t *testing.T) (origin string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme dashboard</title><link rel="icon" href="data:,"></head>
<body><h1>Acme dashboard: webhooks</h1><iframe src="%s" title="Webhooks" width="1100" height="760"></iframe></body></html>`,
			html.EscapeString(r.URL.Query().Get("src")))
	}))
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	return "http://localhost:" + port
}

// frame attaches to the cross-site iframe of the tab's page whose URL
// contains part, once it has loaded there, as a tab of its own that
// records what goes wrong in it.
func (tb *tab) frame(part string) *tab {
	tb.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		infos, err := chromedp.Targets(tb.ctx)
		require.NoError(tb.t, err)
		for _, info := range infos {
			if info.Type == "iframe" && strings.Contains(info.URL, part) {
				ft := &tab{t: tb.t, shots: tb.shots}
				// A request that began before the attach (the frame's first
				// navigation, moved to the frame's own process) may end
				// as failed: only those seen to start count.
				seen := map[network.RequestID]bool{}
				listen := func(ev any) {
					switch ev := ev.(type) {
					case *network.EventRequestWillBeSent:
						seen[ev.RequestID] = true
					case *network.EventLoadingFailed:
						if !seen[ev.RequestID] {
							return
						}
					}
					ft.listen(ev)
				}
				ctx, cancel := chromedp.NewContext(tb.ctx, chromedp.WithTargetID(info.TargetID), chromedp.WithListener(listen))
				tb.t.Cleanup(cancel)
				ft.ctx = ctx
				// The first run attaches for as long as ctx lasts, not only
				// for the run; attaching enables the network and the log.
				require.NoError(tb.t, chromedp.Do(ctx, chromedp.Func(func(context.Context, *chromedp.Target) error { return nil })))
				return ft
			}
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("no iframe at %s; targets: %v", part, infos)
		}
		<-tick.C
	}
}

// TestPortalBrowser drives the customer portal in headless Chromium as a
// platform's customer does: open the link the platform made, add an
// endpoint, edit it, rotate its secret, read the catalogue, see a failed
// delivery and retry it; then try what is outside the portal: the
// operator's pages, another tenant's endpoint, a delivery of an event
// type outside its scope, the API. No page may log a console error or
// fail a request but those refusals.
func TestPortalBrowser(t *testing.T) {
	t.Parallel()
	tb, b := browserSetup(t)
	ctx := context.Background()
	rc := newReceiver(t, http.StatusServiceUnavailable)
	other := newReceiver(t, http.StatusOK)

	_, err := b.api.CreateEventType(ctx, client.EventType{Name: "order.created", Description: "A customer placed an order.",
		Schema: json.RawMessage(`{"type": "object", "required": ["order_id"], "properties": {"order_id": {"type": "string"}, "total": {"type": "integer"}},
			"examples": [{"order_id": "ord_1", "total": 4200}]}`)})
	require.NoError(t, err)
	_, err = b.api.CreateEventType(ctx, client.EventType{Name: "order.shipped", Description: "An order left the warehouse."})
	require.NoError(t, err)
	_, err = b.api.CreateEventType(ctx, client.EventType{Name: "invoice.paid", Description: "Internal: an invoice was paid."})
	require.NoError(t, err)
	outside := b.endpoint(client.EndpointCreate{URL: other.URL + "/invoices", EventTypes: []string{"invoice.*"}})
	tenant, err := b.api.CreateTenant(ctx, client.TenantCreate{Name: "globex"})
	require.NoError(t, err)
	theirs, err := client.New(b.url, tenant.APIKey.Key).CreateEndpoint(ctx, client.EndpointCreate{URL: other.URL + "/globex", EventTypes: []string{"order.created"}})
	require.NoError(t, err)

	// The platform's backend makes a link; the customer's browser opens it.
	ps, err := b.api.CreatePortalSession(ctx, client.PortalSessionCreate{EventTypes: []string{"order.*"}, Label: "Acme Inc."})
	require.NoError(t, err)
	tb.run(chromedp.Navigate(ps.URL), chromedp.WaitVisible(`//h1[text()="Endpoints"]`))
	require.Equal(t, "Acme Inc.", tb.text(".brand"))
	require.Contains(t, tb.text(".empty"), "No endpoints yet")
	root := strings.TrimSuffix(value(tb, chromedp.Location()), "/endpoints")
	require.Regexp(t, `/portal/s/[A-Za-z0-9_-]{43}$`, root)
	tb.clean("opening the link")

	// Add an endpoint: its secret shows once.
	tb.run(
		chromedp.Click(`//a[text()="Add endpoint"]`),
		chromedp.WaitVisible(chromedp.ID("url")),
		chromedp.SendKeys(chromedp.ID("url"), rc.URL+"/webhooks"),
		chromedp.SendKeys(chromedp.ID("description"), "Order sync"),
		chromedp.Click(`//input[@value="order.created"]`),
	)
	require.Empty(t, value(tb, chromedp.Evaluate[[]string](problems)), "the form's basics")
	tb.shot("portal-endpoint-form")
	tb.run(chromedp.Submit(chromedp.ID("url")), chromedp.WaitVisible(chromedp.ID("secret-value")))
	secret := tb.text("#secret-value")
	require.True(t, strings.HasPrefix(secret, "whsec_"))
	require.Contains(t, tb.text(".flash"), "Endpoint created")
	tb.shot("portal-endpoint-created")
	tb.clean("adding an endpoint")
	eps, err := b.api.ListEndpoints(ctx, client.ListOptions{})
	require.NoError(t, err)
	var mine client.Endpoint
	for _, ep := range eps.Data {
		if ep.Description == "Order sync" {
			mine = ep
		}
	}
	require.Equal(t, []string{"order.created"}, mine.EventTypes)

	// Edit it: a second type from the catalogue.
	tb.run(
		chromedp.Click(`//a[text()="Edit"]`),
		chromedp.WaitVisible(chromedp.ID("url")),
		chromedp.Click(`//input[@value="order.shipped"]`),
		chromedp.Submit(chromedp.ID("url")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	require.Contains(t, tb.text(".flash"), "Endpoint saved")
	require.Contains(t, tb.text("dl.props"), "order.created, order.shipped")
	tb.clean("editing")

	// Rotate its secret: the new one shows once.
	require.True(t, value(tb, chromedp.Evaluate[bool](`window.confirm = () => true, true`)))
	tb.run(chromedp.Click(`//button[text()="Rotate secret"]`), chromedp.WaitVisible(chromedp.ID("secret-value")))
	require.Contains(t, tb.text(".flash"), "Secret rotated")
	rotated := tb.text("#secret-value")
	require.NotEqual(t, secret, rotated)
	tb.clean("rotating")

	// The catalogue: the order types with their schema's example, not the
	// invoice type.
	tb.run(chromedp.Click(`//nav//a[text()="Event types"]`), chromedp.WaitVisible(`//h1[text()="Event types"]`))
	catalogue := tb.text("main")
	require.Contains(t, catalogue, "A customer placed an order.")
	require.Contains(t, catalogue, `"ord_1"`)
	require.NotContains(t, catalogue, "invoice.paid")
	tb.shot("portal-event-types")
	tb.clean("the catalogue")

	// A failed delivery and its retry.
	b.send("order.created", `{"order_id": "ord_7", "total": 1999}`)
	b.send("invoice.paid", `{"invoice": "inv_1"}`)
	eventually(t, func() bool { return rc.hits.Load() >= 1 && other.hits.Load() >= 1 }, "both delivered once")
	tb.run(chromedp.Click(`//nav//a[text()="Deliveries"]`), chromedp.WaitVisible(`//h1[text()="Deliveries"]`))
	tb.reloadUntil(func() bool { return strings.Contains(tb.text("main"), "retrying") }, "the delivery is listed as retrying")
	require.NotContains(t, tb.text("main"), "invoice.paid", "a delivery outside the scope is not listed")
	tb.shot("portal-deliveries")
	tb.run(chromedp.Click(chromedp.CSS(`table a[href*="/deliveries/dlv_"]`)), chromedp.WaitVisible(chromedp.ID("attempt-1")))
	attempt := tb.text("#attempt-1")
	require.Contains(t, attempt, "http 503")
	require.Contains(t, attempt, "ord_7")
	require.Contains(t, attempt, "redacted", "the signature header is redacted")
	require.NotContains(t, attempt, rotated)
	require.Empty(t, value(tb, chromedp.Evaluate[[]string](problems)), "the delivery page's basics")
	tb.clean("the delivery")
	rc.status.Store(http.StatusOK)
	tb.run(chromedp.Click(chromedp.ID("retry")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	require.Contains(t, tb.text(".flash"), "queued to run again")
	tb.reloadUntil(func() bool { return tb.text("#delivery-status") == "succeeded" }, "the retried delivery succeeds")
	tb.shot("portal-delivery")
	tb.clean("the retry")

	tb.run(chromedp.Navigate(root+"/endpoints"), chromedp.WaitVisible(chromedp.CSS("table")))
	tb.shot("portal-endpoints")
	tb.run(chromedp.EmulateViewport(360, 740), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("table")))
	require.True(t, value(tb, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)), "readable at 360 px")
	tb.run(chromedp.EmulateViewport(1200, 900))
	tb.clean("the endpoints")

	// Outside the portal: each is refused, and the page says so.
	invoices, err := b.api.ListDeliveries(ctx, client.DeliveryListOptions{EndpointID: outside.ID})
	require.NoError(t, err)
	require.Len(t, invoices.Data, 1)
	for _, tc := range []struct{ path, want string }{
		{root + "/endpoints/" + theirs.ID, "No endpoint " + theirs.ID + " here."},
		{root + "/endpoints/" + outside.ID, "No endpoint " + outside.ID + " here."},
		{root + "/deliveries/" + invoices.Data[0].ID, "No delivery " + invoices.Data[0].ID + " here."},
	} {
		tb.run(chromedp.Navigate(tc.path), chromedp.WaitVisible(chromedp.CSS("p.error")))
		require.Equal(t, tc.want, tb.text("p.error"))
		tb.refused(http.StatusNotFound)
	}
	tb.run(chromedp.Navigate(b.base+"/endpoints"), chromedp.WaitVisible(chromedp.ID("api_key")))
	require.Contains(t, value(tb, chromedp.Location()), "/signin?next=", "the operator's pages ask for an API key")
	tb.clean("the operator's pages")
	tb.run(chromedp.Navigate(b.url + "/v1/endpoints"))
	require.Contains(t, tb.text("body"), "missing Authorization header", "the API needs a key the portal does not have")
	tb.refused(http.StatusUnauthorized)
}

// refused waits until the page's answer of status is recorded, as an
// answer and in the browser's log, and requires that nothing else went
// wrong (but a favicon the browser looked for); then it forgets them.
func (tb *tab) refused(status int) {
	tb.t.Helper()
	answer, logged := fmt.Sprintf("%d for ", status), fmt.Sprintf("status of %d", status)
	eventually(tb.t, func() bool {
		all := strings.Join(tb.snapshot(), "\n")
		return strings.Contains(all, answer) && strings.Contains(all, logged)
	}, "the refusal is recorded")
	for _, bad := range tb.take() {
		if strings.Contains(bad, "/favicon.ico") {
			continue // asked for by the browser beside a JSON answer
		}
		require.Contains(tb.t, bad, strconv.Itoa(status))
	}
}

// The portal loads and works in an iframe of a site its
// portal_frame_ancestors allows, cross-site; another site's frame is
// refused by the browser.
func TestPortalFramed(t *testing.T) {
	t.Parallel()
	allowed, refused := frameHost(t), frameHost(t)
	b := setupWith(t, func(cfg *config.Config) { cfg.PortalFrameAncestors = []string{allowed} })
	rc := newReceiver(t, http.StatusOK)
	ctx := context.Background()

	ps, err := b.api.CreatePortalSession(ctx, client.PortalSessionCreate{Label: "Acme Inc."})
	require.NoError(t, err)
	tb := newTab(t)
	tb.run(chromedp.Navigate(allowed+"/?src="+url.QueryEscape(ps.URL)), chromedp.WaitVisible(chromedp.CSS("iframe")))
	ft := tb.frame("/portal/s/")
	ft.run(chromedp.WaitVisible(`//h1[text()="Endpoints"]`))
	require.Equal(t, "Acme Inc.", ft.text(".brand"))

	// A form posted inside the frame passes the cross-origin check: the
	// request comes from the portal's own page.
	ft.run(
		chromedp.Click(`//a[text()="Add endpoint"]`),
		chromedp.WaitVisible(chromedp.ID("url")),
		chromedp.SendKeys(chromedp.ID("url"), rc.URL+"/framed"),
		chromedp.Submit(chromedp.ID("url")),
		chromedp.WaitVisible(chromedp.ID("secret-value")),
	)
	require.Contains(t, ft.text(".flash"), "Endpoint created")
	tb.shot("portal-embedded")
	ft.clean("the framed portal")
	tb.clean("the page that frames the portal")
	eps, err := b.api.ListEndpoints(ctx, client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, eps.Data, 1)
	require.Equal(t, rc.URL+"/framed", eps.Data[0].URL)

	// Another site: the answer names only the allowed one, and the
	// browser does not show the portal in its frame.
	ps, err = b.api.CreatePortalSession(ctx, client.PortalSessionCreate{})
	require.NoError(t, err)
	resp, err := browser(t).Get(ps.URL)
	require.NoError(t, err)
	resp.Body.Close()
	home := resp.Header.Get("Location")
	resp, page := b.get(browser(t), strings.TrimPrefix(home, b.prefix))
	require.Equal(t, http.StatusOK, resp.StatusCode, page)
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors "+allowed+";")
	require.NotContains(t, resp.Header.Get("Content-Security-Policy"), refused)

	other := newTab(t)
	other.run(chromedp.Navigate(refused+"/?src="+url.QueryEscape(b.url+home)), chromedp.WaitVisible(chromedp.CSS("iframe")))
	eventually(t, func() bool { return strings.Contains(strings.Join(other.snapshot(), "\n"), "frame-ancestors") },
		"the browser refuses the frame, naming frame-ancestors")
	refusal := strings.Join(other.snapshot(), "\n")
	require.Contains(t, refusal, "ERR_BLOCKED_BY_RESPONSE", "the frame's page is blocked")
	require.Contains(t, refusal, `violates the following Content Security Policy directive: "frame-ancestors `+allowed+`"`)
}

// snapshot is what went wrong on the tab's pages so far.
func (tb *tab) snapshot() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.bad...)
}
