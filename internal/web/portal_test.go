package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/config"
)

// portalHome is where an opened link leads: a session's endpoints.
var portalHome = regexp.MustCompile(`^(/[a-z]+)?/portal/s/([A-Za-z0-9_-]{43})/endpoints$`)

// openPortal makes a portal session through the API, opens its link with
// c and returns the session's root path under the dashboard (such as
// /portal/s/TOKEN).
func (b *bundle) openPortal(c *http.Client, in client.PortalSessionCreate) string {
	b.t.Helper()
	ps, err := b.api.CreatePortalSession(context.Background(), in)
	require.NoError(b.t, err)
	link := strings.TrimPrefix(ps.URL, b.base)
	require.NotEqual(b.t, ps.URL, link, "the link is on the dashboard: %s", ps.URL)
	resp, _ := b.get(c, link)
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode)
	home := resp.Header.Get("Location")
	require.Regexp(b.t, portalHome, home)
	return strings.TrimSuffix(strings.TrimPrefix(home, b.prefix), "/endpoints")
}

// A link opens once; what it opens is a session in the path, with no
// cookie, framed only by the allowed sites.
func TestPortalLinkOpensOnce(t *testing.T) {
	t.Parallel()
	b := setupWith(t, func(cfg *config.Config) {
		cfg.PortalFrameAncestors = []string{"https://app.example.com", "https://*.example.org"}
	})
	c := browser(t)
	ps, err := b.api.CreatePortalSession(context.Background(), client.PortalSessionCreate{Label: "Acme Inc."})
	require.NoError(t, err)
	link := strings.TrimPrefix(ps.URL, b.url)

	resp, _ := b.get(c, link)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	home := resp.Header.Get("Location")
	require.Regexp(t, portalHome, home)
	require.Empty(t, resp.Cookies(), "the session is in the path, not a cookie")
	require.NotContains(t, home, strings.TrimPrefix(link, "/portal/open/"), "a session token of its own")

	resp, page := b.get(c, home)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, `<span class="brand">Acme Inc.</span>`)
	require.Contains(t, page, "<title>Endpoints · Acme Inc.</title>", "the customer's name, not Hookline's")
	require.Contains(t, page, "No endpoints yet")
	require.Equal(t, "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "+
		"frame-ancestors https://app.example.com https://*.example.org; form-action 'self'; base-uri 'none'; object-src 'none'",
		resp.Header.Get("Content-Security-Policy"))
	require.Empty(t, resp.Header.Get("X-Frame-Options"), "framing is the allow-list's to say")
	require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.NotRegexp(t, inline, page)

	resp, page = b.get(c, link)
	require.Equal(t, http.StatusGone, resp.StatusCode, "a second open is refused")
	require.Contains(t, page, "This portal link was already used")
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors https://app.example.com", "its refusal shows in the frame too")
	require.NotContains(t, page, `href="/endpoints"`, "no way into the operator's pages")

	for _, path := range []string{"/portal/open/nope", "/portal/open/" + strings.Repeat("A", 43), "/portal/s/" + strings.Repeat("A", 43) + "/endpoints",
		"/portal/s/nope/endpoints"} {
		resp, page := b.get(c, path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		require.Contains(t, page, "This portal address is not valid", path)
	}

	// The operator's pages are not framed, and the portal's session is
	// no sign-in to them.
	resp, _ = b.get(c, "/endpoints")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/signin?next=%2Fendpoints", resp.Header.Get("Location"))
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
}

// A link and its session end at expires_at (the server's clock), and
// when the key that made them is deleted.
func TestPortalExpiry(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Now())
	b := setupApp(t, func(_ *config.Config, o *app.Options) { o.Clock = clk })
	c := browser(t)
	ctx := context.Background()

	late, err := b.api.CreatePortalSession(ctx, client.PortalSessionCreate{ExpiresIn: 60})
	require.NoError(t, err)
	root := b.openPortal(c, client.PortalSessionCreate{ExpiresIn: 120})
	resp, page := b.get(c, root+"/endpoints")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, "Session ends <time")

	clk.Advance(61 * time.Second)
	resp, page = b.get(c, strings.TrimPrefix(late.URL, b.url))
	require.Equal(t, http.StatusGone, resp.StatusCode)
	require.Contains(t, page, "This portal link expired 1 s ago")
	resp, _ = b.get(c, root+"/endpoints")
	require.Equal(t, http.StatusOK, resp.StatusCode, "the other session lasts 120 s")

	clk.Advance(60 * time.Second)
	resp, page = b.get(c, root+"/endpoints")
	require.Equal(t, http.StatusGone, resp.StatusCode)
	require.Contains(t, page, "This portal session ended 1 s ago")
	resp, _ = b.post(c, root+"/endpoints", url.Values{"url": {"https://example.com/hook"}})
	require.Equal(t, http.StatusGone, resp.StatusCode)

	// Deleting the API key that made a session ends it.
	k, err := b.api.CreateAPIKey(ctx, client.APIKeyCreate{Name: "platform"})
	require.NoError(t, err)
	root = b.withKey(k.Key).openPortal(c, client.PortalSessionCreate{})
	resp, _ = b.get(c, root+"/endpoints")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, b.api.DeleteAPIKey(ctx, k.ID))
	resp, page = b.get(c, root+"/endpoints")
	require.Equal(t, http.StatusGone, resp.StatusCode)
	require.Contains(t, page, "This portal session was ended")
}

// A session scoped to order.* sees the tenant's endpoints that receive
// only order.* events and their order.* deliveries; every other id, of
// its tenant or another, is a 404 and is left untouched.
func TestPortalScope(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	rc := newReceiver(t, http.StatusOK)
	c := browser(t)

	mine := b.endpoint(client.EndpointCreate{URL: rc.URL + "/orders", EventTypes: []string{"order.created", "invoice.paid"}})
	outside := b.endpoint(client.EndpointCreate{URL: rc.URL + "/invoices", EventTypes: []string{"invoice.*"}})
	every := b.endpoint(client.EndpointCreate{URL: rc.URL + "/all"})
	other, err := b.api.CreateTenant(ctx, client.TenantCreate{Name: "other"})
	require.NoError(t, err)
	theirs, err := client.New(b.url, other.APIKey.Key).CreateEndpoint(ctx, client.EndpointCreate{URL: rc.URL + "/theirs", EventTypes: []string{"order.created"}})
	require.NoError(t, err)

	// An invoice.paid delivery to mine, which then narrows to order.*.
	b.send("invoice.paid", `{"n": 1}`)
	eventually(t, func() bool { return rc.hits.Load() == 3 }, "invoice.paid delivered to mine, outside and every")
	hidden, err := b.api.ListDeliveries(ctx, client.DeliveryListOptions{EndpointID: mine.ID})
	require.NoError(t, err)
	require.Len(t, hidden.Data, 1)
	_, err = b.api.UpdateEndpoint(ctx, mine.ID, client.EndpointUpdate{EventTypes: &[]string{"order.created"}})
	require.NoError(t, err)
	b.send("order.created", `{"n": 2}`)
	var visible string
	eventually(t, func() bool {
		shown, err := b.api.ListDeliveries(ctx, client.DeliveryListOptions{EndpointID: mine.ID, Status: client.DeliverySucceeded})
		require.NoError(t, err)
		if len(shown.Data) == 2 {
			visible = shown.Data[0].ID
		}
		return visible != ""
	}, "order.created delivered to mine")
	require.NotEqual(t, hidden.Data[0].ID, visible)

	root := b.openPortal(c, client.PortalSessionCreate{EventTypes: []string{"order.*"}})
	_, page := b.get(c, root+"/endpoints")
	require.Contains(t, page, mine.ID)
	for _, id := range []string{outside.ID, every.ID, theirs.ID} {
		require.NotContains(t, page, id)
	}
	_, page = b.get(c, root+"/deliveries")
	require.Contains(t, page, visible)
	require.NotContains(t, page, hidden.Data[0].ID, "an invoice.paid delivery, outside the scope")
	_, page = b.get(c, root+"/endpoints/"+mine.ID)
	require.Contains(t, page, visible)
	require.NotContains(t, page, hidden.Data[0].ID)

	for _, id := range []string{outside.ID, every.ID, theirs.ID, "ep_nope"} {
		for _, path := range []string{"/endpoints/" + id, "/endpoints/" + id + "/edit", "/endpoints/" + id + "/secret", "/deliveries?endpoint=" + id} {
			resp, page := b.get(c, root+path)
			require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
			require.Contains(t, page, "No endpoint "+id+" here.", path)
		}
		for _, path := range []string{"/endpoints/" + id, "/endpoints/" + id + "/disable", "/endpoints/" + id + "/rotate"} {
			resp, _ := b.post(c, root+path, url.Values{"url": {"https://example.com/x"}, "event_type": {"order.created"}})
			require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		}
	}
	for _, id := range []string{hidden.Data[0].ID, "dlv_nope"} {
		resp, _ := b.get(c, root+"/deliveries/"+id)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, id)
		resp, _ = b.post(c, root+"/deliveries/"+id+"/retry", nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, id)
	}
	for _, ep := range []client.Endpoint{*outside, *every} {
		got, err := b.api.GetEndpoint(ctx, ep.ID)
		require.NoError(t, err)
		require.Equal(t, ep.URL, got.URL)
		require.True(t, got.Enabled, "untouched")
	}
	got, err := client.New(b.url, other.APIKey.Key).GetEndpoint(ctx, theirs.ID)
	require.NoError(t, err)
	require.True(t, got.Enabled)

	// A session made with the other tenant's key is that tenant's.
	theirRoot := b.withKey(other.APIKey.Key).openPortal(browser(t), client.PortalSessionCreate{})
	_, page = b.get(c, theirRoot+"/endpoints")
	require.Contains(t, page, theirs.ID)
	require.NotContains(t, page, mine.ID)
	resp, _ := b.get(c, theirRoot+"/endpoints/"+mine.ID)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	// An endpoint made in the portal takes only event types in scope.
	resp, page = b.post(c, root+"/endpoints", url.Values{"url": {rc.URL + "/new"}, "other_types": {"invoice.paid"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, page, "invoice.paid is not among the event types of this portal (order.*)")
	require.Contains(t, page, `value="`+rc.URL+`/new"`, "the form keeps what was typed")
	resp, page = b.post(c, root+"/endpoints", url.Values{"url": {rc.URL + "/new"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, page, "choose at least one event type")
	resp, _ = b.post(c, root+"/endpoints", url.Values{"url": {rc.URL + "/new"}, "other_types": {"order.**"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "order.** reaches past order.*")
	resp, _ = b.post(c, root+"/endpoints", url.Values{"url": {rc.URL + "/new"}, "description": {"shop"}, "other_types": {"order.created, order.paid"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	id := endpointID.FindStringSubmatch(resp.Header.Get("Location"))[1]
	created, err := b.api.GetEndpoint(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []string{"order.created", "order.paid"}, created.EventTypes)
	require.Equal(t, "shop", created.Description)

	// Editing one cannot widen it either.
	resp, _ = b.post(c, root+"/endpoints/"+id, url.Values{"url": {rc.URL + "/new"}, "other_types": {"*"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	resp, _ = b.post(c, root+"/endpoints/"+id, url.Values{"url": {rc.URL + "/v2"}, "other_types": {"order.*"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	created, err = b.api.GetEndpoint(ctx, id)
	require.NoError(t, err)
	require.Equal(t, rc.URL+"/v2", created.URL)
	require.Equal(t, []string{"order.*"}, created.EventTypes)

	// A cross-site form post is refused, on the portal's own error page.
	resp, page = b.post(c, root+"/endpoints/"+id+"/disable", nil, "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, page, "came from another site")
	require.NotContains(t, page, "Sign out")
}

// The catalogue shows the event types in scope, with their schemas and
// examples, and the form offers them as choices.
func TestPortalCatalogue(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	_, err := b.api.CreateEventType(ctx, client.EventType{Name: "order.created", Description: "An order was placed.",
		Schema: json.RawMessage(`{"type": "object", "properties": {"order_id": {"type": "string"}}, "examples": [{"order_id": "ord_1"}]}`)})
	require.NoError(t, err)
	_, err = b.api.CreateEventType(ctx, client.EventType{Name: "invoice.paid", Description: "An invoice was paid."})
	require.NoError(t, err)
	c := browser(t)
	root := b.openPortal(c, client.PortalSessionCreate{EventTypes: []string{"order.*"}})

	_, page := b.get(c, root+"/event-types")
	require.Contains(t, page, "order.created")
	require.Contains(t, page, "An order was placed.")
	require.Contains(t, page, "ord_1", "the schema's example")
	require.NotContains(t, page, "invoice.paid")
	_, page = b.get(c, root+"/endpoints/new")
	require.Contains(t, page, `value="order.created"`)
	require.NotContains(t, page, "invoice.paid")
	require.NotRegexp(t, inline, page)

	resp, _ := b.post(c, root+"/endpoints", url.Values{"url": {"http://127.0.0.1:9/x"}, "event_type": {"order.created"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, page = b.get(c, strings.TrimPrefix(resp.Header.Get("Location"), b.prefix))
	require.Contains(t, page, "Endpoint created")
	secret := secretCode.FindStringSubmatch(page)[1]
	id := endpointID.FindStringSubmatch(resp.Header.Get("Location"))[1]
	_, page = b.get(c, root+"/endpoints/"+id+"/edit")
	require.Regexp(t, `value="order.created" checked`, page, "the form shows the endpoint's types")

	_, page = b.get(c, root+"/endpoints/"+id)
	require.NotContains(t, page, secret, "hidden until asked")
	_, frag := b.get(c, root+"/endpoints/"+id+"/secret")
	require.Contains(t, frag, secret)
	resp, _ = b.post(c, root+"/endpoints/"+id+"/rotate", url.Values{"grace": {"1h"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, page = b.get(c, strings.TrimPrefix(resp.Header.Get("Location"), b.prefix))
	require.NotEqual(t, secret, secretCode.FindStringSubmatch(page)[1], "a new secret, shown once")
	// A test event: of a type the endpoint receives and the portal sees.
	resp, page = b.post(c, root+"/endpoints/"+id+"/test", url.Values{"type": {"invoice.paid"}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, page, `does not receive events of type &#34;invoice.paid&#34;`)
	resp, page = b.post(c, root+"/endpoints/"+id+"/test", url.Values{"type": {"order.created"}, "data": {`{"order_id": 5}`}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "the type's schema holds: order_id is a string")
	require.Contains(t, page, "The test event was refused")
	resp, _ = b.post(c, root+"/endpoints/"+id+"/test", url.Values{"type": {"order.created"}, "data": {`{"order_id": "ord_5"}`}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	evs, err := b.api.ListEvents(ctx, client.EventListOptions{Type: "order.created"})
	require.NoError(t, err)
	require.Len(t, evs.Data, 1)
	require.Equal(t, "portal", evs.Data[0].Source)

	resp, _ = b.post(c, root+"/endpoints/"+id+"/disable", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	ep, err := b.api.GetEndpoint(ctx, id)
	require.NoError(t, err)
	require.False(t, ep.Enabled)
}
