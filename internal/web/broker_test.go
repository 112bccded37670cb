package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/testkit"
)

// TestBrokerEndpointPages: an endpoint that publishes to NATS is created
// with the form, shown with its token redacted, and its test button
// publishes a message the stream holds; the delivery page shows what
// JetStream acknowledged.
func TestBrokerEndpointPages(t *testing.T) {
	t.Parallel()
	js := testkit.NewJetStream(t)
	b := setup(t, "")
	c := browser(t)
	b.signIn(c, b.key)

	resp, page := b.post(c, "/endpoints", url.Values{"url": {"nats://127.0.0.1:4222/orders.*"}, "event_types": {"order.created"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	require.Contains(t, page, "wildcards")

	resp, _ = b.post(c, "/endpoints", url.Values{"url": {js.URL("t0ken-s3cret@")}, "name": {"stream"}, "event_types": {"order.created"}, "enabled": {"1"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	id := endpointID.FindStringSubmatch(resp.Header.Get("Location"))[1]
	shown := js.URL("redacted@")
	for _, path := range []string{"/endpoints/" + id, "/endpoints", "/endpoints/" + id + "/edit"} {
		_, page = b.get(c, path)
		require.Contains(t, page, shown, path)
		require.NotContains(t, page, "t0ken-s3cret", path)
	}

	resp, _ = b.post(c, "/endpoints/"+id+"/test", url.Values{"type": {"order.created"}, "data": {`{"order": 7}`}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	m := js.Fetch(1)[0]
	var payload struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(m.Body, &payload))
	require.Equal(t, "order.created", payload.Type)
	require.JSONEq(t, `{"order": 7}`, string(payload.Data))
	require.NotEmpty(t, m.Headers["webhook-signature"])
	var dlv string
	eventually(t, func() bool {
		_, page = b.get(c, "/deliveries?endpoint="+id+"&status=succeeded")
		if m := deliveryID.FindStringSubmatch(page); m != nil {
			dlv = m[1]
		}
		return dlv != ""
	}, "the test delivery succeeds")
	_, page = b.get(c, "/deliveries/"+dlv)
	require.Contains(t, page, "<h4>Acknowledgement</h4>")
	require.Contains(t, page, js.Name, "the stream that stored it")
	require.Contains(t, page, shown)
	require.NotContains(t, page, "t0ken-s3cret")
}
