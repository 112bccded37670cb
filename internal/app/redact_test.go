package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/testkit"
)

// secretPart is in every secret header value of these tests: it must not
// be found in any answer of the API, any log line or any file of the data
// directory.
const secretPart = "s3cr3t"

// setupLogged is setup with the server's log lines, at debug level, in
// logs.
func setupLogged(t *testing.T) (b *bundle, logs *testkit.Buffer) {
	t.Helper()
	logs = &testkit.Buffer{}
	return setup(t, withLogger(logs)), logs
}

// raw GETs path and returns the body as it came.
func (b *bundle) raw(path string) string {
	b.t.Helper()
	status, body := b.rawGet(path)
	require.Equal(b.t, http.StatusOK, status, "GET %s: %s", path, body)
	return string(body)
}

// requireNotShown checks that no answer of the given paths holds the
// secret part.
func (b *bundle) requireNotShown(paths ...string) {
	b.t.Helper()
	for _, p := range paths {
		require.NotContains(b.t, b.raw(p), secretPart, "GET %s", p)
	}
}

// applyAction applies a declaration of one endpoint and returns what was
// done to it: created, unchanged or updated.
func (b *bundle) applyAction(decl string) string {
	b.t.Helper()
	status, out := b.do(http.MethodPost, "/v1/apply", decl)
	require.Equal(b.t, http.StatusOK, status, "%v", out)
	return out["changes"].([]any)[0].(map[string]any)["action"].(string)
}

// requireNowhere waits until deliveries settle, then checks that no log
// line in logs and no file of the data directory holds the secret part.
func (b *bundle) requireNowhere(logs *testkit.Buffer) {
	b.t.Helper()
	b.settled()
	require.NotContains(b.t, logs.String(), secretPart)
	b.requireNotAtRest()
}

// requireNotAtRest stops the server and checks that no file of its data
// directory (database, WAL) holds the secret part.
func (b *bundle) requireNotAtRest() {
	b.t.Helper()
	b.stop()
	n := 0
	err := filepath.WalkDir(b.cfg.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		require.False(b.t, strings.Contains(string(data), secretPart), "%s holds a secret header value", path)
		return nil
	})
	require.NoError(b.t, err)
	require.NotZero(b.t, n, "no files in the data directory")
}

// TestEndpointHeadersNeverShown: an endpoint's custom headers reach the
// receiver, but neither the endpoint, its attempt log, the logs nor the
// database show their values; GET, edit, PATCH keeps them.
func TestEndpointHeadersNeverShown(t *testing.T) {
	t.Parallel()
	b, logs := setupLogged(t)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter) bool {
		w.Header().Set("Set-Cookie", "sid=s3cr3t-cookie")
		w.Header().Set("X-Echo", "plain")
		w.WriteHeader(http.StatusOK)
		return true
	})
	ep := b.endpoint(client.EndpointCreate{URL: rc.URL, EventTypes: []string{"order.*"},
		Headers: map[string]string{"Authorization": "Bearer s3cr3t", "X-Team": "t3am-s3cr3t"}})
	require.Equal(t, map[string]string{"Authorization": "redacted", "X-Team": "redacted"}, ep.Headers, "names only")

	ev := b.send("order.created", `{"id": "o1"}`)
	d := b.waitStatus(ev.ID, client.DeliverySucceeded)
	got := rc.requests()[0].header
	require.Equal(t, "Bearer s3cr3t", got.Get("Authorization"), "the receiver gets the values")
	require.Equal(t, "t3am-s3cr3t", got.Get("X-Team"))
	b.requireNotShown("/v1/deliveries/"+d.ID, "/v1/endpoints/"+ep.ID, "/v1/endpoints", "/v1/events/"+ev.ID)
	a := d.AttemptLog[0]
	require.Equal(t, "redacted", a.RequestHeaders["Authorization"])
	require.Equal(t, "redacted", a.RequestHeaders["X-Team"])
	require.Equal(t, "redacted", a.RequestHeaders["Webhook-Signature"])
	require.Equal(t, ev.ID, a.RequestHeaders["Webhook-Id"], "other headers are shown")
	require.Equal(t, "redacted", a.ResponseHeaders["Set-Cookie"])
	require.Equal(t, "plain", a.ResponseHeaders["X-Echo"])

	// Sending back what GET showed keeps the stored values.
	status, out := b.do(http.MethodPatch, "/v1/endpoints/"+ep.ID,
		`{"headers": {"Authorization": "redacted", "X-Team": "redacted", "X-New": "n"}}`)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, map[string]any{"Authorization": "redacted", "X-Team": "redacted", "X-New": "redacted"}, out["headers"])
	b.send("order.created", `{"id": "o2"}`)
	eventually(t, func() bool { return rc.count() == 2 }, "second delivery")
	got = rc.requests()[1].header
	require.Equal(t, "Bearer s3cr3t", got.Get("Authorization"), "kept on PATCH")
	require.Equal(t, "t3am-s3cr3t", got.Get("X-Team"))
	require.Equal(t, "n", got.Get("X-New"))

	status, out = b.do(http.MethodPatch, "/v1/endpoints/"+ep.ID, `{"headers": {"X-Unknown": "redacted"}}`)
	apiRequire(t, http.StatusUnprocessableEntity, "validation_failed", status, out)
	status, out = b.do(http.MethodPost, "/v1/endpoints", fmt.Sprintf(`{"url": %q, "headers": {"Authorization": "redacted"}}`, rc.URL))
	apiRequire(t, http.StatusUnprocessableEntity, "validation_failed", status, out)

	// A declaration may state a header as shown: the value is kept.
	apply := func(value string) string {
		return b.applyAction(fmt.Sprintf(`{"endpoints": [{"name": "declared", "url": %q,
			"event_types": ["none.*"], "headers": {"Authorization": %q}}]}`, rc.URL, value))
	}
	require.Equal(t, "created", apply("Bearer s3cr3t-declared"))
	require.Equal(t, "unchanged", apply("redacted"))
	require.Equal(t, "updated", apply("Bearer s3cr3t-other"))

	b.requireNowhere(logs)
}

// TestEndpointURLPasswordNeverShown: the password in an endpoint's URL
// reaches the receiver (here as HTTP basic auth), but the API, the
// attempt log, the logs and the database show the URL with "redacted" in
// its place; the URL sent back or declared as shown keeps the password.
func TestEndpointURLPasswordNeverShown(t *testing.T) {
	t.Parallel()
	b, logs := setupLogged(t)
	rc := newHook(t, http.StatusOK)
	withPassword := strings.Replace(rc.URL, "http://", "http://hook:s3cr3t-pw@", 1)
	shown := strings.Replace(rc.URL, "http://", "http://hook:redacted@", 1)
	ep := b.endpoint(client.EndpointCreate{URL: withPassword, EventTypes: []string{"order.*"}})
	require.Equal(t, shown, ep.URL)
	ev := b.send("order.created", `{"id": "o1"}`)
	d := b.waitStatus(ev.ID, client.DeliverySucceeded)
	user, password, ok := (&http.Request{Header: rc.requests()[0].header}).BasicAuth()
	require.True(t, ok)
	require.Equal(t, "hook", user)
	require.Equal(t, "s3cr3t-pw", password)
	require.Equal(t, shown, d.AttemptLog[0].RequestURL)
	b.requireNotShown("/v1/deliveries/"+d.ID, "/v1/endpoints/"+ep.ID, "/v1/endpoints")

	status, out := b.do(http.MethodPatch, "/v1/endpoints/"+ep.ID, fmt.Sprintf(`{"url": %q, "description": "kept"}`, shown))
	require.Equal(t, http.StatusOK, status, "%v", out)
	b.send("order.created", `{"id": "o2"}`)
	eventually(t, func() bool { return rc.count() == 2 }, "second delivery")
	_, password, _ = (&http.Request{Header: rc.requests()[1].header}).BasicAuth()
	require.Equal(t, "s3cr3t-pw", password, "kept on PATCH")

	apply := func(url string) string {
		return b.applyAction(fmt.Sprintf(`{"endpoints": [{"name": "declared", "url": %q, "event_types": ["none.*"]}]}`, url))
	}
	require.Equal(t, "created", apply(withPassword))
	require.Equal(t, "unchanged", apply(shown))
	require.Equal(t, "updated", apply(strings.Replace(withPassword, "s3cr3t-pw", "s3cr3t-other", 1)))

	b.requireNowhere(logs)
}

// TestWorkflowStepLogHidesHeaders: an http step's headers reach the
// service; the run's step log shows their names only, and the answer's
// credentials are hidden too.
func TestWorkflowStepLogHidesHeaders(t *testing.T) {
	t.Parallel()
	b, logs := setupLogged(t)
	svc := newService(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Auth-Token", "answer-s3cr3t")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok": true}`)
	})
	b.saveWorkflow(fmt.Sprintf(`name: crm
on: { events: ["lead.created"] }
steps:
  - id: push
    http:
      method: POST
      url: "%s/leads"
      headers: { Authorization: "Bearer s3cr3t", X-Crm-Key: "k3y-s3cr3t", X-Team: "sales" }
      body: '{"lead": "{{ event.data.id }}"}'
`, svc.URL))
	b.send("lead.created", `{"id": "l1"}`)
	run := b.waitRun("crm", "succeeded")
	require.Equal(t, "Bearer s3cr3t", svc.header(0, "Authorization"))
	require.Equal(t, "k3y-s3cr3t", svc.header(0, "X-Crm-Key"))
	b.requireNotShown("/v1/runs/"+run["id"].(string), "/v1/runs")
	push := stepLog(run)["push"]
	require.Equal(t, map[string]any{"Authorization": "redacted", "X-Crm-Key": "redacted", "X-Team": "redacted"},
		push["input"].(map[string]any)["headers"], "configured headers: names only")
	answer := push["output"].(map[string]any)["headers"].(map[string]any)
	require.Equal(t, "redacted", answer["X-Auth-Token"])
	require.Equal(t, "application/json", answer["Content-Type"])
	require.NotContains(t, logs.String(), secretPart)
}

// TestContentLookupHeadersNeverShown: a notify rule's lookup headers reach
// the looked-up service and its webhook-channel message reaches an
// endpoint with a custom credential; the rule, its messages, the
// delivery, the logs and the database hold none of the values, and PUT
// with what GET showed keeps them.
func TestContentLookupHeadersNeverShown(t *testing.T) {
	t.Parallel()
	b, logs := setupLogged(t)
	crm := newService(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"points": 120}`)
	})
	rc := newReceiver(t, nil)
	b.endpoint(client.EndpointCreate{URL: rc.URL, EventTypes: []string{"shop.notice"},
		Headers: map[string]string{"X-Shop-Key": "k3y-s3cr3t"}})
	rule := fmt.Sprintf(`{"name": "points", "events": ["points.changed"], "recipient": "data.member", "template": "points",
		"channels": ["webhook"], "webhook_type": "shop.notice",
		"lookups": [{"name": "loyalty", "url": "%s/loyalty/{{ data.member }}", "headers": {"Authorization": "Bearer s3cr3t"}}]}`, crm.URL)
	status, out := b.do(http.MethodPost, "/v1/apply", `{
	"recipients": [{"id": "m1", "email": "grace@example.com", "name": "Grace"}],
	"templates": [{"name": "points", "subject": "{{.recipient.name}}: {{.records.loyalty.points}} points", "text": "points"}],
	"notify_rules": [`+rule+`]}`)
	require.Equal(t, http.StatusOK, status, "%v", out)

	b.send("points.changed", `{"member": "m1"}`)
	eventually(t, func() bool { return rc.count() == 1 }, "webhook message not delivered")
	require.Equal(t, "Bearer s3cr3t", crm.header(0, "Authorization"), "the lookup sends the value")
	require.Equal(t, "k3y-s3cr3t", rc.requests()[0].header.Get("X-Shop-Key"))
	require.Contains(t, string(rc.requests()[0].body), "Grace: 120 points")
	b.settled()
	deliveries, err := b.client.ListDeliveries(context.Background(), client.DeliveryListOptions{})
	require.NoError(t, err)
	paths := []string{"/v1/notify-rules/points", "/v1/notify-rules", "/v1/messages", "/v1/deliveries", "/v1/events"}
	for _, d := range deliveries.Data {
		paths = append(paths, "/v1/deliveries/"+d.ID)
	}
	b.requireNotShown(paths...)

	// PUT back what GET showed: the lookup keeps its credential.
	status, shown := b.do(http.MethodGet, "/v1/notify-rules/points", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, map[string]any{"Authorization": "redacted"}, shown["lookups"].([]any)[0].(map[string]any)["headers"])
	delete(shown, "created_at")
	delete(shown, "updated_at")
	put, err := json.Marshal(shown)
	require.NoError(t, err)
	status, out = b.do(http.MethodPut, "/v1/notify-rules/points", string(put))
	require.Equal(t, http.StatusOK, status, "%v", out)
	b.send("points.changed", `{"member": "m1"}`)
	eventually(t, func() bool { return rc.count() == 2 }, "second message not delivered")
	require.Equal(t, "Bearer s3cr3t", crm.header(1, "Authorization"), "kept on PUT")

	b.requireNowhere(logs)
}

// TestReceivedHeadersHideCredentials: a source keeps the headers it is
// told to keep, but a credential among them is stored redacted; a
// provider's signature is kept. A rejected request's credentials are
// hidden too, even in a header whose name does not say so (the source's
// API-key header).
func TestReceivedHeadersHideCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t)
	status, out := b.do(http.MethodPost, "/v1/sources", `{"name": "partner", "verification": {"kind": "none"},
		"keep_headers": ["Authorization", "X-Partner-Token", "X-Hub-Signature-256", "X-Request-Id"]}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Authorization", "Bearer s3cr3t")
	h.Set("X-Partner-Token", "t0k3n-s3cr3t")
	h.Set("X-Hub-Signature-256", "sha256=abc")
	h.Set("X-Request-Id", "req-1")
	code, resp := b.post("partner", []byte(`{"type": "a.b"}`), h)
	require.Equal(t, http.StatusOK, code, resp)
	evs := b.sourceEvents("partner")
	require.Len(t, evs, 1)
	b.requireNotShown("/v1/events/"+evs[0].ID, "/v1/events")
	full, err := b.client.GetEvent(context.Background(), evs[0].ID)
	require.NoError(t, err)
	require.Equal(t, "redacted", full.Headers["Authorization"])
	require.Equal(t, "redacted", full.Headers["X-Partner-Token"])
	require.Equal(t, "sha256=abc", full.Headers["X-Hub-Signature-256"], "a provider's signature is kept")
	require.Equal(t, "req-1", full.Headers["X-Request-Id"])

	src := b.source(client.SourceCreate{Name: "keyed", Verification: &client.Verification{Kind: "api-key", Header: "X-Partner",
		Secrets: []string{"the-right-key"}}})
	h = http.Header{}
	h.Set("X-Partner", "wrong-s3cr3t")
	h.Set("Cookie", "sid=s3cr3t")
	code, _ = b.post("keyed", []byte(`{}`), h)
	require.Equal(t, http.StatusUnauthorized, code)
	shown := b.raw("/v1/sources/" + src.ID + "/rejections")
	require.Contains(t, shown, `"X-Partner":"redacted"`)
	require.NotContains(t, shown, secretPart)
}
