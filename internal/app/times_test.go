package app_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/clock"
)

// wireTime is how every time of an answer is written.
var wireTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// requireWireTimes checks every "…_at" field of a JSON answer (the tests'
// event data has none) and returns how many it saw.
func requireWireTimes(t *testing.T, where string, v any) int {
	t.Helper()
	n := 0
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && strings.HasSuffix(k, "_at") {
				require.Regexp(t, wireTime, s, "%s: %s", where, k)
				n++
				continue
			}
			n += requireWireTimes(t, where+"."+k, x)
		}
	case []any:
		for _, x := range v {
			n += requireWireTimes(t, where, x)
		}
	}
	return n
}

// TestTimesHaveThreeDigits checks that times in answers always have three
// fraction digits, also when the milliseconds end in zeros.
func TestTimesHaveThreeDigits(t *testing.T) {
	t.Parallel()
	hook := newHook(t, http.StatusOK)
	clk := clock.NewManual(time.Date(2026, 11, 27, 0, 26, 17, 260*int(time.Millisecond), time.UTC))
	b := setup(t, withClock(clk))
	ctx := t.Context()

	// An SSE client, listening before the event is sent.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.url+"/v1/events/stream", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+b.key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	ep, err := b.client.CreateEndpoint(ctx, client.EndpointCreate{URL: hook.URL})
	require.NoError(t, err)
	_, err = b.client.CreateEventType(ctx, client.EventType{Name: "order.created"})
	require.NoError(t, err)
	ev, err := b.client.SendEvent(ctx, client.EventCreate{Type: "order.created", Data: json.RawMessage(`{"id": "ord_1"}`)})
	require.NoError(t, err)
	eventually(t, func() bool { return hook.count() == 1 }, "the delivery never arrived")

	status, body := b.do("GET", "/v1/events/"+ev.ID, "")
	apiRequire(t, 200, "", status, body)
	require.Equal(t, "2026-11-27T00:26:17.260Z", body["created_at"])
	require.Equal(t, "2026-11-27T00:26:17.260Z", body["occurred_at"])

	for _, path := range []string{
		"/v1/events/" + ev.ID,
		"/v1/events",
		"/v1/endpoints/" + ep.ID,
		"/v1/endpoints",
		"/v1/deliveries?event_id=" + ev.ID,
		"/v1/event-types/order.created",
	} {
		status, body := b.do("GET", path, "")
		apiRequire(t, 200, "", status, body)
		require.Positive(t, requireWireTimes(t, path, body), "GET %s has times", path)
	}
	dls, err := b.client.ListDeliveries(ctx, client.DeliveryListOptions{EventID: ev.ID})
	require.NoError(t, err)
	require.Len(t, dls.Data, 1)
	status, body = b.do("GET", "/v1/deliveries/"+dls.Data[0].ID, "")
	apiRequire(t, 200, "", status, body)
	require.GreaterOrEqual(t, requireWireTimes(t, "delivery", body), 3, "created_at, updated_at and an attempt's started_at")

	// The stream's data is the same event object.
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var streamed map[string]any
			require.NoError(t, json.Unmarshal([]byte(data), &streamed))
			require.Equal(t, "2026-11-27T00:26:17.260Z", streamed["occurred_at"], "streamed: %s", data)
			require.Equal(t, 2, requireWireTimes(t, "stream", streamed))
			break
		}
	}
	require.NoError(t, sc.Err())
}
