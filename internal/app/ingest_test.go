package app_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/testkit"
)

func (b *bundle) source(in client.SourceCreate) *client.Source {
	b.t.Helper()
	var out client.Source
	body, err := json.Marshal(in)
	require.NoError(b.t, err)
	status, raw := b.do(http.MethodPost, "/v1/sources", string(body))
	require.Equal(b.t, http.StatusCreated, status, "create source: %v", raw)
	j, _ := json.Marshal(raw)
	require.NoError(b.t, json.Unmarshal(j, &out))
	return &out
}

// post sends a webhook to /in/{name} and returns the status and body.
func (b *bundle) post(name string, body []byte, header http.Header) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.url+"/in/"+name, bytes.NewReader(body))
	require.NoError(b.t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func (b *bundle) sourceEvents(name string) []client.Event {
	b.t.Helper()
	status, raw := b.do(http.MethodGet, "/v1/events?source="+name, "")
	require.Equal(b.t, http.StatusOK, status)
	j, _ := json.Marshal(raw["data"])
	var evs []client.Event
	require.NoError(b.t, json.Unmarshal(j, &evs))
	return evs
}

// TestGitHubGateway receives a GitHub-signed webhook and forwards it to an
// endpoint, re-signed with the endpoint's secret.
func TestGitHubGateway(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	b := setup(t)
	const secret = "It's a Secret to Everybody"
	src := b.source(client.SourceCreate{Name: "github", Verification: &client.Verification{Kind: "github", Secrets: []string{secret}}})
	require.Equal(t, "/in/github", src.Path)
	require.Equal(t, []string{"****body"}, src.Verification.Secrets, "secrets are masked")
	// The endpoint subscribes to nothing itself; it gets GitHub events only
	// through the forward subscription.
	ep := b.endpoint(client.EndpointCreate{URL: rc.URL, EventTypes: []string{"none.*"}})
	status, raw := b.do(http.MethodPost, "/v1/subscriptions", `{"event_types":["github.*"],"destination":{"kind":"forward","endpoint_id":"`+ep.ID+`"}}`)
	require.Equal(t, http.StatusCreated, status, "%v", raw)

	body := []byte(`{"ref":"refs/heads/main","repository":{"full_name":"acme/shop"}}`)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-GitHub-Event", "push")
	h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	h.Set("X-Hub-Signature-256", testkit.GitHubSignature(secret, body))
	code, resp := b.post("github", body, h)
	require.Equal(t, http.StatusOK, code, resp)
	require.Contains(t, resp, `"id":"evt_`)

	eventually(t, func() bool { return rc.count() == 1 }, "forwarded")
	got := rc.requests()[0]
	require.JSONEq(t, string(body), string(got.body), "the received data is forwarded as is")
	wh, err := standardwebhooks.NewWebhook(ep.Secret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(got.body, got.header), "re-signed with the endpoint's secret")

	evs := b.sourceEvents("github")
	require.Len(t, evs, 1)
	require.Equal(t, "github.push", evs[0].Type)
	full, err := b.client.GetEvent(context.Background(), evs[0].ID)
	require.NoError(t, err)
	require.Equal(t, string(body), full.RawBody, "raw bytes are kept")
	require.Equal(t, "push", full.Headers["X-Github-Event"])

	// The same delivery again is a duplicate: 200, not routed again.
	code, resp = b.post("github", body, h)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, resp, `"duplicate":true`)
	require.Len(t, b.sourceEvents("github"), 1)

	// A wrong signature is refused with a generic message and logged.
	h.Set("X-Hub-Signature-256", testkit.GitHubSignature("wrong", body))
	h.Set("X-GitHub-Delivery", "another")
	code, resp = b.post("github", body, h)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Contains(t, resp, "verification failed")
	require.NotContains(t, resp, "signature", "no hint which part was wrong")
	status, raw = b.do(http.MethodGet, "/v1/sources/"+src.ID+"/rejections", "")
	require.Equal(t, http.StatusOK, status)
	rej := raw["data"].([]any)
	require.Len(t, rej, 1)
	require.NotEmpty(t, rej[0].(map[string]any)["reason"])
	require.Equal(t, 1, rc.count())
}

func TestStripeSource(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const secret = "whsec_stripe_test_secret"
	b.source(client.SourceCreate{Name: "stripe", Verification: &client.Verification{Kind: "stripe", Secrets: []string{"old", secret}}})
	payload := []byte(`{"id":"evt_1Nabc","object":"event","type":"payment_intent.succeeded","data":{"object":{"amount":4200}}}`)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: time.Now()})
	h := http.Header{"Content-Type": {"application/json"}, "Stripe-Signature": {signed.Header}}
	code, resp := b.post("stripe", payload, h)
	require.Equal(t, http.StatusOK, code, resp)
	code, resp = b.post("stripe", payload, h)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, resp, `"duplicate":true`, "Stripe's event id dedups")
	evs := b.sourceEvents("stripe")
	require.Len(t, evs, 1)
	require.Equal(t, "stripe.payment_intent.succeeded", evs[0].Type)

	stale := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: time.Now().Add(-time.Hour)})
	code, _ = b.post("stripe", payload, http.Header{"Stripe-Signature": {stale.Header}})
	require.Equal(t, http.StatusUnauthorized, code)
}

// TestVerificationRejects runs the negative table of every scheme through
// HTTP: each request is refused and nothing is stored.
func TestVerificationRejects(t *testing.T) {
	t.Parallel()
	b := setup(t)
	swSecret := "whsec_" + strings.Repeat("QUJD", 8)
	b.source(client.SourceCreate{Name: "sw", Verification: &client.Verification{Kind: "standard-webhooks", Secrets: []string{swSecret}}})
	b.source(client.SourceCreate{Name: "gh", Verification: &client.Verification{Kind: "github", Secrets: []string{"new"}}})
	b.source(client.SourceCreate{Name: "shop", Verification: &client.Verification{Kind: "shopify", Secrets: []string{"shh"}}})
	b.source(client.SourceCreate{Name: "slack", Verification: &client.Verification{Kind: "slack", Secrets: []string{"sl"}}})
	b.source(client.SourceCreate{Name: "basic", Verification: &client.Verification{Kind: "basic", Secrets: []string{"u:p"}}})
	b.source(client.SourceCreate{Name: "key", Verification: &client.Verification{Kind: "api-key", Secrets: []string{"k1"}, QueryParam: "token"}})
	small := int64(1024)
	b.source(client.SourceCreate{Name: "tiny", Verification: &client.Verification{Kind: "none"}, MaxBodyBytes: &small})

	body := []byte(`{"type":"x.y","n":1}`)
	now := time.Now()
	wh, err := standardwebhooks.NewWebhook(swSecret)
	require.NoError(t, err)
	swHeaders := func(id string, ts time.Time, b []byte) http.Header {
		sig, err := wh.Sign(id, ts, b)
		require.NoError(t, err)
		return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {strconv.FormatInt(ts.Unix(), 10)}, "Webhook-Signature": {sig}}
	}
	slackSig := func(secret string, ts time.Time, b []byte) http.Header {
		m := hmac.New(sha256.New, []byte(secret))
		fmt.Fprintf(m, "v0:%d:%s", ts.Unix(), b)
		return http.Header{"X-Slack-Request-Timestamp": {strconv.FormatInt(ts.Unix(), 10)},
			"X-Slack-Signature": {"v0=" + hex.EncodeToString(m.Sum(nil))}}
	}
	cases := []struct {
		name, source string
		body         []byte
		header       http.Header
		query        string
		status       int
	}{
		{"sw wrong secret", "sw", body, func() http.Header {
			w2, _ := standardwebhooks.NewWebhook("whsec_" + strings.Repeat("WFla", 8))
			sig, _ := w2.Sign("m1", now, body)
			return http.Header{"Webhook-Id": {"m1"}, "Webhook-Timestamp": {strconv.FormatInt(now.Unix(), 10)}, "Webhook-Signature": {sig}}
		}(), "", 401},
		{"sw tampered body", "sw", []byte(`{"type":"x.y","n":2}`), swHeaders("m2", now, body), "", 401},
		{"sw stale timestamp", "sw", body, swHeaders("m3", now.Add(-10*time.Minute), body), "", 401},
		{"sw missing header", "sw", body, http.Header{"Webhook-Id": {"m4"}}, "", 401},
		{"github rotated-out secret", "gh", body, http.Header{"X-Hub-Signature-256": {testkit.GitHubSignature("old", body)}}, "", 401},
		{"github missing header", "gh", body, nil, "", 401},
		{"shopify tampered", "shop", []byte(`{}`), http.Header{"X-Shopify-Hmac-Sha256": {"bm9wZQ=="}}, "", 401},
		{"slack stale", "slack", body, slackSig("sl", now.Add(-time.Hour), body), "", 401},
		{"slack wrong secret", "slack", body, slackSig("nope", now, body), "", 401},
		{"basic wrong password", "basic", body, http.Header{"Authorization": {"Basic dTp4"}}, "", 401},
		{"api-key wrong", "key", body, nil, "?token=k2", 401},
		{"oversize body", "tiny", bytes.Repeat([]byte("a"), 2048), nil, "", 413},
		{"unknown source", "missing", body, nil, "", 404},
	}
	for _, c := range cases {
		status, _ := b.post(c.source+c.query, c.body, c.header)
		require.Equal(t, c.status, status, c.name)
	}
	evs, err := b.client.ListEvents(context.Background(), client.EventListOptions{})
	require.NoError(t, err)
	require.Empty(t, evs.Data, "nothing was stored")

	// And the positive cases pass.
	for _, c := range []struct {
		source string
		header http.Header
		query  string
	}{
		{"sw", swHeaders("ok1", now, body), ""},
		{"gh", http.Header{"X-Hub-Signature-256": {testkit.GitHubSignature("new", body)}, "X-Github-Event": {"ping"}}, ""},
		{"slack", slackSig("sl", now, body), ""},
		{"basic", http.Header{"Authorization": {"Basic dTpw"}}, ""},
		{"key", nil, "?token=k1"},
	} {
		header := http.Header{"Content-Type": {"application/json"}}
		maps.Copy(header, c.header)
		status, _ := b.post(c.source+c.query, body, header)
		require.Equal(t, http.StatusOK, status, c.source)
	}
	resp, err := http.Get(b.url + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(metrics), `hookline_ingest_requests_total{result="rejected_verification",source="sw"} 4`)
}

func TestConcurrentDuplicatesMakeOneEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	secret := "whsec_" + strings.Repeat("QUJD", 8)
	b.source(client.SourceCreate{Name: "sw", Verification: &client.Verification{Kind: "standard-webhooks", Secrets: []string{secret}}})
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	body := []byte(`{"type":"order.created","data":{"id":1}}`)
	now := time.Now()
	sig, err := wh.Sign("msg_same", now, body)
	require.NoError(t, err)
	h := http.Header{"Webhook-Id": {"msg_same"}, "Webhook-Timestamp": {strconv.FormatInt(now.Unix(), 10)},
		"Webhook-Signature": {sig}, "Content-Type": {"application/json"}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	dups, ids := 0, map[string]bool{}
	for range 20 {
		wg.Go(func() {
			code, resp := b.post("sw", body, h)
			var out struct {
				ID        string `json:"id"`
				Duplicate bool   `json:"duplicate"`
			}
			_ = json.Unmarshal([]byte(resp), &out)
			mu.Lock()
			defer mu.Unlock()
			if code == http.StatusOK {
				ids[out.ID] = true
				if out.Duplicate {
					dups++
				}
			}
		})
	}
	wg.Wait()
	require.Len(t, ids, 1, "every answer names the same event")
	require.Equal(t, 19, dups)
	evs := b.sourceEvents("sw")
	require.Len(t, evs, 1)
	require.Equal(t, "order.created", evs[0].Type, "standard-webhooks sources take the type from the body")
}

func TestHandshakesAndBodies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.source(client.SourceCreate{Name: "open", Verification: &client.Verification{Kind: "none"},
		Handshake: &client.SourceHandshake{EchoQuery: "hub.challenge"}, EventType: &client.SourceEventType{Path: "action", Prefix: "shop."}})

	// CloudEvents abuse-protection handshake.
	req, _ := http.NewRequest(http.MethodOptions, b.url+"/in/open", nil)
	req.Header.Set("WebHook-Request-Origin", "eventemitter.example.com")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "eventemitter.example.com", resp.Header.Get("WebHook-Allowed-Origin"))

	// Echo of a query value.
	resp, err = http.Get(b.url + "/in/open?hub.challenge=12345")
	require.NoError(t, err)
	echoed, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "12345", string(echoed))

	// Slack's url_verification challenge.
	code, out := b.post("open", []byte(`{"type":"url_verification","challenge":"3eZbrw1a"}`), http.Header{"Content-Type": {"application/json"}})
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, `{"challenge":"3eZbrw1a"}`, out)

	// A form body (GitHub's form content type) is normalised to JSON.
	form := "payload=" + `%7B%22action%22%3A%22opened%22%2C%22n%22%3A1%7D`
	code, out = b.post("open", []byte(form), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	require.Equal(t, http.StatusOK, code, out)
	// XML and text too.
	code, _ = b.post("open", []byte(`<order><action>paid</action></order>`), http.Header{"Content-Type": {"application/xml"}})
	require.Equal(t, http.StatusUnprocessableEntity, code, "no action at the configured path")
	code, out = b.post("open", []byte("not json"), http.Header{"Content-Type": {"application/json"}})
	require.Equal(t, http.StatusBadRequest, code, out)

	evs := b.sourceEvents("open")
	require.Len(t, evs, 1, "handshakes and refused bodies store nothing")
	require.Equal(t, "shop.opened", evs[0].Type)
	require.JSONEq(t, `{"action":"opened","n":1}`, string(evs[0].Data))
}

// TestCloudEventsBothModes sends CloudEvents with the official SDK to
// /in/{source} in binary and structured mode.
func TestCloudEventsBothModes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.source(client.SourceCreate{Name: "ce", Verification: &client.Verification{Kind: "api-key", Secrets: []string{"ce-key-123"}}})
	c, err := cloudevents.NewClientHTTP(cloudevents.WithTarget(b.url+"/in/ce"), cehttp.WithHeader("X-API-Key", "ce-key-123"))
	require.NoError(t, err)
	for i, structured := range []bool{false, true} {
		e := cloudevents.NewEvent()
		e.SetID("ce-" + strconv.Itoa(i))
		e.SetSource("/shop/orders")
		e.SetType("com.example.order.created")
		e.SetTime(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC))
		require.NoError(t, e.SetData(cloudevents.ApplicationJSON, map[string]any{"order": i}))
		ctx := cloudevents.WithEncodingBinary(context.Background())
		if structured {
			ctx = cloudevents.WithEncodingStructured(context.Background())
		}
		require.True(t, cloudevents.IsACK(c.Send(ctx, e)), "mode %d accepted", i)
		// The same CloudEvent id again is a duplicate.
		require.True(t, cloudevents.IsACK(c.Send(ctx, e)))
	}
	evs := b.sourceEvents("ce")
	require.Len(t, evs, 2, "one event per CloudEvent id")
	for _, ev := range evs {
		require.Equal(t, "com.example.order.created", ev.Type)
		require.Equal(t, time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), ev.OccurredAt.UTC())
	}
	require.JSONEq(t, `{"order":1}`, string(evs[0].Data), "structured mode: data from the envelope")
	require.JSONEq(t, `{"order":0}`, string(evs[1].Data), "binary mode: data is the body")
}

func TestForwardTransformAndApply(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	b := setup(t)
	decl := fmt.Sprintf(`{
	  "endpoints": [{"name": "relay", "url": %q, "event_types": ["none.*"]}],
	  "sources": [{"name": "shop", "verification": {"kind": "none"}, "event_type": {"path": "topic", "prefix": "shop."}}],
	  "subscriptions": [{"name": "orders", "event_types": ["shop.order.*"], "filter": "data.total > 10",
	    "destination": {"kind": "forward", "endpoint": "relay"}, "transform": "{\"order\": data.id, \"cents\": data.total * 100}"}]
	}`, rc.URL)
	status, raw := b.do(http.MethodPost, "/v1/apply", decl)
	require.Equal(t, http.StatusOK, status, "%v", raw)
	changes := raw["changes"].([]any)
	require.Len(t, changes, 3)
	for _, c := range changes {
		require.Equal(t, "created", c.(map[string]any)["action"])
	}
	require.NotEmpty(t, changes[0].(map[string]any)["secret"], "a created endpoint's secret is shown once")

	// Applying again changes nothing.
	status, raw = b.do(http.MethodPost, "/v1/apply", decl)
	require.Equal(t, http.StatusOK, status)
	for _, c := range raw["changes"].([]any) {
		require.Equal(t, "unchanged", c.(map[string]any)["action"], "%v", c)
	}

	code, _ := b.post("shop", []byte(`{"topic":"order/paid","id":"o1","total":5}`), http.Header{"Content-Type": {"application/json"}})
	require.Equal(t, http.StatusOK, code)
	code, _ = b.post("shop", []byte(`{"topic":"order/paid","id":"o2","total":12.5}`), http.Header{"Content-Type": {"application/json"}})
	require.Equal(t, http.StatusOK, code)
	eventually(t, func() bool { return rc.count() == 1 }, "only the event passing the filter is forwarded")
	require.JSONEq(t, `{"order":"o2","cents":1250}`, string(rc.requests()[0].body), "reshaped by the transform")

	// A bad declaration is refused whole, naming the resource.
	status, raw = b.do(http.MethodPost, "/v1/apply", `{"sources":[{"name":"ok","verification":{"kind":"none"}},
		{"name":"bad","verification":{"kind":"hmac"}}]}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	details := raw["error"].(map[string]any)["details"].(map[string]any)
	require.Equal(t, "sources[1]", details["resource"])
	_, err := b.client.ListEndpoints(context.Background(), client.ListOptions{})
	require.NoError(t, err)
	code, _ = b.post("ok", []byte(`{}`), nil)
	require.Equal(t, http.StatusNotFound, code, "nothing of a refused declaration is written")
}
