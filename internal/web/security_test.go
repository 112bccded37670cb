package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/web"
)

// The security review's tests: every route of the dashboard and of the
// portal, taken from their route tables so a route added later is covered
// without a change here, against another tenant's ids, cross-site posts,
// injected markup, leaked secrets and redirects out of the site.

// world is a tenant's resources, one of each kind a route names, with
// markup and secrets in every field that takes text.
type world struct {
	endpoint, event, delivery, source, run, recipient string
	// secrets are values that no page may show: a source's verification
	// secret, an endpoint's header credential, a workflow step's.
	secrets []string
}

// Markup an attacker puts in every field that takes text.
const (
	xssScript = `<script>alert(1)</script>`
	xssAttr   = `"><img src=x onerror=alert(1)>`
)

// unescaped finds the markup of xssScript and xssAttr as markup, not text.
var unescaped = regexp.MustCompile(`<script>alert|<img src=x`)

// inlineTag is inline for pages that show the markup above as text: what
// the Content-Security-Policy would block, inside tags only.
var inlineTag = regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]|<script>|<style|<[a-z][^>]*\s(?:style|on[a-z]+)=`)

// requireStrict holds a page that may show xssScript and xssAttr as text
// to having them as text only, and nothing the Content-Security-Policy
// would block. Quoted attribute values are text: html/template escapes
// their quotes.
func requireStrict(t *testing.T, page, what string) {
	t.Helper()
	require.NotRegexp(t, unescaped, page, what)
	require.NotRegexp(t, inlineTag, regexp.MustCompile(`="[^"]*"`).ReplaceAllString(page, `=""`), what)
}

const (
	headerSecret   = "Bearer hdr-topsecret-42"
	workflowSecret = "Bearer wf-topsecret-42"
)

// populate fills b's default tenant with one resource of each kind a
// route names, and waits for a delivery and a run.
func populate(t *testing.T, b *bundle) world {
	t.Helper()
	ctx := context.Background()
	rc := newReceiver(t, http.StatusOK)
	w := world{secrets: []string{githubSecret, headerSecret, workflowSecret}}
	ep, err := b.api.CreateEndpoint(ctx, client.EndpointCreate{URL: rc.URL + "/orders", EventTypes: []string{"order.created"},
		Name: "orders", Description: xssScript + xssAttr, Headers: map[string]string{"Authorization": headerSecret}})
	require.NoError(t, err)
	w.endpoint = ep.ID
	w.secrets = append(w.secrets, ep.Secret)
	_, err = b.api.CreateEventType(ctx, client.EventType{Name: "order.created", Description: xssScript + xssAttr})
	require.NoError(t, err)
	saveWorkflows(t, b, `name: charge
on:
  events: ["order.created"]
steps:
  - id: charge
    http:
      url: `+rc.URL+`/charges
      headers:
        Authorization: "`+workflowSecret+`"
`)
	w.event = b.send("order.created", fmt.Sprintf(`{"id": "o-1", "note": %q, "url": "javascript:alert(1)"}`, xssScript+xssAttr))
	eventually(t, func() bool {
		ds, err := b.api.ListDeliveries(ctx, client.DeliveryListOptions{EndpointID: ep.ID, Status: client.DeliverySucceeded})
		require.NoError(t, err)
		if len(ds.Data) > 0 {
			w.delivery = ds.Data[0].ID
		}
		return w.delivery != ""
	}, "delivered")
	src := b.githubSource("github")
	w.source = src.ID
	require.Equal(t, http.StatusUnauthorized, b.postGitHub("github", "wrong", "d-1", `{"x": "`+xssAttr+`"}`))
	b.customers()
	b.customerEvent("customer.updated", "cus_1", 1, xssScript+xssAttr)
	w.run = runOf(t, b, "charge", "succeeded").ID
	seedContent(t, b)
	_, err = b.api.PutRecipient(ctx, client.Recipient{ID: "cus_x", Name: xssScript + xssAttr, Email: "x@example.com"})
	require.NoError(t, err)
	w.recipient = "cus_x"
	return w
}

// signedInWorld starts a server with a populated default tenant and a
// browser signed in to it.
func signedInWorld(t *testing.T) (*bundle, world, *http.Client) {
	t.Helper()
	b := setup(t, "")
	w := populate(t, b)
	c := b.signedIn()
	return b, w, c
}

// fill is a route's path with its parameters set to w's resources.
func (w world) fill(path string) string {
	r := strings.NewReplacer(
		"/endpoints/{id}", "/endpoints/"+w.endpoint,
		"/events/{id}", "/events/"+w.event,
		"/deliveries/{id}", "/deliveries/"+w.delivery,
		"/sources/{id}", "/sources/"+w.source,
		"/event-types/{name}", "/event-types/order.created",
		"/workflows/{name}", "/workflows/charge",
		"/runs/{id}", "/runs/"+w.run,
		"/collections/{name}", "/collections/customers",
		"/records/{key...}", "/records/cus_1",
		"/templates/{name}", "/templates/order-shipped",
		"/recipients/{id}", "/recipients/"+w.recipient,
		"{$}", "",
	)
	return r.Replace(path)
}

// notAllowed is the form a route's POST is sent with: enough to change
// something if it were let through.
var notAllowed = url.Values{"url": {"https://example.com/x"}, "event_type": {"order.created"}, "other_types": {"order.created"},
	"type": {"order.created"}, "since": {"2020-01-01T00:00"}, "grace": {"0s"}, "api_key": {"hk_x"},
	"yaml": {"name: x\non:\n  events: [a.b]\nsteps:\n  - id: s\n    set: {a: 1}\n"}}

// snapshot is what a request could change, read through the API.
func snapshot(t *testing.T, c *client.Client) string {
	t.Helper()
	ctx := context.Background()
	eps, err := c.ListEndpoints(ctx, client.ListOptions{})
	require.NoError(t, err)
	evs, err := c.ListEvents(ctx, client.EventListOptions{})
	require.NoError(t, err)
	ds, err := c.ListDeliveries(ctx, client.DeliveryListOptions{})
	require.NoError(t, err)
	runs, err := c.ListRuns(ctx, client.RunListOptions{})
	require.NoError(t, err)
	out, err := json.Marshal([]any{eps.Data, len(evs.Data), ds.Data, runs.Data})
	require.NoError(t, err)
	return string(out)
}

// Every route that changes something refuses a cross-site post, and a
// post whose Origin is another host, and changes nothing; every GET
// changes nothing either.
func TestSecurityEveryRoute(t *testing.T) {
	t.Parallel()
	b, w, c := signedInWorld(t)
	root := b.openPortal(browser(t), client.PortalSessionCreate{EventTypes: []string{"order.*"}})
	before := snapshot(t, b.api)

	type target struct{ method, path string }
	var all []target
	for _, rt := range web.Routes() {
		if strings.HasSuffix(rt.Path, "/stream") {
			continue // endless; TestSecurityOtherTenant opens them
		}
		all = append(all, target{rt.Method, w.fill(rt.Path)})
	}
	for _, rt := range web.PortalRoutes() {
		all = append(all, target{rt.Method, root + w.fill(rt.Path)})
	}
	posts := 0
	for _, tg := range all {
		if tg.method == http.MethodGet {
			resp, page := b.get(c, tg.path)
			require.Less(t, resp.StatusCode, 500, "%s %s: %s", tg.method, tg.path, page)
			requireStrict(t, page, tg.path)
			continue
		}
		posts++
		for _, hd := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "same-site"},
			{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}, {"Sec-Fetch-Site", "", "Origin", "null"}} {
			resp, page := b.post(c, tg.path, notAllowed, hd...)
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s with %v", tg.method, tg.path, hd)
			require.Contains(t, page, "came from another site", tg.path)
			require.Empty(t, resp.Header.Get("Set-Cookie"), tg.path)
		}
	}
	require.Greater(t, posts, 20, "the route tables were read")
	require.Equal(t, before, snapshot(t, b.api), "neither the GETs nor the refused posts changed anything")
}

// A tenant's ids are 404 to another tenant on every route that names
// one, and nothing of theirs changes.
func TestSecurityOtherTenant(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	w := populate(t, b)
	c, _ := b.otherTenant()
	before := snapshot(t, b.api)

	for _, rt := range web.Routes() {
		if !strings.Contains(rt.Path, "{") || rt.Path == "/{$}" {
			continue
		}
		path := w.fill(rt.Path)
		if rt.Method == http.MethodPost && (rt.Path == "/workflows/{name}" || strings.HasPrefix(rt.Path, "/templates/")) {
			// Saving a workflow by name makes the signed-in tenant's own;
			// a preview of a name it does not have is its own 404.
			resp, page := b.post(c, path, notAllowed)
			require.NotEqual(t, http.StatusOK, resp.StatusCode, path)
			require.NotContains(t, page, "Hi ", path)
			continue
		}
		var resp *http.Response
		var page string
		if rt.Method == http.MethodGet {
			resp, page = b.get(c, path)
		} else {
			resp, page = b.post(c, path, notAllowed)
		}
		if rt.Path == "/event-types/{name}" {
			// A type's page is its catalogue entry and its events: the
			// other tenant's catalogue has no order.created.
			require.NotContains(t, page, "alert(1)", path)
			require.NotContains(t, page, w.event, path)
			continue
		}
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s %s: %s", rt.Method, path, page)
	}
	require.Equal(t, before, snapshot(t, b.api), "nothing of the first tenant changed")
}

// No page shows a secret: a source's verification secret, an endpoint's
// header credentials, a workflow step's headers, or (unless asked for
// with Show secret) an endpoint's signing secret. Every page escapes the
// markup stored in names, descriptions, payloads and headers.
func TestSecurityNoSecretsNoMarkup(t *testing.T) {
	t.Parallel()
	b, w, c := signedInWorld(t)
	pc := browser(t)
	root := b.openPortal(pc, client.PortalSessionCreate{EventTypes: []string{"order.*"}, Label: xssScript + xssAttr})

	// Every page reachable by links, operator's and portal's.
	crawl := func(c *http.Client, start string, within string) map[string]string {
		pages := map[string]string{}
		queue := []string{start}
		href := regexp.MustCompile(`href="([^"#]+)"`)
		for len(queue) > 0 && len(pages) < 150 {
			p := queue[0]
			queue = queue[1:]
			if _, ok := pages[p]; ok {
				continue
			}
			resp, page := b.get(c, p)
			require.Less(t, resp.StatusCode, 500, p)
			pages[p] = page
			for _, m := range href.FindAllStringSubmatch(page, -1) {
				link := strings.ReplaceAll(m[1], "&amp;", "&")
				if strings.HasPrefix(link, within) && !strings.Contains(link, "/static/") && !strings.Contains(link, "/stream") &&
					!strings.Contains(link, "/signout") {
					if _, ok := pages[link]; !ok {
						queue = append(queue, link)
					}
				}
			}
		}
		return pages
	}
	pages := crawl(c, "/", "/")
	for p, page := range crawl(pc, root+"/endpoints", root) {
		pages["portal "+p] = page
	}
	require.Contains(t, pages, "/runs/"+w.run)
	require.Contains(t, pages, "/deliveries/"+w.delivery)
	require.Contains(t, pages, "portal "+root+"/deliveries/"+w.delivery)
	require.Greater(t, len(pages), 30)
	for p, page := range pages {
		requireStrict(t, page, p)
		require.NotContains(t, page, `href="javascript:`, p)
		for _, sec := range w.secrets {
			if strings.HasSuffix(p, "/secret") && sec == w.secrets[len(w.secrets)-1] {
				continue // Show secret, asked for
			}
			if strings.HasPrefix(p, "/workflows/charge") && sec == workflowSecret {
				// The editor shows the document as saved: its author's.
				continue
			}
			require.NotContains(t, page, sec, p)
		}
	}
	// The portal's label is the customer's name, escaped.
	require.Contains(t, pages["portal "+root+"/endpoints"], "&lt;script&gt;alert(1)&lt;/script&gt;")
}

// A post-sign-in destination never leads off the site, whatever a link's
// next says, and signing in or out from another site is refused.
func TestSecurityNoOpenRedirect(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	for _, next := range []string{"//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example/", "/\t/evil.example",
		"/\n/evil.example", "/\r/evil.example", "/ /evil.example", "/\x00/evil.example", "/\x0b/evil.example", "javascript:alert(1)",
		"/%2F/evil.example", "/.//evil.example", "/\u2028/evil.example", "evil.example"} {
		c := browser(t)
		_, page := b.get(c, "/signin?next="+url.QueryEscape(next))
		kept := regexp.MustCompile(`name="next" value="([^"]*)"`).FindStringSubmatch(page)
		require.NotNil(t, kept, "%q", next)
		requireOnSite(t, html.UnescapeString(kept[1]), "the form's next for %q", next)
		resp, _ := b.post(c, "/signin", url.Values{"api_key": {b.key}, "next": {next}})
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, "%q", next)
		requireOnSite(t, resp.Header.Get("Location"), "next %q", next)
	}
	c := b.signedIn()
	resp, _ := b.post(c, "/signout", nil, "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "no sign-out CSRF")
	resp, _ = b.get(c, "/")
	require.Equal(t, http.StatusOK, resp.StatusCode, "still signed in")
}

// portalHeaders holds an answer of the portal to what every one of them
// has: no Referer, framing by the allowed sites only, no cookie.
func portalHeaders(t *testing.T, resp *http.Response, what string) {
	t.Helper()
	require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"), what)
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'self'", what)
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), what)
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), what)
	require.Empty(t, resp.Header.Values("Set-Cookie"), what)
}

// A portal session's token opens its own pages and nothing else: not the
// operator's pages, not the API, not with a token of another shape; and
// every answer under the portal's path, errors included, sends no Referer
// and may be framed only by the allowed sites.
func TestSecurityPortalTokens(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	w := populate(t, b)
	ctx := context.Background()
	c := browser(t)
	root := b.openPortal(c, client.PortalSessionCreate{EventTypes: []string{"order.*"}})
	token := strings.TrimPrefix(root, "/portal/s/")
	unopened, err := b.api.CreatePortalSession(ctx, client.PortalSessionCreate{})
	require.NoError(t, err)
	link := strings.TrimPrefix(unopened.URL, b.url)
	linkToken := strings.TrimPrefix(link, "/portal/open/")

	// The session's pages, by every route, and what is not a route.
	for _, rt := range web.PortalRoutes() {
		path := root + w.fill(rt.Path)
		var resp *http.Response
		if rt.Method == http.MethodGet {
			resp, _ = b.get(c, path)
		} else {
			resp, _ = b.post(c, path, url.Values{"type": {"order.created"}}, "Sec-Fetch-Site", "cross-site")
		}
		portalHeaders(t, resp, rt.Method+" "+path)
	}
	// The token with its first character changed to another of the
	// alphabet ('A' or 'B': a token starting with 'A' gave '@', and 'A'
	// again, the token itself, which opened its session).
	altered := []byte(token)
	altered[0] ^= 1
	if !regexp.MustCompile(`[A-Za-z0-9_-]`).Match(altered[:1]) {
		altered[0] = 'A'
		if token[0] == 'A' {
			altered[0] = 'B'
		}
	}
	require.NotEqual(t, token, string(altered))
	for _, path := range []string{
		root + "/nope", root + "/endpoints/" + w.endpoint + "/nope", root + "/static/style.css",
		"/portal/s/" + token[:42] + "/endpoints", "/portal/s/" + token + "A/endpoints", "/portal/s/" + string(altered) + "/endpoints",
		"/portal/s/" + linkToken + "/endpoints", // a link is not a session
		"/portal/open/" + token,                 // nor a session a link
		"/portal/", "/portal/s/", "/portal/open/", "/portal/x",
	} {
		resp, page := b.get(c, path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		portalHeaders(t, resp, path)
		require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"), "the portal's page, not the API's JSON: %s", path)
		require.NotContains(t, page, token, "no token echoed: %s", path)
	}
	// A method a route does not take.
	for _, path := range []string{root + "/event-types", root + "/endpoints/" + w.endpoint + "/secret"} {
		resp, _ := b.post(c, path, nil)
		require.Contains(t, []int{http.StatusNotFound, http.StatusMethodNotAllowed}, resp.StatusCode, path)
		portalHeaders(t, resp, "POST "+path)
	}
	// The unopened link still opens: none of the above used it up.
	resp, _ := b.get(browser(t), link)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	portalHeaders(t, resp, link)
	resp, _ = b.get(browser(t), link)
	require.Equal(t, http.StatusGone, resp.StatusCode)
	portalHeaders(t, resp, "reused "+link)

	// The token is no API key, and no sign-in to the operator's pages.
	for _, tok := range []string{token, linkToken} {
		_, err := client.New(b.url, tok).ListEndpoints(ctx, client.ListOptions{})
		var apiErr *client.Error
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, http.StatusUnauthorized, apiErr.Status)
		resp, _ := b.post(browser(t), "/signin", url.Values{"api_key": {tok}})
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	for _, rt := range web.Routes() {
		if rt.Method != http.MethodGet || rt.Path == "/signin" {
			continue
		}
		resp, _ := b.get(c, w.fill(rt.Path))
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the portal's client is not signed in: %s", rt.Path)
		require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/signin?"), rt.Path)
	}
	// An operator's cookie opens no portal session, and widens none.
	op := b.signedIn()
	outside := b.endpoint(client.EndpointCreate{URL: "http://127.0.0.1:9/inv", EventTypes: []string{"invoice.*"}})
	for _, path := range []string{"/portal/s/" + strings.Repeat("A", 43) + "/endpoints", root + "/endpoints/" + outside.ID,
		root + "/deliveries?endpoint=" + outside.ID} {
		resp, _ := b.get(op, path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		portalHeaders(t, resp, path)
	}
	_, page := b.get(op, root+"/endpoints")
	require.NotContains(t, page, outside.ID)
	require.NotContains(t, page, "Sign out", "the portal's page, whoever is signed in")

	// No portal page links to the operator's.
	for _, p := range []string{"/endpoints", "/endpoints/" + w.endpoint, "/deliveries", "/deliveries/" + w.delivery, "/event-types", "/endpoints/new"} {
		_, page := b.get(c, root+p)
		for _, m := range regexp.MustCompile(`(?:href|action|hx-get|hx-post)="([^"]*)"`).FindAllStringSubmatch(page, -1) {
			require.True(t, strings.HasPrefix(m[1], root) || strings.HasPrefix(m[1], "/static/") || strings.HasPrefix(m[1], "#"),
				"%s links to %s", p, m[1])
		}
	}
}

// A session scoped to order.* can neither see nor make an endpoint that
// receives more: each trick a pattern list could play is refused, and
// the refused form changes nothing.
func TestSecurityPortalScopeTricks(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	c := browser(t)
	root := b.openPortal(c, client.PortalSessionCreate{EventTypes: []string{"order.*"}})
	_, err := b.api.CreateEventType(ctx, client.EventType{Name: "invoice.paid"})
	require.NoError(t, err)
	mine := b.endpoint(client.EndpointCreate{URL: "http://127.0.0.1:9/mine", EventTypes: []string{"order.created"}})
	before := snapshot(t, b.api)

	many := make([]string, 150)
	for i := range many {
		many[i] = fmt.Sprintf("order.t%d", i)
	}
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"star", url.Values{"other_types": {"*"}}},
		{"double star", url.Values{"other_types": {"**"}}},
		{"deeper", url.Values{"other_types": {"order.**"}}},
		{"longer", url.Values{"other_types": {"order.*.x"}}},
		{"other root", url.Values{"other_types": {"*.created"}}},
		{"prefix only", url.Values{"other_types": {"order"}}},
		{"case", url.Values{"other_types": {"Order.created"}}},
		{"mixed", url.Values{"other_types": {"order.created, invoice.paid"}}},
		{"a checkbox outside", url.Values{"event_type": {"invoice.paid"}}},
		{"empty is every type", url.Values{"other_types": {""}}},
		{"separators only", url.Values{"other_types": {" , \n\t,"}}},
		{"long", url.Values{"other_types": {"order." + strings.Repeat("a", 5000)}}},
		{"many", url.Values{"other_types": {strings.Join(many, ",")}}},
		{"bad pattern", url.Values{"other_types": {"order.<b>"}}},
		{"javascript url", url.Values{"url": {"javascript:alert(1)"}, "other_types": {"order.created"}}},
		{"data url", url.Values{"url": {"data:text/html,<script>alert(1)</script>"}, "other_types": {"order.created"}}},
	} {
		for _, path := range []string{"/endpoints", "/endpoints/" + mine.ID} {
			form := url.Values{"url": {"http://127.0.0.1:9/x"}}
			for k, v := range tc.form {
				form[k] = v
			}
			resp, page := b.post(c, root+path, form)
			require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%s %s: %s", tc.name, path, page)
			portalHeaders(t, resp, tc.name)
			require.NotRegexp(t, unescaped, page, tc.name)
		}
	}
	// A body over the limit is refused before it is read.
	resp, _ := b.post(c, root+"/endpoints", url.Values{"url": {"http://127.0.0.1:9/x"}, "other_types": {strings.Repeat("order.a,", 20000)}})
	require.GreaterOrEqual(t, resp.StatusCode, 400)
	require.Less(t, resp.StatusCode, 500)
	require.Equal(t, before, snapshot(t, b.api), "no refused form changed anything")

	// A test event of a type outside the scope, or an endpoint's type
	// outside it, is refused.
	for _, typ := range []string{"invoice.paid", "order.updated", "", "*"} {
		resp, _ := b.post(c, root+"/endpoints/"+mine.ID+"/test", url.Values{"type": {typ}})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, typ)
	}
	require.Equal(t, before, snapshot(t, b.api))
}

// requireOnSite holds a link or Location to a path of the site as a
// browser reads it: without control characters (it drops tabs and
// newlines), without backslashes (it reads them as slashes), resolved
// against a page of the site.
func requireOnSite(t *testing.T, loc string, msg string, args ...any) {
	t.Helper()
	require.NotRegexp(t, `[\x00-\x1f\x7f\\]`, loc, append([]any{msg}, args...)...)
	page, err := url.Parse("http://hookline.test/signin")
	require.NoError(t, err)
	to, err := page.Parse(loc)
	require.NoError(t, err, append([]any{msg}, args...)...)
	require.Equal(t, "hookline.test", to.Host, append([]any{msg}, args...)...)
}
