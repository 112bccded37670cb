package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/delivery/format"
)

// sendTo creates an endpoint for url and sends an order.created event,
// the one event it receives.
func (b *bundle) sendTo(url string) *client.Event {
	b.t.Helper()
	b.endpoint(client.EndpointCreate{URL: url})
	return b.send("order.created", `{}`)
}

func TestDeliverSignedWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, strings.Repeat("x", 10<<10))
		return true
	})
	ep := b.endpoint(client.EndpointCreate{URL: rc.URL + "/hook", EventTypes: []string{"order.*"},
		Headers: map[string]string{"X-Tenant": "acme"}})
	require.True(t, strings.HasPrefix(ep.Secret, "whsec_"))
	b.send("user.created", `{"ignored":true}`)
	ev := b.send("order.created", `{"id":"ord_1","amount":4200}`)
	require.NotNil(t, ev.Deliveries)
	require.Equal(t, 1, *ev.Deliveries)

	d := b.waitStatus(ev.ID, client.DeliverySucceeded)
	reqs := rc.requests()
	require.Len(t, reqs, 1, "only the subscribed type is delivered")
	r := reqs[0]

	wh, err := standardwebhooks.NewWebhook(ep.Secret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(r.body, r.header), "the official Standard Webhooks library verifies the signature")
	require.Equal(t, ev.ID, r.header.Get("webhook-id"))
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(r.header.Get("User-Agent"), "Hookline/"))
	require.Equal(t, "acme", r.header.Get("X-Tenant"))
	var body struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(r.body, &body))
	require.Equal(t, "order.created", body.Type)
	require.JSONEq(t, `{"id":"ord_1","amount":4200}`, string(body.Data))
	require.WithinDuration(t, ev.OccurredAt.Time, body.Timestamp, time.Millisecond)

	require.Len(t, d.AttemptLog, 1)
	a := d.AttemptLog[0]
	require.Equal(t, "success", a.Outcome)
	require.Equal(t, "http", a.Kind)
	require.Nil(t, a.Detail, "an HTTP attempt has no detail")
	require.Equal(t, 200, a.ResponseStatus)
	require.Len(t, a.ResponseBody, 4096, "response bodies are truncated to 4 KiB")
	require.Equal(t, string(r.body), a.RequestBody)
	require.Equal(t, ev.ID, a.RequestHeaders["Webhook-Id"])

	wrong, err := standardwebhooks.NewWebhook("whsec_" + strings.Repeat("A", 32))
	require.NoError(t, err)
	require.Error(t, wrong.Verify(r.body, r.header), "another secret does not verify")
}

func TestPayloadFormats(t *testing.T) {
	t.Parallel()
	b := setup(t)
	data := `{"id":"ord_1","amount":42.5,"tags":["a","b"],"nested":{"ok":true,"none":null},"1st key":"x"}`
	for _, f := range []string{format.JSON, format.Form, format.XML} {
		t.Run(f, func(t *testing.T) {
			rc := newReceiver(t, nil)
			ep := b.endpoint(client.EndpointCreate{URL: rc.URL, Format: f, EventTypes: []string{"fmt." + f}})
			ev := b.send("fmt."+f, data)
			b.waitStatus(ev.ID, client.DeliverySucceeded)
			r := rc.requests()[0]
			wh, err := standardwebhooks.NewWebhook(ep.Secret)
			require.NoError(t, err)
			require.NoError(t, wh.Verify(r.body, r.header))
			p, err := format.Decode(r.header.Get("Content-Type"), r.body)
			require.NoError(t, err)
			require.Equal(t, "fmt."+f, p.Type)
			require.JSONEq(t, data, string(p.Data), "the receiver decodes the same data from %s", f)
		})
	}
}

// retryClock is a manual clock for retry tests, started at a fixed time.
func retryClock() *clock.Manual {
	return clock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
}

func TestRetryScheduleAndFailure(t *testing.T) {
	t.Parallel()
	clk := retryClock()
	// Rand fixed at 0.5 puts the jitter at exactly 0, so the schedule is
	// visible as is; the bounds of the jitter are tested in engine.
	b := setup(t, withClock(clk), withRand(func() float64 { return 0.5 }))
	rc, healed := newFailingReceiver(t, http.StatusInternalServerError)
	ev := b.sendTo(rc.URL)

	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	for i, delay := range want {
		var d *client.Delivery
		eventually(t, func() bool { d = b.delivery(ev.ID); return d.Attempts == i+1 && d.Status == client.DeliveryRetrying },
			"attempt %d recorded", i+1)
		require.NotNil(t, d.NextAttemptAt)
		require.Equal(t, clk.Now().Add(delay), d.NextAttemptAt.Time, "delay before attempt %d", i+2)
		require.Equal(t, i+1, rc.count())
		clk.Advance(delay)
	}
	d := b.waitStatus(ev.ID, client.DeliveryFailed)
	require.Equal(t, 8, d.Attempts)
	require.Nil(t, d.NextAttemptAt)
	require.Len(t, d.AttemptLog, 8)
	require.Equal(t, "http_500", d.AttemptLog[7].Outcome)
	require.Contains(t, d.LastError, "500")

	// A failed delivery can be retried by hand.
	healed.Store(true)
	_, err := b.client.RetryDelivery(context.Background(), d.ID)
	require.NoError(t, err)
	d = b.waitStatus(ev.ID, client.DeliverySucceeded)
	require.Equal(t, 9, d.Attempts)
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	clk := retryClock()
	b := setup(t, withClock(clk), withRand(func() float64 { return 0.5 }))
	rc := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	ev := b.sendTo(rc.URL)
	var d *client.Delivery
	eventually(t, func() bool { d = b.delivery(ev.ID); return d.Status == client.DeliveryRetrying }, "first attempt")
	require.Equal(t, clk.Now().Add(120*time.Second), d.NextAttemptAt.Time, "Retry-After replaces the 5 s step")
	require.Equal(t, "http_429", d.AttemptLog[0].Outcome)
	clk.Advance(120 * time.Second)
	b.waitStatus(ev.ID, client.DeliverySucceeded)
	require.Equal(t, 2, rc.count())
}

func TestGoneDisablesEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter) bool { w.WriteHeader(http.StatusGone); return true })
	ep := b.endpoint(client.EndpointCreate{URL: rc.URL})
	ev := b.send("order.created", `{}`)
	d := b.waitStatus(ev.ID, client.DeliveryFailed)
	require.Equal(t, 1, d.Attempts, "410 is not retried")
	got := b.getEndpoint(ep.ID)
	require.False(t, got.Enabled)
	require.Contains(t, got.DisabledReason, "410")
	ev2 := b.send("order.created", `{}`)
	require.Equal(t, 0, *ev2.Deliveries, "a disabled endpoint gets no new deliveries")
}

func TestSecretRotationSignsWithBoth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := newReceiver(t, nil)
	ep := b.endpoint(client.EndpointCreate{URL: rc.URL})
	rotated, err := b.client.RotateEndpointSecret(context.Background(), ep.ID, client.SecretRotate{})
	require.NoError(t, err)
	require.NotEqual(t, ep.Secret, rotated.Secret)
	ev := b.send("order.created", `{"n":1}`)
	b.waitStatus(ev.ID, client.DeliverySucceeded)
	r := rc.requests()[0]
	sigs := strings.Fields(r.header.Get("webhook-signature"))
	require.Len(t, sigs, 2, "new and old secret both sign during the grace period")
	for _, secret := range []string{ep.Secret, rotated.Secret} {
		wh, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		for _, sig := range sigs {
			h := r.header.Clone()
			h.Set("webhook-signature", sig)
			if wh.Verify(r.body, h) == nil {
				goto verified
			}
		}
		t.Fatalf("no single signature verifies with %s", secret[:10])
	verified:
	}

	// With no grace the old secret stops signing at once.
	again, err := b.client.RotateEndpointSecret(context.Background(), ep.ID, client.SecretRotate{Grace: "0s"})
	require.NoError(t, err)
	ev = b.send("order.created", `{"n":2}`)
	b.waitStatus(ev.ID, client.DeliverySucceeded)
	r = rc.requests()[1]
	require.Len(t, strings.Fields(r.header.Get("webhook-signature")), 2, "the previous secret is still in its own grace period")
	wh, err := standardwebhooks.NewWebhook(again.Secret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(r.body, r.header))
}

func TestReplayAddsAttemptToSameDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := newReceiver(t, nil)
	ev := b.sendTo(rc.URL)
	first := b.waitStatus(ev.ID, client.DeliverySucceeded)
	// A second endpoint created after the event gets a delivery on replay.
	rc2 := newReceiver(t, nil)
	b.endpoint(client.EndpointCreate{URL: rc2.URL})
	rep, err := b.client.ReplayEvent(context.Background(), ev.ID)
	require.NoError(t, err)
	require.Len(t, rep.Deliveries, 2)
	require.Contains(t, rep.Deliveries, first.ID)
	eventually(t, func() bool { return rc.count() == 2 && rc2.count() == 1 }, "replayed to both endpoints")
	eventually(t, func() bool {
		d, err := b.client.GetDelivery(context.Background(), first.ID)
		return err == nil && d.Attempts == 2 && d.Status == client.DeliverySucceeded
	}, "replay is a new attempt on the same delivery")
}

// TestCrashLosesNothing kills the server while deliveries are in flight and
// queued, restarts it on the same data dir and checks every accepted event
// is delivered at least once.
func TestCrashLosesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var healthy atomic.Bool
	block := make(chan struct{})
	var inFlight atomic.Int32
	rc := newReceiver(t, func(_ int, w http.ResponseWriter) bool {
		if !healthy.Load() {
			inFlight.Add(1)
			<-block // hang until the test releases it; the server dies meanwhile
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	b.endpoint(client.EndpointCreate{URL: rc.URL})
	const n = 60
	ids := make([]string, 0, n)
	for i := range n {
		ev := b.send("order.created", `{"i":`+strconv.Itoa(i)+`}`)
		ids = append(ids, ev.ID)
	}
	eventually(t, func() bool { return inFlight.Load() >= 5 }, "deliveries in flight before the crash")
	b.restart(true)
	healthy.Store(true)
	close(block)
	for _, id := range ids {
		b.waitStatus(id, client.DeliverySucceeded)
		require.Contains(t, rc.counts(), id, "event %s reached the receiver", id)
	}
}

func TestGracefulStopFinishesInFlight(t *testing.T) {
	t.Parallel()
	b := setup(t)
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter) bool {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
		return false
	})
	ev := b.sendTo(rc.URL)
	<-started
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.restart(false)
	}()
	close(release)
	<-done
	d := b.waitStatus(ev.ID, client.DeliverySucceeded)
	require.Equal(t, 1, d.Attempts, "the in-flight attempt finished and was recorded before stop")
	require.Equal(t, 1, rc.count())
}

func TestMetricsAndHealth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := newReceiver(t, nil)
	ev := b.sendTo(rc.URL)
	b.waitStatus(ev.ID, client.DeliverySucceeded)
	for path, want := range map[string][]string{
		"/metrics": {"hookline_events_accepted_total", `hookline_attempts_total{kind="endpoint",outcome="succeeded"} 1`,
			"hookline_delivery_latency_seconds_bucket", "hookline_tasks_pending 0"},
		"/healthz": {`"ok"`},
		"/readyz":  {`"ready"`},
	} {
		// The attempt's counters move just after its result is committed,
		// so the delivery may read succeeded a moment before /metrics
		// counts it.
		eventually(t, func() bool {
			resp, err := http.Get(b.url + path)
			if err != nil {
				return false
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return false
			}
			for _, w := range want {
				if !strings.Contains(string(body), w) {
					return false
				}
			}
			return true
		}, "%s answers 200 with %q", path, want)
	}
}

func TestFilterAndGlobRouting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	big := newReceiver(t, nil)
	all := newReceiver(t, nil)
	b.endpoint(client.EndpointCreate{URL: big.URL, EventTypes: []string{"order.*"}, Filter: `data.amount > 100 && data.currency == "EUR"`})
	b.endpoint(client.EndpointCreate{URL: all.URL})
	small := b.send("order.created", `{"amount":50,"currency":"EUR"}`)
	usd := b.send("order.created", `{"amount":500,"currency":"USD"}`)
	match := b.send("order.paid", `{"amount":500,"currency":"EUR"}`)
	other := b.send("user.created", `{"amount":500,"currency":"EUR"}`)
	require.Equal(t, 1, *small.Deliveries)
	require.Equal(t, 1, *usd.Deliveries)
	require.Equal(t, 2, *match.Deliveries)
	require.Equal(t, 1, *other.Deliveries)
	eventually(t, func() bool { return all.count() == 4 && big.count() == 1 }, "routed by type and filter")
	require.Equal(t, match.ID, big.requests()[0].header.Get("webhook-id"))
}
