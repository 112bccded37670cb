package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/app/apptest"
	"github.com/hookline/hookline/internal/buildinfo"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/content/smtptest"
	"github.com/hookline/hookline/internal/openapi/openapitest"
	"github.com/hookline/hookline/internal/testkit"
)

// bundle is a running server on a temporary data dir with its admin key.
type bundle struct {
	t       *testing.T
	app     *app.App
	cfg     config.Config
	opts    app.Options
	url     string
	key     string
	client  *client.Client
	stopped bool
}

type setupOpt func(*config.Config, *app.Options)

func withClock(c clock.Clock) setupOpt {
	return func(_ *config.Config, o *app.Options) { o.Clock = c }
}

func withRand(r func() float64) setupOpt {
	return func(_ *config.Config, o *app.Options) { o.Rand = r }
}

func withoutPrivateNetworks() setupOpt {
	return func(c *config.Config, _ *app.Options) { c.AllowPrivateNetworks = false }
}

func withBreaker(threshold int, cooldown time.Duration) setupOpt {
	return func(c *config.Config, _ *app.Options) { c.BreakerThreshold, c.BreakerCooldown = threshold, cooldown }
}

func withQueueCap(n int) setupOpt {
	return func(_ *config.Config, o *app.Options) { o.QueueCap = n }
}

func withPruneInterval(d time.Duration) setupOpt {
	return func(_ *config.Config, o *app.Options) { o.PruneInterval = d }
}

func withLease(d time.Duration) setupOpt {
	return func(_ *config.Config, o *app.Options) { o.Lease = d }
}

func withRouteMaxAge(d time.Duration) setupOpt {
	return func(_ *config.Config, o *app.Options) { o.RouteMaxAge = d }
}

func withPublicURL(u string) setupOpt {
	return func(c *config.Config, _ *app.Options) { c.PublicURL = u }
}

func withBuild(bi buildinfo.Info) setupOpt {
	return func(_ *config.Config, o *app.Options) { o.Build = bi }
}

// withLogger logs at debug level to w.
func withLogger(w io.Writer) setupOpt {
	return func(_ *config.Config, o *app.Options) {
		o.Logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// withSMTP sends email to srv, with links to a public URL.
func withSMTP(srv *smtptest.Server) setupOpt {
	return func(c *config.Config, o *app.Options) {
		c.SMTP = config.SMTP{Host: srv.Host(), Port: srv.Port(), TLS: "none", From: "Shop <noreply@shop.example>"}
		withPublicURL("http://hooks.test")(c, o)
	}
}

// withDatabase runs the server on the PostgreSQL database of dsn.
func withDatabase(dsn string) setupOpt {
	return func(c *config.Config, _ *app.Options) {
		c.Database, c.EncryptionKey = dsn, strings.Repeat("ab", 32)
	}
}

// withPostgres runs the server on a fresh schema of the test PostgreSQL
// database (skipping the test without one), with a short lease so that a
// killed server's tasks are taken back soon.
func withPostgres(t *testing.T) setupOpt {
	db := withDatabase(testkit.PostgresSchema(t))
	return func(c *config.Config, o *app.Options) {
		db(c, o)
		o.Lease = 2 * time.Second
	}
}

// bothStores runs f as a parallel subtest on SQLite and one on PostgreSQL
// (skipped without HOOKLINE_TEST_POSTGRES); db gives a server its
// database: nothing to add on SQLite, postgres(t) on PostgreSQL.
func bothStores(t *testing.T, postgres func(*testing.T) setupOpt, f func(t *testing.T, db func(*testing.T) setupOpt)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, func(*testing.T) setupOpt { return func(*config.Config, *app.Options) {} })
	})
	t.Run("postgres", func(t *testing.T) {
		testkit.PostgresDSN(t)
		t.Parallel()
		f(t, postgres)
	})
}

// drivers runs test as subtests on a server on SQLite and on one on
// PostgreSQL (skipped without HOOKLINE_TEST_POSTGRES), each set up with
// opts.
func drivers(t *testing.T, test func(t *testing.T, b *bundle), opts ...setupOpt) {
	bothStores(t, withPostgres, func(t *testing.T, db func(*testing.T) setupOpt) {
		test(t, setup(t, append([]setupOpt{db(t)}, opts...)...))
	})
}

var keyPattern = regexp.MustCompile(`hk_[A-Za-z0-9_-]+`)

// setup starts a server that may deliver to loopback (httptest receivers),
// polling fast so retries made due by a test clock run promptly.
func setup(t *testing.T, opts ...setupOpt) *bundle {
	t.Helper()
	cfg := apptest.Config(t)
	cfg.AllowPrivateNetworks = true
	o := app.Options{PollInterval: 20 * time.Millisecond, Wrap: openapitest.Check(t)}
	for _, fn := range opts {
		fn(&cfg, &o)
	}
	b := &bundle{t: t, cfg: cfg, opts: o}
	var out bytes.Buffer
	b.opts.Out = &out
	b.start()
	b.key = keyPattern.FindString(out.String())
	require.NotEmpty(t, b.key, "first start prints the admin key")
	b.client = client.New(b.url, b.key)
	t.Cleanup(func() {
		if !b.stopped {
			require.NoError(t, apptest.Stop(b.app))
		}
	})
	return b
}

// setupAt is setup on a manual clock that starts at start.
func setupAt(t *testing.T, start time.Time, opts ...setupOpt) (*bundle, *clock.Manual) {
	t.Helper()
	clk := clock.NewManual(start)
	return setup(t, append([]setupOpt{withClock(clk)}, opts...)...), clk
}

func (b *bundle) start() {
	b.t.Helper()
	a := apptest.Start(b.t, b.cfg, b.opts)
	b.app, b.url, b.stopped = a, "http://"+a.Addr(), false
	if b.key != "" {
		b.client = client.New(b.url, b.key)
	}
}

// restart kills the server abruptly (kill=true) or stops it gracefully,
// then starts a new one on the same data dir.
func (b *bundle) restart(kill bool) {
	b.t.Helper()
	if kill {
		b.app.Kill()
		b.stopped = true
	} else {
		b.stop()
	}
	b.start()
}

// stop stops the server gracefully.
func (b *bundle) stop() {
	b.t.Helper()
	require.NoError(b.t, apptest.Stop(b.app))
	b.stopped = true
}

// do sends a raw request with the bundle's key (or key when not empty) and
// returns the status and decoded JSON body.
func (b *bundle) do(method, path, body string, headers ...string) (int, map[string]any) {
	b.t.Helper()
	status, raw := b.request(method, path, body, headers...)
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(b.t, json.Unmarshal(raw, &out), "body: %s", raw)
	}
	return status, out
}

// rawGet returns the status and undecoded body of a GET.
func (b *bundle) rawGet(path string) (int, []byte) {
	b.t.Helper()
	return b.request(http.MethodGet, path, "")
}

// request sends a raw request as do does and returns the status and the
// body as it came.
func (b *bundle) request(method, path, body string, headers ...string) (int, []byte) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.url+path, bytes.NewBufferString(body))
	require.NoError(b.t, err)
	req.Header.Set("Authorization", "Bearer "+b.key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp.StatusCode, raw
}

// received is one request a receiver got.
type received struct {
	path   string
	header http.Header
	body   []byte
}

// receiver is a real HTTP server that records the requests it gets and
// answers each with handle (n is the request's number, from 1).
type receiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []received
}

func startReceiver(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{path: r.URL.Path, header: r.Header.Clone(), body: body})
		n := len(rc.got)
		rc.mu.Unlock()
		handle(n, w, r)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// newReceiver starts a webhook receiver that answers with whatever
// respond writes, or 200 when respond is nil or returns false.
func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter) bool) *receiver {
	t.Helper()
	return startReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if respond == nil || !respond(n, w) {
			w.WriteHeader(http.StatusOK)
		}
	})
}

// newHook starts a webhook receiver that answers every request with
// status. Create it before setup so it is closed after the server stops.
func newHook(t *testing.T, status int) *receiver {
	t.Helper()
	return newReceiver(t, func(_ int, w http.ResponseWriter) bool { w.WriteHeader(status); return true })
}

// newService starts a service that workflow steps and lookups call; it
// answers with respond, or {"ok": true} when respond is nil.
func newService(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	return startReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if respond != nil {
			respond(n, w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok": true}`)
	})
}

// newFailingReceiver starts a webhook receiver that answers status until
// healed is set, then 200.
func newFailingReceiver(t *testing.T, status int) (rc *receiver, healed *atomic.Bool) {
	t.Helper()
	healed = new(atomic.Bool)
	return newReceiver(t, func(_ int, w http.ResponseWriter) bool {
		if healed.Load() {
			return false
		}
		w.WriteHeader(status)
		return true
	}), healed
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) count() int { return len(rc.requests()) }

// header is the header name of the ith request (from 0).
func (rc *receiver) header(i int, name string) string { return rc.requests()[i].header.Get(name) }

// body is the body of the ith request (from 0).
func (rc *receiver) body(i int) string { return string(rc.requests()[i].body) }

// webhookIDs is the webhook-id of every request, in the order they came.
func (rc *receiver) webhookIDs() []string {
	var ids []string
	for _, r := range rc.requests() {
		ids = append(ids, r.header.Get("webhook-id"))
	}
	return ids
}

// counts is how many requests came for each webhook-id.
func (rc *receiver) counts() map[string]int {
	out := map[string]int{}
	for _, id := range rc.webhookIDs() {
		out[id]++
	}
	return out
}

// gaugeValue reads one unlabelled metric from a server's /metrics; -1
// when it is missing.
func gaugeValue(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			return f
		}
	}
	return -1
}

func (b *bundle) endpoint(in client.EndpointCreate) *client.Endpoint {
	b.t.Helper()
	ep, err := b.client.CreateEndpoint(context.Background(), in)
	require.NoError(b.t, err)
	return ep
}

// getEndpoint returns the endpoint of that id as the API shows it.
func (b *bundle) getEndpoint(id string) *client.Endpoint {
	b.t.Helper()
	ep, err := b.client.GetEndpoint(context.Background(), id)
	require.NoError(b.t, err)
	return ep
}

func (b *bundle) send(typ, data string) *client.Event {
	b.t.Helper()
	ev, err := b.client.SendEvent(context.Background(), client.EventCreate{Type: typ, Data: json.RawMessage(data)})
	require.NoError(b.t, err)
	return ev
}

// delivery returns the only delivery of an event.
func (b *bundle) delivery(eventID string) *client.Delivery {
	b.t.Helper()
	page, err := b.client.ListDeliveries(context.Background(), client.DeliveryListOptions{EventID: eventID})
	require.NoError(b.t, err)
	require.Len(b.t, page.Data, 1)
	d, err := b.client.GetDelivery(context.Background(), page.Data[0].ID)
	require.NoError(b.t, err)
	return d
}

func (b *bundle) waitStatus(eventID, status string) *client.Delivery {
	b.t.Helper()
	var d *client.Delivery
	eventually(b.t, func() bool { d = b.delivery(eventID); return d.Status == status }, "delivery of %s never reached %s", eventID, status)
	return d
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventually(t, cond, 15*time.Second, 10*time.Millisecond, append([]any{msg}, args...)...)
}

func asClientError(err error, target **client.Error) bool {
	return errors.As(err, target)
}
