package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/app/apptest"
	"github.com/hookline/hookline/internal/config"
)

// bundle is a running Hookline server on SQLite in a temporary directory,
// with its admin key, an API client, and a browser-like HTTP client that
// keeps cookies and does not follow redirects.
type bundle struct {
	t      *testing.T
	url    string // the server's root
	base   string // the dashboard's root: url and the prefix
	key    string
	api    *client.Client
	http   *http.Client
	prefix string
}

var keyPattern = regexp.MustCompile(`hk_[A-Za-z0-9_-]+`)

// setup starts a server with the dashboard at dashboard ("/" when empty)
// that may deliver to loopback receivers.
func setup(t *testing.T, dashboard string) *bundle {
	t.Helper()
	return setupWith(t, func(cfg *config.Config) {
		if dashboard != "" {
			cfg.Dashboard = dashboard
		}
	})
}

// setupSignedIn starts a server with the dashboard at "/" and returns it
// with a browser signed in with the admin key.
func setupSignedIn(t *testing.T) (*bundle, *http.Client) {
	t.Helper()
	b := setup(t, "")
	return b, b.signedIn()
}

// setupWith starts a server configured by change.
func setupWith(t *testing.T, change func(*config.Config)) *bundle {
	t.Helper()
	return setupApp(t, func(cfg *config.Config, _ *app.Options) { change(cfg) })
}

// setupApp starts a server configured by change, its options too (a
// clock).
func setupApp(t *testing.T, change func(*config.Config, *app.Options)) *bundle {
	t.Helper()
	cfg := apptest.Config(t)
	cfg.AllowPrivateNetworks = true
	opts := app.Options{PollInterval: 20 * time.Millisecond}
	change(&cfg, &opts)
	var out bytes.Buffer
	opts.Out = &out
	a := apptest.Run(t, cfg, opts)
	b := &bundle{t: t, url: "http://" + a.Addr(), key: keyPattern.FindString(out.String())}
	require.NotEmpty(t, b.key)
	b.prefix = strings.TrimSuffix(cfg.Dashboard, "/")
	b.base = b.url + b.prefix
	b.api = client.New(b.url, b.key)
	b.http = browser(t)
	return b
}

// withKey is the same server seen with another API key.
func (b *bundle) withKey(key string) *bundle {
	other := *b
	other.key, other.api = key, client.New(b.url, key)
	return &other
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see them.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get fetches a dashboard path and returns the answer and its body.
func (b *bundle) get(c *http.Client, path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := c.Get(b.base + path)
	require.NoError(b.t, err)
	return resp, body(b.t, resp)
}

// post submits a form to a dashboard path as a same-origin browser does.
func (b *bundle) post(c *http.Client, path string, form url.Values, headers ...string) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	require.NoError(b.t, err)
	return resp, body(b.t, resp)
}

// signIn signs c in with key and checks it lands on the overview.
func (b *bundle) signIn(c *http.Client, key string) {
	b.t.Helper()
	resp, _ := b.post(c, "/signin", url.Values{"api_key": {key}, "next": {"/"}})
	require.Equal(b.t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(b.t, b.prefix+"/", resp.Header.Get("Location"))
}

// signedIn is a browser signed in with the admin key.
func (b *bundle) signedIn() *http.Client {
	b.t.Helper()
	c := browser(b.t)
	b.signIn(c, b.key)
	return c
}

// signedInWithNewKey creates an API key and returns a browser signed in
// with it, and the key (to delete it and see the session end).
func (b *bundle) signedInWithNewKey() (*http.Client, *client.APIKey) {
	b.t.Helper()
	k, err := b.api.CreateAPIKey(context.Background(), client.APIKeyCreate{Name: "browser"})
	require.NoError(b.t, err)
	c := browser(b.t)
	b.signIn(c, k.Key)
	return c, k
}

// otherTenant creates the tenant "other" and returns it and a browser
// signed in with its key.
func (b *bundle) otherTenant() (*http.Client, *client.TenantCreated) {
	b.t.Helper()
	other, err := b.api.CreateTenant(context.Background(), client.TenantCreate{Name: "other"})
	require.NoError(b.t, err)
	c := browser(b.t)
	b.signIn(c, other.APIKey.Key)
	return c, other
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(raw)
}

// endpoint creates an endpoint through the API.
func (b *bundle) endpoint(in client.EndpointCreate) *client.Endpoint {
	b.t.Helper()
	ep, err := b.api.CreateEndpoint(context.Background(), in)
	require.NoError(b.t, err)
	return ep
}

// send publishes an event through the API and returns its id.
func (b *bundle) send(typ, data string) string {
	b.t.Helper()
	ev, err := b.api.SendEvent(context.Background(), client.EventCreate{Type: typ, Data: json.RawMessage(data)})
	require.NoError(b.t, err)
	return ev.ID
}
