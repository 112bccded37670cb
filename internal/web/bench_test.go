package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite"
)

var benchDeliveries = flag.Int("deliveries", 100_000, "how many deliveries BenchmarkPages puts in the store")

// benchEndpoints is how many endpoints the deliveries are spread over.
const benchEndpoints = 20

// BenchmarkPages measures the time to answer each dashboard page over
// loopback HTTP, with -deliveries deliveries (and as many events) in a
// SQLite store: 97 % succeeded, 2 % failed, 1 % retrying (due in 10 h, so
// the engine leaves them alone), spread over the last 7 days and 20
// endpoints. The store is filled once, through the store, before the
// server starts. Run with:
//
//	go test ./internal/web -run '^$' -bench Pages -benchtime 50x -deliveries 1000000
func BenchmarkPages(b *testing.B) {
	dataDir := filepath.Join(b.TempDir(), "data")
	cfg := config.Default()
	cfg.Addr, cfg.DataDir, cfg.AllowPrivateNetworks = "127.0.0.1:0", dataDir, true

	// First start: the tenant, its admin key and the endpoints.
	key, eps, src := benchFirstStart(b, cfg)
	fillStart := time.Now()
	mid := benchFill(b, dataDir, eps, *benchDeliveries)
	b.Logf("filled %d deliveries in %s", *benchDeliveries, time.Since(fillStart).Round(time.Second))
	fillStart = time.Now()
	content := benchFillContent(b, dataDir, *benchDeliveries/200, *benchDeliveries/10)
	b.Logf("filled %d runs and %d messages in %s", *benchDeliveries/200, *benchDeliveries/10, time.Since(fillStart).Round(time.Second))

	a, err := app.New(context.Background(), cfg, app.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Stop(ctx)
	})
	base := "http://" + a.Addr()
	c := benchSignIn(b, base, key)

	since := time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04")
	pages := []struct{ name, path string }{
		{"deliveries", "/deliveries"},
		{"deliveries_deep_page", "/deliveries?cursor=" + mid},
		{"deliveries_failed", "/deliveries?status=failed"},
		{"deliveries_retrying", "/deliveries?status=retrying"},
		{"deliveries_endpoint", "/deliveries?endpoint=" + eps[3]},
		{"deliveries_endpoint_failed", "/deliveries?endpoint=" + eps[3] + "&status=failed"},
		{"deliveries_since_1h", "/deliveries?since=" + url.QueryEscape(since)},
		{"delivery", "/deliveries/" + mid},
		{"events", "/events"},
		{"endpoints", "/endpoints"},
		{"endpoint", "/endpoints/" + eps[3]},
		{"overview", "/"},
		// A source and an event type of which none of the events is: the
		// store reads past every event looking for theirs.
		{"source", "/sources/" + src},
		{"event_type", "/event-types/quiet.type"},
		{"collection", "/collections/customers"},
	}
	pages = append(pages, benchPortalPages(b, base, key, eps[3], mid)...)
	for _, p := range append(pages, benchWorkflowPages(content)...) {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				resp, err := c.Get(base + p.path)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: status %d", p.path, resp.StatusCode)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
		})
	}
}

// benchFirstStart starts the server once on an empty data dir and returns
// its admin key, the ids of new endpoints and of a new source; it also
// declares an event type and a collection.
func benchFirstStart(b *testing.B, cfg config.Config) (string, []string, string) {
	var out bytes.Buffer
	a, err := app.New(context.Background(), cfg, app.Options{Out: &out})
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	key := keyPattern.FindString(out.String())
	api := client.New("http://"+a.Addr(), key)
	var eps []string
	for i := range benchEndpoints {
		ep, err := api.CreateEndpoint(context.Background(), client.EndpointCreate{URL: fmt.Sprintf("http://127.0.0.1:9/%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		eps = append(eps, ep.ID)
	}
	src, err := api.CreateSource(context.Background(), client.SourceCreate{Name: "quiet", Verification: &client.Verification{Kind: "none"}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := api.CreateEventType(context.Background(), client.EventType{Name: "quiet.type"}); err != nil {
		b.Fatal(err)
	}
	if _, err := api.CreateCollection(context.Background(), client.CollectionSpec{Name: "customers", Key: "data.id",
		Events: map[string]client.CollectionOp{"customer.updated": {Op: "upsert"}}}); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Stop(ctx); err != nil {
		b.Fatal(err)
	}
	return key, eps, src.ID
}

// benchFill writes n events with one delivery each through the store and
// returns the id of the delivery in the middle.
func benchFill(b *testing.B, dataDir string, eps []string, n int) string {
	ctx := context.Background()
	st, tenant := benchStore(b, dataDir)
	defer st.Close()
	now := time.Now()
	start := now.Add(-7 * 24 * time.Hour)
	step := 7 * 24 * time.Hour / time.Duration(n)
	data := []byte(`{"order_id":"ord_1","total":4200,"currency":"EUR"}`)
	var mid string
	const batch = 2000
	for lo := 0; lo < n; lo += batch {
		evs := make([]store.NewEvent, 0, batch)
		for i := lo; i < min(lo+batch, n); i++ {
			at := start.Add(time.Duration(i) * step)
			ev := event.Event{ID: idAt(event.PrefixEvent, at), TenantID: tenant.ID, Type: "order.created", Source: "api",
				Data: data, OccurredAt: at, CreatedAt: at}
			t := store.Task{ID: idAt(event.PrefixDelivery, at), TenantID: tenant.ID, EventID: ev.ID, EventType: ev.Type,
				Kind: "endpoint", DestinationID: eps[i%len(eps)], Status: store.StatusSucceeded, Attempts: 1,
				NextAt: at, CreatedAt: at, UpdatedAt: at.Add(50 * time.Millisecond)}
			switch i % 100 {
			case 17, 61:
				t.Status, t.Attempts, t.LastError = store.StatusFailed, 8, "endpoint answered HTTP 500"
			case 42:
				t.Status, t.Attempts, t.LastError, t.NextAt = store.StatusRetrying, 3, "endpoint answered HTTP 503", now.Add(10*time.Hour)
			}
			if i == n/2 {
				mid = t.ID
			}
			evs = append(evs, store.NewEvent{Event: ev, Tasks: []store.Task{t}})
		}
		if _, err := st.AcceptEvents(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	return mid
}

// benchStore opens the store of a stopped server's data dir and returns
// it with its default tenant; the caller closes it before the server
// starts again.
func benchStore(b *testing.B, dataDir string) (*sqlite.Store, store.Tenant) {
	ctx := context.Background()
	raw, err := secretbox.LoadOrCreateKeyFile(filepath.Join(dataDir, "encryption.key"))
	if err != nil {
		b.Fatal(err)
	}
	box, err := secretbox.New(raw)
	if err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dataDir, "hookline.db"), Box: box})
	if err != nil {
		b.Fatal(err)
	}
	tenant, err := st.TenantByName(ctx, "default")
	if err != nil {
		b.Fatal(err)
	}
	return st, tenant
}

// benchSignIn signs in and returns a client holding the session cookie.
func benchSignIn(b *testing.B, base, key string) *http.Client {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, base+"/signin", bytes.NewBufferString(url.Values{"api_key": {key}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) != 1 {
		b.Fatalf("sign in: status %d, no cookie", resp.StatusCode)
	}
	ck := resp.Cookies()[0]
	c.Transport = cookieTransport{ck}
	return c
}

// cookieTransport sends one cookie with every request.
type cookieTransport struct{ c *http.Cookie }

func (t cookieTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.AddCookie(t.c)
	return http.DefaultTransport.RoundTrip(r)
}

// benchPortalPages are the customer portal's pages: of a session of every
// event type, and of one scoped to invoice.*, which none of the
// deliveries is, so its lists read as far as they may and find nothing.
func benchPortalPages(b *testing.B, base, key, ep, dlv string) []struct{ name, path string } {
	api := client.New(base, key)
	open := func(types ...string) string {
		ps, err := api.CreatePortalSession(context.Background(), client.PortalSessionCreate{EventTypes: types, ExpiresIn: 86400})
		if err != nil {
			b.Fatal(err)
		}
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(ps.URL)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		return strings.TrimSuffix(resp.Header.Get("Location"), "/endpoints")
	}
	all, none := open(), open("invoice.*")
	return []struct{ name, path string }{
		{"portal_endpoints", all + "/endpoints"},
		{"portal_endpoint", all + "/endpoints/" + ep},
		{"portal_deliveries", all + "/deliveries"},
		{"portal_deliveries_failed", all + "/deliveries?status=failed"},
		{"portal_delivery", all + "/deliveries/" + dlv},
		{"portal_scoped_endpoints_none", none + "/endpoints"},
		{"portal_scoped_deliveries_none", none + "/deliveries"},
	}
}

// benchEntropy makes the random part of idAt's ids, increasing within a
// millisecond.
var benchEntropy = ulid.Monotonic(rand.Reader, 0)

// idAt is an id such as event.NewID makes, but for time at whatever ids
// were made before: event.NewID never goes back in time within a process
// (the bench's first start made ids of now), and lists and counts by time
// rely on an id's time being its row's.
func idAt(prefix string, at time.Time) string {
	return prefix + "_" + strings.ToLower(ulid.MustNew(ulid.Timestamp(at), benchEntropy).String())
}
