package main

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/faultproxy"
	"github.com/hookline/hookline/internal/testkit"
)

// localApp is the developer's app that forward sends to: it keeps every
// request and answers with what check says (200 when check is nil).
type localApp struct {
	*httptest.Server
	mu    sync.Mutex
	got   []localRequest
	check func(r *http.Request, body []byte) int
	// before, when set, runs on each request before it is answered.
	before func(n int)
}

type localRequest struct {
	path   string
	header http.Header
	body   []byte
	status int
}

func newLocalApp(t *testing.T, check func(r *http.Request, body []byte) int) *localApp {
	a := &localApp{check: check}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		status := http.StatusOK
		if a.check != nil {
			status = a.check(r, body)
		}
		a.mu.Lock()
		a.got = append(a.got, localRequest{path: r.URL.Path, header: r.Header.Clone(), body: body, status: status})
		n, before := len(a.got), a.before
		a.mu.Unlock()
		if before != nil {
			before(n)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *localApp) requests() []localRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]localRequest(nil), a.got...)
}

func (a *localApp) waitCount(t *testing.T, n int, fw *running) {
	t.Helper()
	require.Eventually(t, func() bool { return len(a.requests()) >= n }, 30*time.Second, 5*time.Millisecond,
		"the app gets %d requests; got %d; forward stdout: %s, stderr: %s", n, len(a.requests()), &fw.stdout, &fw.stderr)
}

// bodies counts the requests by body.
func (a *localApp) bodies() map[string]int {
	out := map[string]int{}
	for _, r := range a.requests() {
		out[string(r.body)]++
	}
	return out
}

// postIn posts body to /in/{source} of l with the headers and requires a
// 200.
func (l *live) postIn(t *testing.T, source string, body []byte, h http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, l.url+"/in/"+source, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = h.Clone()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
}

// countLeases has the server count the leases of queue it is answering
// (long polls waiting, mostly) and those it has begun.
func countLeases(queue string) (*atomic.Int32, *atomic.Int32, func(*app.Options)) {
	var n, started atomic.Int32
	return &n, &started, func(o *app.Options) {
		check := o.Wrap
		o.Wrap = func(h http.Handler) http.Handler {
			return check(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v1/queues/"+queue+"/lease" {
					started.Add(1)
					n.Add(1)
					defer n.Add(-1)
				}
				h.ServeHTTP(w, r)
			}))
		}
	}
}

// TestForwardVerifiedByTheApp forwards GitHub and Stripe webhooks to an
// app that checks their signatures itself, as it would receiving them from
// the providers: GitHub's HMAC of the body, and stripe-go's own verifier.
func TestForwardVerifiedByTheApp(t *testing.T) {
	t.Parallel()
	const ghSecret, stripeSecret = "It's a Secret to Everybody", "whsec_forward_test"
	srv := startLive(t)
	ctx := t.Context()
	_, err := srv.client.CreateSource(ctx, client.SourceCreate{Name: "gh", Verification: &client.Verification{Kind: "github", Secrets: []string{ghSecret}}})
	require.NoError(t, err)
	_, err = srv.client.CreateSource(ctx, client.SourceCreate{Name: "stripe", Verification: &client.Verification{Kind: "stripe", Secrets: []string{stripeSecret}}})
	require.NoError(t, err)

	app := newLocalApp(t, func(r *http.Request, body []byte) int {
		if r.Header.Get("Authorization") != "" {
			return http.StatusTeapot // forward's own credentials leaked
		}
		switch r.URL.Path {
		case "/github":
			if !hmac.Equal([]byte(r.Header.Get("X-Hub-Signature-256")), []byte(testkit.GitHubSignature(ghSecret, body))) || r.Header.Get("X-GitHub-Event") != "push" {
				return http.StatusUnauthorized
			}
		case "/stripe", "/refunds":
			if _, err := webhook.ConstructEventWithOptions(body, r.Header.Get("Stripe-Signature"), stripeSecret,
				webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true}); err != nil {
				return http.StatusUnauthorized
			}
		default:
			return http.StatusNotFound
		}
		return http.StatusOK
	})

	gh := srv.cli().start(t, "forward", "--source", "gh", "--to", app.URL+"/github")
	gh.waitFor(t, true, "Forwarding events received at "+srv.url+"/in/gh", "forward starts")
	st := srv.cli().start(t, "forward", "--source", "stripe", "--to", "stripe.charge.refunded="+app.URL+"/refunds", "--to", app.URL+"/stripe")
	st.waitFor(t, true, "stripe.charge.refunded → "+app.URL+"/refunds", "forward starts")

	push := []byte("{\n  \"ref\": \"refs/heads/main\",\n  \"repository\": {\"full_name\": \"acme/shop\"}\n}")
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-GitHub-Event", "push")
	h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	h.Set("X-Hub-Signature-256", testkit.GitHubSignature(ghSecret, push))
	srv.postIn(t, "gh", push, h)
	for i, typ := range []string{"invoice.paid", "charge.refunded"} {
		payload := []byte(fmt.Sprintf(`{"id":"evt_%d","object":"event","type":%q,"data":{"object":{}}}`, i, typ))
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: stripeSecret, Timestamp: time.Now()})
		srv.postIn(t, "stripe", payload, http.Header{"Content-Type": {"application/json"}, "Stripe-Signature": {signed.Header}})
	}

	app.waitCount(t, 3, gh)
	byPath := map[string]localRequest{}
	for _, r := range app.requests() {
		byPath[r.path] = r
		require.Equal(t, http.StatusOK, r.status, "the app verified the forwarded %s request", r.path)
	}
	require.Equal(t, push, byPath["/github"].body, "the body byte for byte")
	require.Equal(t, "72d3162e-cc78-11e3-81ab-4c9367dc0958", byPath["/github"].header.Get("X-GitHub-Delivery"))
	require.Contains(t, string(byPath["/refunds"].body), "charge.refunded", "routed by pattern")
	require.Contains(t, string(byPath["/stripe"].body), "invoice.paid")
	gh.waitFor(t, false, "  github.push  200  ", "one line per request with the local status")
	require.Regexp(t, `(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  evt_\w+  github\.push  200  \d+ms  `+app.URL+`/github$`, gh.stdout.String())
	st.waitFor(t, false, "stripe.charge.refunded  200", "the refund's line")
	gh.stop(t)
	st.stop(t)

	q, err := srv.client.GetQueue(ctx, "forward-stripe")
	require.NoError(t, err)
	require.Zero(t, q.Messages, "every forwarded event was acknowledged")
}

// TestForwardSurvivesDroppedConnections forwards through a proxy that
// drops every connection three times: while forward waits, while an
// acknowledgement is under way, and after the server leased events whose
// answer never arrived. Every event reaches the app, once.
func TestForwardSurvivesDroppedConnections(t *testing.T) {
	t.Parallel()
	clk := clock.NewManual(time.Now())
	polling, leases, counting := countLeases("forward-hooks")
	srv := startLive(t, counting, func(o *app.Options) { o.Clock = clk })
	ctx := t.Context()
	_, err := srv.client.CreateSource(ctx, client.SourceCreate{Name: "hooks", Verification: &client.Verification{Kind: "none"}})
	require.NoError(t, err)
	proxy, err := faultproxy.Start(srv.app.Addr())
	require.NoError(t, err)
	t.Cleanup(func() { proxy.Close() })
	app := newLocalApp(t, nil)

	cli := &bundle{env: map[string]string{envServer: "http://" + proxy.Addr(), envAPIKey: liveKey}}
	fw := cli.start(t, "forward", "--source", "hooks", "--to", app.URL, "--timeout", "1s")
	fw.waitFor(t, true, "Forwarding events", "forward starts")
	n := 0
	post := func(k int) {
		for range k {
			n++
			srv.postIn(t, "hooks", []byte(fmt.Sprintf(`{"n":%d}`, n)), http.Header{"Content-Type": {"application/json"}})
		}
	}
	post(3)
	app.waitCount(t, 3, fw)

	// 1. The connection drops while forward waits for events. The events
	// come once the server ended that wait and forward waits again: one
	// the old wait leased just before the server saw the drop would stay
	// leased until its visibility passed, and the test's clock stands.
	require.Eventually(t, func() bool { return polling.Load() == 1 }, 30*time.Second, 5*time.Millisecond, "forward waits on a lease")
	before := leases.Load()
	proxy.Drop()
	require.Eventually(t, func() bool { return leases.Load() > before && polling.Load() == 1 }, 30*time.Second, 5*time.Millisecond,
		"forward waits on a new lease, the old one ended")
	post(3)
	app.waitCount(t, 6, fw)

	// 2. The connection drops while the acknowledgement of the last of
	// three events is under way: it is sent again, the event not.
	app.mu.Lock()
	app.before = func(got int) {
		if got == 9 {
			proxy.Freeze()
		}
	}
	app.mu.Unlock()
	post(3)
	app.waitCount(t, 9, fw)
	proxy.Drop()
	proxy.Thaw()

	// 3. The server leases an event and its answer is lost: it is leased
	// again once its visibility passes (on the server's clock).
	app.mu.Lock()
	app.before = nil
	app.mu.Unlock()
	require.Eventually(t, func() bool { return polling.Load() == 1 }, 30*time.Second, 5*time.Millisecond, "forward waits on a lease")
	proxy.Freeze()
	post(1)
	var q *client.Queue
	require.Eventually(t, func() bool {
		q, err = srv.client.GetQueue(ctx, "forward-hooks")
		return err == nil && q.InFlight == 1 && polling.Load() == 0
	}, 30*time.Second, 5*time.Millisecond, "the server leased the event and answered")
	proxy.Drop()
	proxy.Thaw()
	post(2)
	app.waitCount(t, 11, fw)
	require.Equal(t, 3, strings.Count(fw.stderr.String(), "Reconnected."), "%s", &fw.stderr)
	clk.Advance(time.Minute)
	app.waitCount(t, 12, fw)

	fw.stop(t)
	got := app.bodies()
	require.Len(t, got, 12, "nothing lost")
	for body, k := range got {
		require.Equal(t, 1, k, "%s forwarded once", body)
	}
	q, err = srv.client.GetQueue(ctx, "forward-hooks")
	require.NoError(t, err)
	require.Zero(t, q.Messages)
}

// TestForwardSinceAndResume replays past events with --since, and a
// forward started again with the same queue gets what came meanwhile.
func TestForwardSinceAndResume(t *testing.T) {
	t.Parallel()
	polling, _, counting := countLeases("mine")
	srv := startLive(t, counting)
	ctx := t.Context()
	_, err := srv.client.CreateSource(ctx, client.SourceCreate{Name: "hooks", Verification: &client.Verification{Kind: "none"}})
	require.NoError(t, err)
	app := newLocalApp(t, nil)
	post := func(body string) {
		srv.postIn(t, "hooks", []byte(body), http.Header{"Content-Type": {"application/json"}})
	}
	post(`{"past":1}`)
	post(`{"past":2}`)

	args := []string{"forward", "--source", "hooks", "--queue", "mine", "--to", app.URL}
	fw := srv.cli().start(t, append(args, "--since", "1h")...)
	fw.waitFor(t, true, "Replaying 2 events received since", "--since puts the past events on the queue")
	app.waitCount(t, 2, fw)
	post(`{"live":1}`)
	app.waitCount(t, 3, fw)
	fw.stop(t)
	// An event that comes in the instant forward stops may be leased by
	// the long poll the server has not yet seen end; it comes again after
	// its visibility timeout. This test waits for the poll to end.
	require.Eventually(t, func() bool { return polling.Load() == 0 }, 30*time.Second, 5*time.Millisecond, "the server ends the stopped forward's lease")

	post(`{"while":"stopped"}`)
	fw = srv.cli().start(t, args...)
	app.waitCount(t, 4, fw)
	fw.stop(t)
	require.Equal(t, map[string]int{`{"past":1}`: 1, `{"past":2}`: 1, `{"live":1}`: 1, `{"while":"stopped"}`: 1}, app.bodies())

	out := srv.cli().run(t, "", "forward", "--source", "hooks", "--to", "ftp://x")
	require.NotZero(t, out.code)
	require.Contains(t, out.stderr, "invalid --to")
	q, err := srv.client.GetQueue(ctx, "mine")
	require.NoError(t, err)
	require.Zero(t, q.Messages)

	// hookline queues shows and deletes the queue.
	out = srv.run(t, "", "queues", "list")
	require.Zero(t, out.code, out.stderr)
	require.Regexp(t, `(?m)^mine\s+hooks\s+-\s+\d{4}-`, out.stdout)
	out = srv.run(t, "", "queues", "get", "mine")
	require.Zero(t, out.code, out.stderr)
	require.Regexp(t, `(?m)^messages:\s+0$`, out.stdout)
	srv.deletes(t, "queues", "queue", "mine")
}

func TestParseForwardRoutes(t *testing.T) {
	t.Parallel()
	got, err := parseForwardRoutes([]string{"invoice.*=http://localhost:3000/a?x=1", "http://localhost:3000/b?y=2"})
	require.NoError(t, err)
	require.Equal(t, []forwardRoute{{"invoice.*", "http://localhost:3000/a?x=1"}, {"", "http://localhost:3000/b?y=2"}}, got)
	for _, bad := range []string{"", "localhost:3000", "a..b=http://x", "invoice.*=", "mailto:x"} {
		_, err := parseForwardRoutes([]string{bad})
		require.Error(t, err, bad)
	}
	_, err = parseForwardRoutes(nil)
	require.ErrorContains(t, err, "--to is required")
	require.Equal(t, []string{"a.*", "b"}, queueTypes(nil, []forwardRoute{{"a.*", "u"}, {"b", "u"}}))
	require.Nil(t, queueTypes(nil, []forwardRoute{{"a.*", "u"}, {"", "u"}}))
	require.Equal(t, []string{"x"}, queueTypes([]string{"x"}, []forwardRoute{{"", "u"}}))

	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	since, err := parseSince("90m", now)
	require.NoError(t, err)
	require.Equal(t, now.Add(-90*time.Minute), since)
	since, err = parseSince("2025-01-02T15:04:05Z", now)
	require.NoError(t, err)
	require.Equal(t, time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC), since)
	_, err = parseSince("yesterday", now)
	require.Error(t, err)
	_, err = parseSince("-1h", now)
	require.Error(t, err)
}

// TestForwardAppDown: a request the app cannot take (nothing listens) is
// printed as an error and its event handed back for a later try, not
// acknowledged; -o json writes each line as JSON.
func TestForwardAppDown(t *testing.T) {
	t.Parallel()
	srv := startLive(t)
	ctx := t.Context()
	_, err := srv.client.CreateSource(ctx, client.SourceCreate{Name: "hooks", Verification: &client.Verification{Kind: "none"}})
	require.NoError(t, err)
	down := "http://" + testkit.FreeAddr(t) + "/hook"
	fw := srv.cli().start(t, "-o", "json", "forward", "--source", "hooks", "--to", down)
	fw.waitFor(t, true, "Forwarding events", "forward starts")
	srv.postIn(t, "hooks", []byte(`{"n":1}`), http.Header{"Content-Type": {"application/json"}})
	fw.waitFor(t, false, `"note":"again in 5s"`, "the failed request is printed")
	fw.stop(t)
	var line struct {
		EventID, Type, URL, Note, Error string
		Status                          int
	}
	first, _, _ := strings.Cut(fw.stdout.String(), "\n")
	require.NoError(t, json.Unmarshal([]byte(first), &line))
	require.Equal(t, down, line.URL)
	require.Equal(t, "hooks.received", line.Type)
	require.Zero(t, line.Status)
	require.Contains(t, line.Error, "connection refused")
	q, err := srv.client.GetQueue(ctx, "forward-hooks")
	require.NoError(t, err)
	require.Equal(t, 1, q.Messages, "the event waits on the queue for the app")
}
