package web_test

import (
	"context"
	"encoding/json"
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

func TestSignInAndOut(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	c := browser(t)

	resp, _ := b.get(c, "/endpoints?status=x")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "signed out: to the sign-in page")
	require.Equal(t, "/signin?next=%2Fendpoints%3Fstatus%3Dx", resp.Header.Get("Location"))

	resp, page := b.post(c, "/signin", url.Values{"api_key": {"hk_not_a_key"}})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, page, "That API key is not valid")
	require.Empty(t, resp.Cookies())

	resp, _ = b.post(c, "/signin", url.Values{"api_key": {b.key}, "next": {"/endpoints?status=x"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/endpoints?status=x", resp.Header.Get("Location"), "back where the user was going")
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	ck := cookies[0]
	require.Equal(t, "hookline_session", ck.Name)
	require.True(t, ck.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, ck.SameSite)
	require.False(t, ck.Secure, "plain HTTP: a Secure cookie would not come back")
	require.Equal(t, "/", ck.Path)
	require.Equal(t, int((12 * time.Hour).Seconds()), ck.MaxAge)
	require.NotContains(t, ck.Value, b.key)
	require.NotContains(t, ck.Value, strings.TrimPrefix(b.key, "hk_"), "the cookie does not hold the key")

	resp, page = b.get(c, "/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, "Overview")
	require.Contains(t, page, `<span class="tenant" title="Tenant">default</span>`)

	// A copy of the cookie, taken before signing out (another tab, a
	// stolen one), is ended with it.
	copied := browser(t)
	u, err := url.Parse(b.base + "/")
	require.NoError(t, err)
	copied.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
	resp, _ = b.get(copied, "/")
	require.Equal(t, http.StatusOK, resp.StatusCode)

	resp, _ = b.post(c, "/signout", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, _ = b.get(c, "/")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "signed out")
	resp, _ = b.get(copied, "/")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the copy is signed out too")

	// An open redirect is refused: next stays on the dashboard.
	resp, _ = b.post(c, "/signin", url.Values{"api_key": {b.key}, "next": {"//evil.example/x"}})
	require.Equal(t, "/", resp.Header.Get("Location"))
}

// A forged cookie, or one sealed for another server, is no session.
func TestForgedCookieIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	other := setup(t, "")
	c := browser(t)
	other.signIn(c, other.key)
	u, err := url.Parse(other.url)
	require.NoError(t, err)
	sealed := c.Jar.Cookies(u)
	require.Len(t, sealed, 1)

	for _, value := range []string{sealed[0].Value, "x", strings.Repeat("A", 200)} {
		req, err := http.NewRequest(http.MethodGet, b.url+"/", nil)
		require.NoError(t, err)
		req.AddCookie(&http.Cookie{Name: "hookline_session", Value: value})
		resp, err := browser(t).Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, value)
		require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/signin"), value)
	}
}

// Deleting the key a session was opened with ends the session.
func TestDeletedKeyEndsSession(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	c, k := b.signedInWithNewKey()
	resp, _ := b.get(c, "/endpoints")
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.NoError(t, b.api.DeleteAPIKey(ctx, k.ID))
	resp, _ = b.get(c, "/endpoints")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	resp, page := b.post(c, "/endpoints", url.Values{"url": {"https://example.com"}})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, page, "Your session ended")
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	t.Parallel()
	b, c := setupSignedIn(t)
	form := url.Values{"url": {"https://example.com/hook"}}
	resp, page := b.post(c, "/endpoints", form, "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Contains(t, page, "came from another site")
	resp, _ = b.post(c, "/endpoints", form, "Sec-Fetch-Site", "", "Origin", "https://evil.example")
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, _ = b.post(c, "/signin", url.Values{"api_key": {b.key}}, "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "no login CSRF either")

	eps, err := b.api.ListEndpoints(context.Background(), client.ListOptions{})
	require.NoError(t, err)
	require.Empty(t, eps.Data, "nothing was created")
}

// inline finds what the Content-Security-Policy would block: a script
// without src, a style element or attribute, an event handler attribute.
var inline = regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]|<script>|<style|\sstyle=|\son[a-z]+=`)

func TestPagesAreStrict(t *testing.T) {
	t.Parallel()
	b, c := setupSignedIn(t)
	ep, err := b.api.CreateEndpoint(context.Background(), client.EndpointCreate{URL: "http://127.0.0.1:9/x", EventTypes: []string{"a.b"}})
	require.NoError(t, err)
	ev, err := b.api.SendEvent(context.Background(), client.EventCreate{Type: "a.b", Data: json.RawMessage(`{"x": "<script>alert(1)</script>"}`)})
	require.NoError(t, err)
	for _, path := range []string{"/", "/signin", "/endpoints", "/endpoints/new", "/endpoints/" + ep.ID, "/endpoints/" + ep.ID + "/edit",
		"/endpoints/" + ep.ID + "/secret", "/events", "/events/" + ev.ID, "/deliveries", "/endpoints/ep_nope"} {
		resp, page := b.get(c, path)
		require.Contains(t, []int{200, 404}, resp.StatusCode, path)
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'", path)
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'", path)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), path)
		require.NotRegexp(t, inline, page, path)
		require.NotContains(t, page, "<script>alert(1)", path)
	}
	resp, _ := b.get(c, "/static/htmx.min.js")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "javascript")
}

// A tenant's dashboard shows its own resources only.
func TestOtherTenantIsNotReachable(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	other, err := b.api.CreateTenant(ctx, client.TenantCreate{Name: "other"})
	require.NoError(t, err)
	mine := b.endpoint(client.EndpointCreate{URL: "http://127.0.0.1:9/mine", Name: "mine"})
	ev := b.send("a.b", `{}`)

	c := browser(t)
	b.signIn(c, other.APIKey.Key)
	_, page := b.get(c, "/")
	require.Contains(t, page, ">other</span>")
	_, page = b.get(c, "/endpoints")
	require.NotContains(t, page, mine.ID)
	require.Contains(t, page, "No endpoints yet")
	for _, path := range []string{"/endpoints/" + mine.ID, "/endpoints/" + mine.ID + "/secret", "/events/" + ev} {
		resp, _ := b.get(c, path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
	for _, path := range []string{"/endpoints/" + mine.ID + "/disable", "/endpoints/" + mine.ID + "/rotate", "/events/" + ev + "/replay"} {
		resp, _ := b.post(c, path, nil)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
	got, err := b.api.GetEndpoint(ctx, mine.ID)
	require.NoError(t, err)
	require.True(t, got.Enabled, "untouched")
}

func TestPrefixAndOff(t *testing.T) {
	t.Parallel()
	ui := setup(t, "/ui")
	c := browser(t)
	resp, err := c.Get(ui.url + "/ui")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "/ui/", resp.Header.Get("Location"))
	resp, _ = ui.get(c, "/")
	require.Equal(t, "/ui/signin?next=%2F", resp.Header.Get("Location"))
	resp, _ = ui.post(c, "/signin", url.Values{"api_key": {ui.key}})
	require.Equal(t, "/ui/", resp.Header.Get("Location"))
	require.Equal(t, "/ui/", resp.Cookies()[0].Path)
	_, page := ui.get(c, "/endpoints")
	require.Contains(t, page, `href="/ui/endpoints/new"`)
	root, err := c.Get(ui.url + "/")
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, root.StatusCode, "the root is the API's 404 again")
	require.Contains(t, body(t, root), `"not_found"`)

	off := setup(t, "off")
	for _, path := range []string{"/", "/signin", "/static/style.css"} {
		resp, err := c.Get(off.url + path)
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		require.Contains(t, body(t, resp), `"not_found"`, path)
	}
}

// receiver is an httptest server answering with status (settable) and
// counting requests.
type receiver struct {
	*httptest.Server
	status atomic.Int32
	hits   atomic.Int32
}

func newReceiver(t *testing.T, status int) *receiver {
	rc := &receiver{}
	rc.status.Store(int32(status))
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(rc.status.Load()))
		_, _ = w.Write([]byte(`{"received": true}`))
	}))
	t.Cleanup(rc.Close)
	return rc
}

var (
	endpointID = regexp.MustCompile(`/endpoints/(ep_[0-9a-z]+)`)
	deliveryID = regexp.MustCompile(`/deliveries/(dlv_[0-9a-z]+)`)
	secretCode = regexp.MustCompile(`<code id="secret-value">([^<]+)</code>`)
)

// eventually polls cond every 20 ms until it holds or 10 s pass.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 20*time.Millisecond, msg)
}

// TestEndpointLifecycle drives the endpoint pages as a browser without
// JavaScript does: create (a refused URL first), see the secret once,
// send a test event, read the delivery and its attempt, retry it,
// rotate the secret, disable and enable.
func TestEndpointLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	rc := newReceiver(t, http.StatusInternalServerError)
	c := b.signedIn()

	resp, page := b.post(c, "/endpoints", url.Values{"url": {"ftp://x"}, "event_types": {"order.created"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, page, "url:")
	require.Contains(t, page, `aria-invalid="true"`)
	require.Contains(t, page, `value="order.created"`, "the form keeps what was typed")

	resp, _ = b.post(c, "/endpoints", url.Values{"url": {rc.URL + "/hook"}, "name": {"shop"}, "event_types": {"order.created, order.paid"}, "enabled": {"1"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc := resp.Header.Get("Location")
	id := endpointID.FindStringSubmatch(loc)[1]
	_, page = b.get(c, strings.TrimPrefix(loc, b.prefix))
	require.Contains(t, page, "Endpoint created")
	secret := secretCode.FindStringSubmatch(page)[1]
	require.True(t, strings.HasPrefix(secret, "whsec_"))
	ep, err := b.api.GetEndpoint(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []string{"order.created", "order.paid"}, ep.EventTypes)
	require.True(t, ep.Enabled)

	_, page = b.get(c, "/endpoints/"+id)
	require.NotContains(t, page, secret, "the secret is hidden until asked")
	resp, frag := b.get(c, "/endpoints/"+id+"/secret")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, frag, secret)

	other := b.endpoint(client.EndpointCreate{URL: rc.URL + "/other", EventTypes: []string{"order.paid"}})
	resp, _ = b.post(c, "/endpoints/"+id+"/test", url.Values{"type": {"order.paid"}, "data": {`{"order": 7}`}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	elsewhere, err := b.api.ListDeliveries(ctx, client.DeliveryListOptions{EndpointID: other.ID})
	require.NoError(t, err)
	require.Empty(t, elsewhere.Data, "a test event goes to its endpoint only")
	eventually(t, func() bool { return rc.hits.Load() >= 1 }, "the test event is delivered")
	var dlv string
	eventually(t, func() bool {
		_, page = b.get(c, "/deliveries?endpoint="+id+"&status=retrying")
		m := deliveryID.FindStringSubmatch(page)
		if m != nil {
			dlv = m[1]
		}
		return m != nil
	}, "the failed attempt leaves the delivery retrying")

	_, page = b.get(c, "/deliveries/"+dlv)
	require.Contains(t, page, "Attempt 1")
	require.Contains(t, page, `<span class="badge b-bad">http 500</span>`)
	require.Contains(t, page, `<span class="j-key">&#34;order&#34;</span><span class="j-p">: </span><span class="j-num">7</span>`, "the request body, formatted")
	require.Contains(t, page, "<dt>Webhook-Signature</dt><dd>redacted</dd>")
	require.Contains(t, page, `<span class="j-key">&#34;received&#34;</span><span class="j-p">: </span><span class="j-bool">true</span>`, "the response body")

	rc.status.Store(http.StatusOK)
	resp, _ = b.post(c, "/deliveries/"+dlv+"/retry", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	eventually(t, func() bool {
		_, page = b.get(c, "/deliveries/"+dlv)
		return strings.Contains(page, `<dd id="delivery-status"><span class="badge b-ok">succeeded</span>`)
	}, "the retry succeeds")
	require.Contains(t, page, "Attempt 2")

	resp, _ = b.post(c, "/endpoints/"+id+"/rotate", url.Values{"grace": {"1h"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	_, page = b.get(c, strings.TrimPrefix(resp.Header.Get("Location"), b.prefix))
	next := secretCode.FindStringSubmatch(page)[1]
	require.NotEqual(t, secret, next)
	resp, _ = b.post(c, "/endpoints/"+id+"/rotate", url.Values{"grace": {"9000h"}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)

	resp, _ = b.post(c, "/endpoints/"+id+"/disable", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	ep, err = b.api.GetEndpoint(ctx, id)
	require.NoError(t, err)
	require.False(t, ep.Enabled)
	_, page = b.get(c, "/")
	require.Contains(t, page, "<h3>Disabled</h3>")
	resp, _ = b.post(c, "/endpoints/"+id+"/enable", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	ep, err = b.api.GetEndpoint(ctx, id)
	require.NoError(t, err)
	require.True(t, ep.Enabled)

	resp, _ = b.post(c, "/endpoints/"+id, url.Values{"url": {rc.URL + "/v2"}, "name": {"shop"}, "event_types": {"order.*"}, "enabled": {"1"}, "timeout": {"10s"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	ep, err = b.api.GetEndpoint(ctx, id)
	require.NoError(t, err)
	require.Equal(t, rc.URL+"/v2", ep.URL)
	require.Equal(t, []string{"order.*"}, ep.EventTypes)
	require.Equal(t, "10s", ep.Timeout)
}

// Lists page by cursor with their filters kept in the query string.
func TestListsPageByCursor(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	evs := make([]client.EventCreate, 120)
	for i := range evs {
		evs[i] = client.EventCreate{Type: "page.test", Data: json.RawMessage(`{}`)}
	}
	_, err := b.api.SendEvents(ctx, client.EventBatch{Events: evs})
	require.NoError(t, err)
	b.send("other.type", `{}`)
	c := b.signedIn()

	seen := map[string]bool{}
	path := "/events?type=page.test"
	eventRow := regexp.MustCompile(`href="/events/(evt_[0-9a-z]+)"`)
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	for pages := 0; path != ""; pages++ {
		require.Less(t, pages, 3)
		_, page := b.get(c, path)
		for _, m := range eventRow.FindAllStringSubmatch(page, -1) {
			require.False(t, seen[m[1]], "no event twice")
			seen[m[1]] = true
		}
		require.NotContains(t, page, "other.type")
		path = ""
		if m := next.FindStringSubmatch(page); m != nil {
			path = strings.TrimPrefix(strings.ReplaceAll(m[1], "&amp;", "&"), b.prefix)
			require.Contains(t, path, "type=page.test", "the filter stays")
		}
	}
	require.Len(t, seen, 120)

	resp, page := b.get(c, "/events?cursor=dlv_nope")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, page, "cursor")
	_, page = b.get(c, "/events?type=nothing.here")
	require.Contains(t, page, "No event matches these filters")
}

// Replay sends an event again; recover needs a time and queues the
// endpoint's failed deliveries.
func TestReplayAndRecover(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	rc := newReceiver(t, http.StatusOK)
	ep := b.endpoint(client.EndpointCreate{URL: rc.URL, EventTypes: []string{"a.b"}})
	ev := b.send("a.b", `{"n": 1}`)
	eventually(t, func() bool { return rc.hits.Load() == 1 }, "delivered once")

	c := b.signedIn()
	_, page := b.get(c, "/events/"+ev)
	require.Contains(t, page, `<span class="j-key">&#34;n&#34;</span><span class="j-p">: </span><span class="j-num">1</span>`, "the payload, highlighted")
	require.Contains(t, page, `href="/endpoints/`+ep.ID+`"`, "its delivery is listed")
	resp, _ := b.post(c, "/events/"+ev+"/replay", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/events/"+ev+"?done=replayed", resp.Header.Get("Location"))
	eventually(t, func() bool { return rc.hits.Load() == 2 }, "delivered again")

	resp, page = b.post(c, "/endpoints/"+ep.ID+"/recover", url.Values{"since": {""}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, page, "Say since when")
	resp, _ = b.post(c, "/endpoints/"+ep.ID+"/recover", url.Values{"since": {"2026-01-02T15:04"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/endpoints/"+ep.ID+"?done=recovered", resp.Header.Get("Location"))

	resp, _ = b.get(c, "/events?id="+ev)
	require.Equal(t, "/events/"+ev, resp.Header.Get("Location"), "an id jumps to its event")
	resp, _ = b.get(c, "/events?id=nope")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestOverviewCountsTheHour(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ok, gone := newReceiver(t, http.StatusOK), newReceiver(t, http.StatusGone)
	b.endpoint(client.EndpointCreate{URL: ok.URL, EventTypes: []string{"a.b"}})
	b.endpoint(client.EndpointCreate{URL: gone.URL, EventTypes: []string{"c.d"}})
	for _, typ := range []string{"a.b", "a.b", "a.b", "c.d"} {
		b.send(typ, `{}`)
	}
	c := b.signedIn()
	// 410 Gone fails a delivery for good at once and disables the
	// endpoint, which is announced by a fifth event.
	eventually(t, func() bool {
		_, page := b.get(c, "/")
		return strings.Contains(page, "5 events accepted, 3 deliveries succeeded, 1 failed.")
	}, "the chart counts the hour")
	_, page := b.get(c, "/")
	require.Contains(t, page, "accepted: 5</li>")
	require.Contains(t, page, "failed: 1</li>")
}
