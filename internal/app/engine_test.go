package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// TestBlockedEndpointDoesNotDelayOthers blocks one endpoint's receiver and
// checks a healthy endpoint receives every event meanwhile, while the
// blocked one holds no more than its own max_in_flight slots.
func TestBlockedEndpointDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var blockedNow, blockedMax atomic.Int32
	blocked := newReceiver(t, func(_ int, w http.ResponseWriter) bool {
		n := blockedNow.Add(1)
		for {
			m := blockedMax.Load()
			if n <= m || blockedMax.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		blockedNow.Add(-1)
		return false
	})
	healthy := newReceiver(t, nil)
	b := setup(t, withQueueCap(20))
	// Registered after setup, so it runs before the app stops: Stop waits
	// for running attempts, and the blocked ones would hold it 5 s.
	t.Cleanup(func() { close(release) })
	b.endpoint(client.EndpointCreate{URL: blocked.URL, MaxInFlight: 3})
	b.endpoint(client.EndpointCreate{URL: healthy.URL})
	const n = 100
	for i := range n {
		b.send("order.created", `{"i":`+strconv.Itoa(i)+`}`)
	}
	eventually(t, func() bool { return healthy.count() == n }, "the healthy endpoint got every event while the other is blocked")
	require.LessOrEqual(t, blockedMax.Load(), int32(3), "the blocked endpoint never exceeds its max_in_flight")
	require.Equal(t, int32(3), blockedNow.Load())
}

// TestBacklogDrainsInBoundedMemory lets deliveries pile up for an endpoint
// that is down (its circuit opens) far beyond what a destination may hold in
// memory, then brings it back: memory stays bounded and everything drains.
func TestBacklogDrainsInBoundedMemory(t *testing.T) {
	t.Parallel()
	rc, healed := newFailingReceiver(t, http.StatusServiceUnavailable)
	clk := retryClock()
	const queueCap = 10
	b := setup(t, withClock(clk), withQueueCap(queueCap), withRand(func() float64 { return 0.5 }))
	ep := b.endpoint(client.EndpointCreate{URL: rc.URL})
	const n = 200
	for range n {
		b.send("order.created", `{}`)
	}
	eventually(t, func() bool {
		got, err := b.client.GetEndpoint(context.Background(), ep.ID)
		return err == nil && got.Circuit == "open"
	}, "the circuit opens")
	for range 5 {
		require.LessOrEqual(t, inMemory(t, b), float64(queueCap), "the backlog stays in the store")
	}
	healed.Store(true)
	clk.Advance(time.Minute) // cool-down over; failed ones due again
	eventually(t, func() bool {
		p, err := b.client.ListDeliveries(context.Background(), client.DeliveryListOptions{Status: client.DeliverySucceeded, ListOptions: client.ListOptions{Limit: 1000}})
		return err == nil && len(p.Data) == n
	}, "the backlog drained")
}

// inMemory reads hookline_tasks_in_memory from /metrics.
func inMemory(t *testing.T, b *bundle) float64 {
	t.Helper()
	v := gaugeValue(t, b.url, "hookline_tasks_in_memory")
	require.NotEqual(t, -1.0, v, "no hookline_tasks_in_memory metric")
	return v
}

// TestRateLimitHonoured checks deliveries to an endpoint with rate_limit
// never exceed its token bucket: burst = rate, then rate per second.
func TestRateLimitHonoured(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var arrivals []time.Time
	rc := newReceiver(t, func(_ int, w http.ResponseWriter) bool {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		return false
	})
	b := setup(t)
	const rate, n = 20, 50
	b.endpoint(client.EndpointCreate{URL: rc.URL, RateLimit: rate})
	for range n {
		b.send("order.created", `{}`)
	}
	eventually(t, func() bool { return rc.count() == n }, "all delivered")
	mu.Lock()
	defer mu.Unlock()
	// In any window of length w the bucket allows at most burst + rate*w;
	// 10% tolerance for scheduling.
	for i := range arrivals {
		for j := i; j < len(arrivals); j++ {
			w := arrivals[j].Sub(arrivals[i]).Seconds()
			allowed := float64(rate) + rate*w*1.1 + 1
			require.LessOrEqual(t, float64(j-i+1), allowed, "%d deliveries within %.3fs", j-i+1, w)
		}
	}
	span := arrivals[len(arrivals)-1].Sub(arrivals[0])
	require.GreaterOrEqual(t, span, time.Duration(float64(n-rate)/rate*0.9*float64(time.Second)))
}

// TestCircuitBreaker opens an endpoint's circuit after ten consecutive
// failures, holds its deliveries without burning attempts, probes once after
// the cool-down and closes on success — all on an injected clock.
func TestCircuitBreaker(t *testing.T) {
	t.Parallel()
	rc, healthy := newFailingReceiver(t, http.StatusInternalServerError)
	clk := retryClock()
	b := setup(t, withClock(clk), withRand(func() float64 { return 0.5 }))
	ep := b.endpoint(client.EndpointCreate{URL: rc.URL, MaxInFlight: 1})
	const n = 15
	for range n {
		b.send("order.created", `{}`)
	}
	circuit := func() string { return b.getEndpoint(ep.ID).Circuit }
	eventually(t, func() bool { return circuit() == "open" }, "circuit opens")
	require.Equal(t, 10, rc.count(), "ten failures open the circuit; the rest wait")
	attempted := func() int {
		p, err := b.client.ListDeliveries(context.Background(), client.DeliveryListOptions{EndpointID: ep.ID, ListOptions: client.ListOptions{Limit: 100}})
		require.NoError(t, err)
		k := 0
		for _, d := range p.Data {
			if d.Attempts > 0 {
				k++
			}
		}
		return k
	}
	require.Equal(t, 10, attempted(), "waiting deliveries burn no attempts")

	// After the cool-down a single probe runs; it fails and the circuit
	// opens again for twice as long.
	clk.Advance(30 * time.Second)
	eventually(t, func() bool { return rc.count() == 11 && circuit() == "open" }, "one failed probe")
	clk.Advance(30 * time.Second)
	require.Equal(t, "open", circuit(), "the second cool-down is 60 s")

	healthy.Store(true)
	clk.Advance(31 * time.Second)
	eventually(t, func() bool { return circuit() == "closed" }, "a good probe closes the circuit")
	// The five never attempted and the probe run now; the ten failed ones
	// wait for their retry time (5 s after their attempt).
	eventually(t, func() bool { return rc.count() >= 11+5 }, "held deliveries flow again")
	clk.Advance(10 * time.Minute)
	eventually(t, func() bool {
		p, err := b.client.ListDeliveries(context.Background(), client.DeliveryListOptions{Status: client.DeliverySucceeded, ListOptions: client.ListOptions{Limit: 100}})
		return err == nil && len(p.Data) == n
	}, "every delivery succeeded")
}

// TestOrderedEndpointUnderRetries sends to an ordered endpoint whose
// receiver fails the first attempt of every third event: successes still
// arrive in accept order and nothing overtakes a failing head.
func TestOrderedEndpointUnderRetries(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	tries := map[string]int{}
	var delivered []string
	var inFlight, maxInFlight atomic.Int32
	rc := newReceiver(t, nil)
	rc.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		if n > maxInFlight.Load() {
			maxInFlight.Store(n)
		}
		var body struct {
			Data struct {
				I int `json:"i"`
			} `json:"data"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		id := r.Header.Get("webhook-id")
		mu.Lock()
		defer mu.Unlock()
		tries[id]++
		if body.Data.I%3 == 0 && tries[id] == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		delivered = append(delivered, id)
	})
	b := setup(t)
	b.endpoint(client.EndpointCreate{URL: rc.URL, Ordered: true, RetrySchedule: []string{"50ms", "50ms", "50ms"}})
	const n = 12
	ids := make([]string, n)
	for i := range n {
		ids[i] = b.send("order.created", `{"i":`+strconv.Itoa(i)+`}`).ID
	}
	eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(delivered) == n }, "all delivered")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, ids, delivered, "accept order, even across retries")
	require.Equal(t, int32(1), maxInFlight.Load(), "one delivery in flight")
}

func TestRecoverSince(t *testing.T) {
	t.Parallel()
	rc, healthy := newFailingReceiver(t, http.StatusBadGateway)
	b := setup(t)
	// One at a time, so the order of the queue is the order of arrival.
	ep := b.endpoint(client.EndpointCreate{URL: rc.URL, RetrySchedule: []string{"1ms"}, MaxInFlight: 1})
	since := time.Now().Add(-time.Second)
	var ids []string
	for range 5 {
		ev := b.send("order.created", `{}`)
		ids = append(ids, ev.ID)
		b.waitStatus(ev.ID, client.DeliveryFailed)
	}
	healthy.Store(true)
	before := rc.count()
	status, raw := b.do(http.MethodPost, "/v1/endpoints/"+ep.ID+"/recover", `{"since":"`+since.UTC().Format(time.RFC3339)+`"}`)
	require.Equal(t, http.StatusAccepted, status, "%v", raw)
	require.Len(t, raw["deliveries"], 5)
	for _, id := range ids {
		b.waitStatus(id, client.DeliverySucceeded)
	}
	require.Equal(t, ids, rc.webhookIDs()[before:], "re-queued in order")

	status, _ = b.do(http.MethodPost, "/v1/endpoints/"+ep.ID+"/recover", `{}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
}

func TestBatchPublish(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	b := setup(t)
	b.endpoint(client.EndpointCreate{URL: rc.URL})
	status, raw := b.do(http.MethodPost, "/v1/events/batch", `{"events":[
		{"type":"order.created","data":{"n":1},"idempotency_key":"k1"},
		{"type":"bad type","data":{}},
		{"type":"order.created","data":{"n":2},"idempotency_key":"k1"},
		{"type":"order.paid","data":{"n":3}}]}`)
	require.Equal(t, http.StatusOK, status, "%v", raw)
	res := raw["results"].([]any)
	require.Len(t, res, 4)
	first := res[0].(map[string]any)
	require.NotEmpty(t, first["id"])
	require.Equal(t, 1.0, first["deliveries"])
	require.Equal(t, "validation_failed", res[1].(map[string]any)["error"].(map[string]any)["code"])
	require.Equal(t, true, res[2].(map[string]any)["duplicate"])
	require.Equal(t, first["id"], res[2].(map[string]any)["id"], "a duplicate within the batch names the first")
	require.NotEmpty(t, res[3].(map[string]any)["id"])
	eventually(t, func() bool { return rc.count() == 2 }, "two accepted events delivered")

	status, _ = b.do(http.MethodPost, "/v1/events/batch", `{"events":[]}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
}

func TestRetentionPrunes(t *testing.T) {
	t.Parallel()
	clk := retryClock()
	rc := newReceiver(t, nil)
	b := setup(t, withClock(clk), withPruneInterval(20*time.Millisecond))
	b.endpoint(client.EndpointCreate{URL: rc.URL})
	old := b.send("order.created", `{}`)
	b.waitStatus(old.ID, client.DeliverySucceeded)
	clk.Advance(31 * 24 * time.Hour)
	recent := b.send("order.created", `{}`)
	b.waitStatus(recent.ID, client.DeliverySucceeded)
	eventually(t, func() bool {
		_, err := b.client.GetEvent(context.Background(), old.ID)
		var ce *client.Error
		return err != nil && asClientError(err, &ce) && ce.Status == http.StatusNotFound
	}, "the 31-day-old event is pruned")
	_, err := b.client.GetEvent(context.Background(), recent.ID)
	require.NoError(t, err, "recent events stay")
}

// TestFailingEndpointIsDisabled fails an endpoint for five days on an
// injected clock and checks it is disabled and endpoint.disabled is sent to
// an endpoint subscribed to it.
func TestFailingEndpointIsDisabled(t *testing.T) {
	t.Parallel()
	failing := newReceiver(t, func(_ int, w http.ResponseWriter) bool { w.WriteHeader(http.StatusInternalServerError); return true })
	ops := newReceiver(t, nil)
	clk := retryClock()
	b := setup(t, withClock(clk), withRand(func() float64 { return 0.5 }))
	ep := b.endpoint(client.EndpointCreate{URL: failing.URL, EventTypes: []string{"order.*"}, RetrySchedule: []string{"24h", "24h", "24h", "24h", "24h", "24h"}})
	b.endpoint(client.EndpointCreate{URL: ops.URL, EventTypes: []string{"endpoint.disabled"}})
	ev := b.send("order.created", `{}`)
	for day := range 6 {
		// Advance only once the attempt is recorded, so its retry time is
		// computed from the day it ran.
		eventually(t, func() bool {
			d := b.delivery(ev.ID)
			return failing.count() == day+1 && d.Attempts == day+1
		}, "attempt on day %d", day)
		clk.Advance(24 * time.Hour)
	}
	eventually(t, func() bool { return ops.count() == 1 }, "endpoint.disabled delivered")
	var body struct {
		Type string `json:"type"`
		Data struct {
			EndpointID string `json:"endpoint_id"`
			Reason     string `json:"reason"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(ops.requests()[0].body, &body))
	require.Equal(t, "endpoint.disabled", body.Type)
	require.Equal(t, ep.ID, body.Data.EndpointID)
	got := b.getEndpoint(ep.ID)
	require.False(t, got.Enabled)
	require.Contains(t, got.DisabledReason, "without a success")
	require.NotNil(t, got.FailingSince)

	// Turning it back on starts afresh: no failing period carried over.
	on := true
	got, err := b.client.UpdateEndpoint(context.Background(), ep.ID, client.EndpointUpdate{Enabled: &on})
	require.NoError(t, err)
	require.True(t, got.Enabled)
	require.Empty(t, got.DisabledReason)
	require.Nil(t, b.getEndpoint(ep.ID).FailingSince)
}
