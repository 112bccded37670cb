package app_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/expr"
)

// apiCounts is how many resources a tenant has.
type apiCounts struct{ Endpoints, Events, Deliveries, EventTypes int }

func apiCountAll(t *testing.T, c *client.Client) apiCounts {
	t.Helper()
	ctx := t.Context()
	all := client.ListOptions{Limit: 1000}
	eps, err := c.ListEndpoints(ctx, all)
	require.NoError(t, err)
	evs, err := c.ListEvents(ctx, client.EventListOptions{ListOptions: all})
	require.NoError(t, err)
	dls, err := c.ListDeliveries(ctx, client.DeliveryListOptions{ListOptions: all})
	require.NoError(t, err)
	ets, err := c.ListEventTypes(ctx)
	require.NoError(t, err)
	return apiCounts{len(eps.Data), len(evs.Data), len(dls.Data), len(ets)}
}

// apiErrorOf returns the code, message and details of an error answer.
func apiErrorOf(t *testing.T, body map[string]any) (code, msg string, details map[string]any) {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	require.True(t, ok, "want an error body, got %v", body)
	code, _ = e["code"].(string)
	msg, _ = e["message"].(string)
	details, _ = e["details"].(map[string]any)
	return code, msg, details
}

// apiRequire checks the status of an answer and, for errors, its code.
func apiRequire(t *testing.T, wantStatus int, wantCode string, status int, body map[string]any) {
	t.Helper()
	require.Equal(t, wantStatus, status, "body: %v", body)
	if wantCode != "" {
		code, _, _ := apiErrorOf(t, body)
		require.Equal(t, wantCode, code, "body: %v", body)
	}
}

func apiBearer(key string) []string { return []string{"Authorization", "Bearer " + key} }

const apiPaymentSchema = `{"type": "object", "required": ["amount"],
  "properties": {
    "amount": {"type": "integer", "minimum": 1},
    "currency": {"enum": ["EUR", "USD"]},
    "customer": {"type": "object", "properties": {"email": {"type": "string"}}}}}`

func TestBadInput(t *testing.T) {
	t.Parallel()
	hook := newHook(t, http.StatusOK)
	b := setup(t)
	guarded := setup(t, withoutPrivateNetworks())

	// Something to route to and something to change, so a request that
	// wrongly gets through shows in the counts.
	_, err := b.client.CreateEndpoint(t.Context(), client.EndpointCreate{URL: hook.URL})
	require.NoError(t, err)
	_, err = b.client.CreateEventType(t.Context(), client.EventType{Name: "payment.made", Schema: json.RawMessage(apiPaymentSchema)})
	require.NoError(t, err)
	_, err = b.client.SendEvent(t.Context(), client.EventCreate{Type: "payment.made", Data: json.RawMessage(`{"amount": 5}`)})
	require.NoError(t, err)

	_, filterErr := expr.CompileFilter("data.amount >")
	require.Error(t, filterErr)
	huge := strings.Repeat("a", 1<<20)
	longKey := strings.Repeat("k", 257)

	tests := []struct {
		name         string
		guarded      bool // on the server started without private networks
		method, path string
		body         string
		headers      []string
		status       int
		code         string
		msg          string         // substring of the message
		details      map[string]any // entries the details must hold
	}{
		{name: "malformed JSON", method: "POST", path: "/v1/events", body: `{"type": "a.b", "data": {`,
			status: 400, code: "invalid_json"},
		{name: "not JSON at all", method: "POST", path: "/v1/events", body: `type=a.b`, status: 400, code: "invalid_json"},
		{name: "empty body", method: "POST", path: "/v1/events", body: ``, headers: []string{"Content-Type", "application/json"},
			status: 400, code: "invalid_json"},
		{name: "trailing data", method: "POST", path: "/v1/events", body: `{"type": "a.b", "data": {}} {}`,
			status: 400, code: "invalid_json"},
		{name: "wrong field type", method: "POST", path: "/v1/events", body: `{"type": 5, "data": {}}`,
			status: 400, code: "invalid_json", msg: "type", details: map[string]any{"field": "type"}},
		{name: "unknown field", method: "POST", path: "/v1/events", body: `{"type": "a.b", "data": {}, "extra": 1}`,
			status: 400, code: "invalid_json", msg: "extra"},
		{name: "missing data", method: "POST", path: "/v1/events", body: `{"type": "a.b"}`,
			status: 422, code: "validation_failed", details: map[string]any{"field": "data"}},
		{name: "null data", method: "POST", path: "/v1/events", body: `{"type": "a.b", "data": null}`,
			status: 422, code: "validation_failed", details: map[string]any{"field": "data"}},
		{name: "data an array", method: "POST", path: "/v1/events", body: `{"type": "a.b", "data": [1]}`,
			status: 422, code: "validation_failed", details: map[string]any{"field": "data"}},
		{name: "data a string", method: "POST", path: "/v1/events", body: `{"type": "a.b", "data": "{}"}`,
			status: 422, code: "validation_failed", details: map[string]any{"field": "data"}},
		{name: "bad event type", method: "POST", path: "/v1/events", body: `{"type": "order..created", "data": {}}`,
			status: 422, code: "validation_failed", details: map[string]any{"field": "type"}},
		{name: "empty event type", method: "POST", path: "/v1/events", body: `{"type": "", "data": {}}`,
			status: 422, code: "validation_failed", details: map[string]any{"field": "type"}},
		{name: "schema: wrong type", method: "POST", path: "/v1/events", body: `{"type": "payment.made", "data": {"amount": "ten"}}`,
			status: 422, code: "schema_violation", msg: "/amount",
			details: map[string]any{"path": "/amount", "event_type": "payment.made"}},
		{name: "schema: nested", method: "POST", path: "/v1/events",
			body:   `{"type": "payment.made", "data": {"amount": 3, "customer": {"email": 7}}}`,
			status: 422, code: "schema_violation", details: map[string]any{"path": "/customer/email"}},
		{name: "schema: below minimum", method: "POST", path: "/v1/events", body: `{"type": "payment.made", "data": {"amount": 0}}`,
			status: 422, code: "schema_violation", details: map[string]any{"path": "/amount"}},
		{name: "event over 1 MiB", method: "POST", path: "/v1/events",
			body:   `{"type": "a.b", "data": {"x": "` + huge + `"}}`,
			status: 413, code: "payload_too_large"},
		{name: "endpoint over 1 MiB", method: "POST", path: "/v1/endpoints",
			body:   `{"url": "http://example.com/", "description": "` + huge + `"}`,
			status: 413, code: "payload_too_large"},
		{name: "endpoint URL not a URL", method: "POST", path: "/v1/endpoints", body: `{"url": "not a url"}`,
			status: 422, code: "validation_failed", details: map[string]any{"field": "url"}},
		{name: "endpoint URL ftp", method: "POST", path: "/v1/endpoints", body: `{"url": "ftp://x"}`,
			status: 422, code: "validation_failed", msg: "http or https", details: map[string]any{"field": "url"}},
		{name: "endpoint URL missing", method: "POST", path: "/v1/endpoints", body: `{"description": "x"}`,
			status: 422, code: "validation_failed", details: map[string]any{"field": "url"}},
		{name: "nats URL without subject", method: "POST", path: "/v1/endpoints", body: `{"url": "nats://nats.example.com"}`,
			status: 422, code: "validation_failed", msg: "path must name the subject", details: map[string]any{"field": "url"}},
		{name: "nats URL with wildcard", method: "POST", path: "/v1/endpoints", body: `{"url": "nats://nats.example.com/orders.>"}`,
			status: 422, code: "validation_failed", msg: "wildcards", details: map[string]any{"field": "url"}},
		{name: "amqp URL without routing key", method: "POST", path: "/v1/endpoints", body: `{"url": "amqp://u:pw@mq.example.com/orders"}`,
			status: 422, code: "validation_failed", msg: "path must be /exchange/routing-key", details: map[string]any{"field": "url"}},
		{name: "redis URL bad db", method: "POST", path: "/v1/endpoints", body: `{"url": "redis://redis.example.com/s?db=x"}`,
			status: 422, code: "validation_failed", msg: "database number", details: map[string]any{"field": "url"}},
		{name: "kafka URL bad topic", method: "POST", path: "/v1/endpoints", body: `{"url": "kafka://kafka.example.com/a b"}`,
			status: 422, code: "validation_failed", msg: "topic", details: map[string]any{"field": "url"}},
		{name: "redacted URL credential of a new endpoint", method: "POST", path: "/v1/endpoints",
			body:   `{"url": "amqp://u:redacted@mq.example.com/x/k"}`,
			status: 422, code: "validation_failed", msg: "keeps the current one", details: map[string]any{"field": "url"}},
		{name: "broker on loopback", guarded: true, method: "POST", path: "/v1/endpoints", body: `{"url": "redis://:pw@127.0.0.1/s"}`,
			status: 422, code: "validation_failed", msg: "allow-private-networks", details: map[string]any{"field": "url"}},
		{name: "endpoint to loopback", guarded: true, method: "POST", path: "/v1/endpoints", body: `{"url": "http://127.0.0.1:9/"}`,
			status: 422, code: "validation_failed", msg: "allow-private-networks", details: map[string]any{"field": "url"}},
		{name: "endpoint to private network", guarded: true, method: "POST", path: "/v1/endpoints", body: `{"url": "http://10.0.0.1/"}`,
			status: 422, code: "validation_failed", msg: "allow-private-networks", details: map[string]any{"field": "url"}},
		{name: "bad filter", method: "POST", path: "/v1/endpoints", body: `{"url": "http://example.com/", "filter": "data.amount >"}`,
			status: 422, code: "validation_failed", msg: filterErr.Error(), details: map[string]any{"field": "filter"}},
		{name: "bad format", method: "POST", path: "/v1/endpoints", body: `{"url": "http://example.com/", "format": "yaml"}`,
			status: 422, code: "validation_failed", details: map[string]any{"field": "format"}},
		{name: "reserved header", method: "POST", path: "/v1/endpoints",
			body:   `{"url": "http://example.com/", "headers": {"webhook-signature": "v1,x"}}`,
			status: 422, code: "validation_failed", msg: "webhook-signature", details: map[string]any{"field": "headers"}},
		{name: "timeout too long", method: "POST", path: "/v1/endpoints", body: `{"url": "http://example.com/", "timeout": "1h"}`,
			status: 422, code: "validation_failed", details: map[string]any{"field": "timeout"}},
		{name: "timeout too short", method: "POST", path: "/v1/endpoints", body: `{"url": "http://example.com/", "timeout": "10ms"}`,
			status: 422, code: "validation_failed", details: map[string]any{"field": "timeout"}},
		{name: "bad event pattern", method: "POST", path: "/v1/endpoints", body: `{"url": "http://example.com/", "event_types": ["a..b"]}`,
			status: 422, code: "validation_failed", details: map[string]any{"field": "event_types"}},
		{name: "collection renamed by PUT", method: "PUT", path: "/v1/collections/a", body: `{"name": "b"}`,
			status: 422, code: "validation_failed", msg: `name: is "b" but the URL names "a"; a collection cannot be renamed`, details: map[string]any{"field": "name"}},
		{name: "recipient renamed by PUT", method: "PUT", path: "/v1/recipients/a", body: `{"id": "b"}`,
			status: 422, code: "validation_failed", msg: `id: is "b" but the URL names "a"`, details: map[string]any{"field": "id"}},
		{name: "notify rule renamed by PUT", method: "PUT", path: "/v1/notify-rules/a", body: `{"name": "b"}`,
			status: 422, code: "validation_failed", msg: `name: is "b" but the URL names "a"`, details: map[string]any{"field": "name"}},
		{name: "missing Authorization", method: "GET", path: "/v1/endpoints", headers: []string{"Authorization", ""},
			status: 401, code: "unauthorized", msg: "Bearer"},
		{name: "invalid key", method: "POST", path: "/v1/events", body: `{"type": "a.b", "data": {}}`,
			headers: apiBearer("hk_not_a_key"), status: 401, code: "unauthorized"},
		{name: "Basic Authorization", method: "POST", path: "/v1/events", body: `{"type": "a.b", "data": {}}`,
			headers: []string{"Authorization", "Basic x"}, status: 401, code: "unauthorized"},
		{name: "wrong Content-Type", method: "POST", path: "/v1/events", body: `{"type": "a.b", "data": {}}`,
			headers: []string{"Content-Type", "text/plain"}, status: 415, code: "unsupported_media_type"},
		{name: "unknown route", method: "GET", path: "/v1/nothing-here", status: 404, code: "not_found"},
		{name: "wrong method", method: "PUT", path: "/v1/endpoints", body: `{}`, status: 405, code: "method_not_allowed"},
		{name: "idempotency header too long", method: "POST", path: "/v1/events", body: `{"type": "a.b", "data": {}}`,
			headers: []string{"Idempotency-Key", longKey}, status: 422, code: "validation_failed",
			details: map[string]any{"field": "idempotency_key"}},
		{name: "idempotency field too long", method: "POST", path: "/v1/events",
			body:   `{"type": "a.b", "data": {}, "idempotency_key": "` + longKey + `"}`,
			status: 422, code: "validation_failed", details: map[string]any{"field": "idempotency_key"}},
		{name: "limit 0", method: "GET", path: "/v1/events?limit=0", status: 400, code: "bad_request"},
		{name: "limit abc", method: "GET", path: "/v1/endpoints?limit=abc", status: 400, code: "bad_request"},
		{name: "limit negative", method: "GET", path: "/v1/deliveries?limit=-1", status: 400, code: "bad_request"},
		{name: "limit too large", method: "GET", path: "/v1/events?limit=1001", status: 400, code: "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := b
			if tt.guarded {
				srv = guarded
			}
			before := apiCountAll(t, srv.client)
			status, body := srv.do(tt.method, tt.path, tt.body, tt.headers...)
			apiRequire(t, tt.status, tt.code, status, body)
			_, msg, details := apiErrorOf(t, body)
			require.Contains(t, msg, tt.msg)
			for k, v := range tt.details {
				require.Equal(t, v, details[k], "details[%q] in %v", k, body)
			}
			require.Equal(t, before, apiCountAll(t, srv.client), "a rejected request changes nothing")
		})
	}

	t.Run("405 lists every allowed method", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPut, b.url+"/v1/endpoints", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+b.key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		allow := strings.Split(strings.ReplaceAll(resp.Header.Get("Allow"), " ", ""), ",")
		require.Subset(t, allow, []string{"GET", "POST"}, "RFC 9110 §15.5.6: Allow lists the supported methods")
	})

	t.Run("schema path of the first violation is stable", func(t *testing.T) {
		// Three violations: the answer must name the same one every time,
		// the first in document (and in path) order.
		for range 20 {
			status, body := b.do("POST", "/v1/events",
				`{"type": "payment.made", "data": {"amount": 0, "currency": "GBP", "customer": {"email": 1}}}`)
			apiRequire(t, 422, "schema_violation", status, body)
			_, _, details := apiErrorOf(t, body)
			require.Equal(t, "/amount", details["path"])
		}
	})
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	hook := newHook(t, http.StatusOK)
	b := setup(t)
	ctx := t.Context()

	ep := b.endpoint(client.EndpointCreate{URL: hook.URL, Description: "mine"})
	_, err := b.client.CreateEventType(ctx, client.EventType{Name: "order.created"})
	require.NoError(t, err)
	ev := b.send("order.created", `{"n": 1}`)
	dls, err := b.client.ListDeliveries(ctx, client.DeliveryListOptions{EventID: ev.ID})
	require.NoError(t, err)
	require.Len(t, dls.Data, 1)
	dl := dls.Data[0]
	eventually(t, func() bool { return hook.count() == 1 }, "first delivery never arrived")
	keys, err := b.client.ListAPIKeys(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 1)

	status, body := b.do("POST", "/v1/tenants", `{"name": "other"}`)
	apiRequire(t, 201, "", status, body)
	var created client.TenantCreated
	raw, _ := json.Marshal(body)
	require.NoError(t, json.Unmarshal(raw, &created))
	require.Equal(t, "other", created.Tenant.Name)
	require.True(t, strings.HasPrefix(created.APIKey.Key, "hk_"), "api_key.key: %q", created.APIKey.Key)
	require.False(t, created.APIKey.Admin)
	other := apiBearer(created.APIKey.Key)
	otherClient := client.New(b.url, created.APIKey.Key)

	for _, r := range []struct{ method, path, body string }{
		{"GET", "/v1/endpoints/" + ep.ID, ""},
		{"PATCH", "/v1/endpoints/" + ep.ID, `{"description": "theirs"}`},
		{"DELETE", "/v1/endpoints/" + ep.ID, ""},
		{"POST", "/v1/endpoints/" + ep.ID + "/rotate-secret", ""},
		{"GET", "/v1/endpoints/" + ep.ID + "/secret", ""},
		{"GET", "/v1/events/" + ev.ID, ""},
		{"POST", "/v1/events/" + ev.ID + "/replay", ""},
		{"GET", "/v1/deliveries/" + dl.ID, ""},
		{"POST", "/v1/deliveries/" + dl.ID + "/retry", ""},
		{"GET", "/v1/event-types/order.created", ""},
		{"DELETE", "/v1/api-keys/" + keys[0].ID, ""},
	} {
		status, body := b.do(r.method, r.path, r.body, other...)
		require.Equal(t, 404, status, "%s %s with another tenant's key: %v", r.method, r.path, body)
		code, _, _ := apiErrorOf(t, body)
		require.Equal(t, "not_found", code)
	}

	got := apiCountAll(t, otherClient)
	require.Equal(t, apiCounts{}, got, "the other tenant sees nothing")
	byEvent, err := otherClient.ListDeliveries(ctx, client.DeliveryListOptions{EventID: ev.ID, EndpointID: ep.ID})
	require.NoError(t, err)
	require.Empty(t, byEvent.Data)
	otherKeys, err := otherClient.ListAPIKeys(ctx)
	require.NoError(t, err)
	require.Len(t, otherKeys, 1)
	require.Equal(t, created.APIKey.ID, otherKeys[0].ID)

	// Nothing the other tenant tried reached the first tenant's data.
	mine, err := b.client.GetEndpoint(ctx, ep.ID)
	require.NoError(t, err)
	require.Equal(t, "mine", mine.Description)
	status, body = b.do("GET", "/v1/endpoints/"+ep.ID+"/secret", "")
	apiRequire(t, 200, "", status, body)
	require.Equal(t, ep.Secret, body["secret"], "secret not rotated by the other tenant")
	d, err := b.client.GetDelivery(ctx, dl.ID)
	require.NoError(t, err)
	require.Equal(t, client.DeliverySucceeded, d.Status)
	require.Equal(t, 1, d.Attempts, "no retry or replay by the other tenant")
	require.Equal(t, 1, hook.count())
	require.Equal(t, apiCounts{Endpoints: 1, Events: 1, Deliveries: 1, EventTypes: 1}, apiCountAll(t, b.client))

	// The other tenant's own events do not reach the first tenant's endpoint.
	oev, err := otherClient.SendEvent(ctx, client.EventCreate{Type: "order.created", Data: json.RawMessage(`{}`)})
	require.NoError(t, err)
	require.Equal(t, 0, *oev.Deliveries)

	status, body = b.do("POST", "/v1/tenants", `{"name": "third"}`, other...)
	apiRequire(t, 403, "forbidden", status, body)
	status, body = b.do("POST", "/v1/tenants", `{"name": "other"}`)
	apiRequire(t, 409, "conflict", status, body)
	status, body = b.do("POST", "/v1/tenants", `{"name": "default"}`)
	apiRequire(t, 409, "conflict", status, body)
	status, body = b.do("POST", "/v1/tenants", `{"name": "Not Valid"}`)
	apiRequire(t, 422, "validation_failed", status, body)
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()

	status, body := b.do("POST", "/v1/api-keys", `{"name": "ci"}`)
	apiRequire(t, 201, "", status, body)
	newKey, _ := body["key"].(string)
	newID, _ := body["id"].(string)
	require.True(t, strings.HasPrefix(newKey, "hk_"), "key: %q", newKey)
	require.Equal(t, newKey[:10], body["prefix"])
	require.Equal(t, "ci", body["name"])
	require.Equal(t, false, body["admin"], "a key made through the API is not an admin key")

	status, body = b.do("GET", "/v1/api-keys", "")
	apiRequire(t, 200, "", status, body)
	listed, _ := json.Marshal(body)
	require.NotContains(t, string(listed), newKey[10:], "a list shows no key material")
	require.NotContains(t, string(listed), b.key[10:], "a list shows no key material")
	var page client.Page[client.APIKey]
	require.NoError(t, json.Unmarshal(listed, &page))
	require.Len(t, page.Data, 2)
	prefixes := map[string]string{}
	for i, k := range page.Data {
		require.NotContains(t, body["data"].([]any)[i], "key")
		require.NotContains(t, body["data"].([]any)[i], "hash")
		prefixes[k.ID] = k.Prefix
	}
	require.Equal(t, newKey[:10], prefixes[newID])
	require.Contains(t, slices.Collect(maps.Values(prefixes)), b.key[:10])

	// The new key works, for the same tenant.
	ci := client.New(b.url, newKey)
	b.endpoint(client.EndpointCreate{URL: "http://example.com/hook"})
	eps, err := ci.ListEndpoints(ctx, client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, eps.Data, 1)

	// A key cannot delete itself, admin or not.
	status, body = b.do("DELETE", "/v1/api-keys/"+newID, "", apiBearer(newKey)...)
	apiRequire(t, 409, "conflict", status, body)
	var adminID string
	for _, k := range page.Data {
		if k.ID != newID {
			adminID = k.ID
		}
	}
	status, body = b.do("DELETE", "/v1/api-keys/"+adminID, "")
	apiRequire(t, 409, "conflict", status, body)

	// Another key deletes it; then it no longer authenticates.
	status, body = b.do("DELETE", "/v1/api-keys/"+newID, "")
	apiRequire(t, 204, "", status, body)
	status, body = b.do("GET", "/v1/endpoints", "", apiBearer(newKey)...)
	apiRequire(t, 401, "unauthorized", status, body)
	status, body = b.do("DELETE", "/v1/api-keys/"+newID, "")
	apiRequire(t, 404, "not_found", status, body)
	keys, err := b.client.ListAPIKeys(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Equal(t, adminID, keys[0].ID)
	status, body = b.do("POST", "/v1/api-keys", `{"name": "`+strings.Repeat("n", 101)+`"}`)
	apiRequire(t, 422, "validation_failed", status, body)
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	hook := newHook(t, http.StatusOK)
	b := setup(t)
	ctx := t.Context()
	b.endpoint(client.EndpointCreate{URL: hook.URL})

	status, first := b.do("POST", "/v1/events", `{"type": "order.created", "data": {"n": 1}}`, "Idempotency-Key", "order-1")
	apiRequire(t, 202, "", status, first)
	require.Equal(t, float64(1), first["deliveries"])
	require.Nil(t, first["duplicate"])
	require.Equal(t, "order-1", first["idempotency_key"])
	status, second := b.do("POST", "/v1/events", `{"type": "order.created", "data": {"n": 2}}`, "Idempotency-Key", "order-1")
	apiRequire(t, 200, "", status, second)
	require.Equal(t, true, second["duplicate"])
	require.Equal(t, first["id"], second["id"])
	require.JSONEq(t, `{"n": 1}`, string(apiMust(json.Marshal(second["data"]))), "the earlier event is returned")
	require.Equal(t, apiCounts{Endpoints: 1, Events: 1, Deliveries: 1}, apiCountAll(t, b.client))

	// The key may come in the body instead, and matches a header key.
	status, viaBody := b.do("POST", "/v1/events", `{"type": "order.created", "data": {}, "idempotency_key": "order-2"}`)
	apiRequire(t, 202, "", status, viaBody)
	status, again := b.do("POST", "/v1/events", `{"type": "order.created", "data": {}, "idempotency_key": "order-2"}`)
	apiRequire(t, 200, "", status, again)
	require.Equal(t, true, again["duplicate"])
	require.Equal(t, viaBody["id"], again["id"])
	status, mixed := b.do("POST", "/v1/events", `{"type": "order.created", "data": {}}`, "Idempotency-Key", "order-2")
	apiRequire(t, 200, "", status, mixed)
	require.Equal(t, viaBody["id"], mixed["id"])
	status, both := b.do("POST", "/v1/events", `{"type": "order.created", "data": {}, "idempotency_key": "order-2"}`,
		"Idempotency-Key", "order-2")
	apiRequire(t, 200, "", status, both)
	require.Equal(t, viaBody["id"], both["id"])

	status, body := b.do("POST", "/v1/events", `{"type": "order.created", "data": {}, "idempotency_key": "a"}`, "Idempotency-Key", "b")
	apiRequire(t, 422, "validation_failed", status, body)
	require.Equal(t, apiCounts{Endpoints: 1, Events: 2, Deliveries: 2}, apiCountAll(t, b.client))

	// Concurrent repeats still make one event.
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Go(func() {
			ev, err := b.client.SendEvent(ctx, client.EventCreate{Type: "order.created", Data: json.RawMessage(`{}`), IdempotencyKey: "order-3"})
			if err == nil {
				ids[i] = ev.ID
			}
		})
	}
	wg.Wait()
	require.NotEmpty(t, ids[0])
	for _, id := range ids {
		require.Equal(t, ids[0], id)
	}
	require.Equal(t, apiCounts{Endpoints: 1, Events: 3, Deliveries: 3}, apiCountAll(t, b.client))

	// Keys belong to a tenant: another tenant's same key is a new event.
	tc, err := b.client.CreateTenant(ctx, client.TenantCreate{Name: "other"})
	require.NoError(t, err)
	oev, err := client.New(b.url, tc.APIKey.Key).SendEvent(ctx, client.EventCreate{Type: "order.created", Data: json.RawMessage(`{}`), IdempotencyKey: "order-1"})
	require.NoError(t, err)
	require.False(t, oev.Duplicate)
	require.NotEqual(t, first["id"], oev.ID)

	eventually(t, func() bool { return hook.count() == 3 }, "want 3 deliveries, got %d", hook.count())
}

func apiMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestPaginationAndFilters(t *testing.T) {
	t.Parallel()
	ok := newHook(t, http.StatusOK)
	failing := newHook(t, http.StatusInternalServerError)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	b, clk := setupAt(t, t0)
	ctx := t.Context()

	epOK := b.endpoint(client.EndpointCreate{URL: ok.URL})
	// One retry an hour later, which the stopped clock never reaches.
	epBad := b.endpoint(client.EndpointCreate{URL: failing.URL, EventTypes: []string{"order.created"}, RetrySchedule: []string{"1h"}})

	// Seven events two seconds apart: created at even i, paid at odd i.
	var ids []string
	for i := range 7 {
		clk.Set(t0.Add(time.Duration(i) * 2 * time.Second))
		typ := "order.created"
		if i%2 == 1 {
			typ = "order.paid"
		}
		ev, err := b.client.SendEvent(ctx, client.EventCreate{Type: typ, Data: json.RawMessage(fmt.Sprintf(`{"i": %d}`, i))})
		require.NoError(t, err)
		ids = append(ids, ev.ID)
	}
	newestFirst := func(idx ...int) []string {
		var out []string
		for _, i := range slices.Backward(idx) {
			out = append(out, ids[i])
		}
		return out
	}

	walkEvents := func(opts client.EventListOptions) (got []string, pages int) {
		t.Helper()
		for {
			page, err := b.client.ListEvents(ctx, opts)
			require.NoError(t, err)
			pages++
			require.LessOrEqual(t, len(page.Data), opts.Limit)
			for _, e := range page.Data {
				got = append(got, e.ID)
			}
			if page.NextCursor == "" {
				return got, pages
			}
			require.Less(t, pages, 10, "cursor loop")
			opts.Cursor = page.NextCursor
		}
	}
	got, pages := walkEvents(client.EventListOptions{ListOptions: client.ListOptions{Limit: 3}})
	require.Equal(t, newestFirst(0, 1, 2, 3, 4, 5, 6), got, "all events, newest first, no duplicates")
	require.Equal(t, 3, pages)

	got, _ = walkEvents(client.EventListOptions{Type: "order.paid", ListOptions: client.ListOptions{Limit: 2}})
	require.Equal(t, newestFirst(1, 3, 5), got)
	page, err := b.client.ListEvents(ctx, client.EventListOptions{Type: "order"})
	require.NoError(t, err)
	require.Empty(t, page.Data, "type is an exact name")

	q := url.Values{"after": {"2026-03-01T12:00:03Z"}, "before": {"2026-03-01T12:00:09Z"}}
	status, body := b.do("GET", "/v1/events?"+q.Encode(), "")
	apiRequire(t, 200, "", status, body)
	var window []string
	for _, e := range body["data"].([]any) {
		window = append(window, e.(map[string]any)["id"].(string))
	}
	require.Equal(t, newestFirst(2, 3, 4), window, "events at 4s, 6s and 8s")
	got, _ = walkEvents(client.EventListOptions{After: t0.Add(7 * time.Second), Type: "order.created", ListOptions: client.ListOptions{Limit: 1}})
	require.Equal(t, newestFirst(4, 6), got)
	for _, bad := range []string{"after=yesterday", "before=2026-03-01", "after=1700000000"} {
		status, body := b.do("GET", "/v1/events?"+bad, "")
		apiRequire(t, 400, "bad_request", status, body)
	}

	// 7 deliveries to epOK succeed; 4 (order.created) to epBad wait for a retry.
	deliveries := func(opts client.DeliveryListOptions) []client.Delivery {
		t.Helper()
		opts.Limit = 1000
		page, err := b.client.ListDeliveries(ctx, opts)
		require.NoError(t, err)
		return page.Data
	}
	eventually(t, func() bool {
		return len(deliveries(client.DeliveryListOptions{Status: client.DeliverySucceeded})) == 7 &&
			len(deliveries(client.DeliveryListOptions{Status: client.DeliveryRetrying})) == 4
	}, "deliveries never settled")
	require.Equal(t, 7, ok.count())
	require.Equal(t, 4, failing.count())

	toBad := deliveries(client.DeliveryListOptions{EndpointID: epBad.ID})
	require.Len(t, toBad, 4)
	var badEvents []string
	for _, d := range toBad {
		require.Equal(t, epBad.ID, d.EndpointID)
		require.Equal(t, client.DeliveryRetrying, d.Status)
		badEvents = append(badEvents, d.EventID)
	}
	require.Equal(t, newestFirst(0, 2, 4, 6), badEvents)
	for _, d := range deliveries(client.DeliveryListOptions{Status: client.DeliverySucceeded}) {
		require.Equal(t, epOK.ID, d.EndpointID)
	}
	first := deliveries(client.DeliveryListOptions{EventID: ids[0]})
	require.Len(t, first, 2)
	require.ElementsMatch(t, []string{epOK.ID, epBad.ID}, []string{first[0].EndpointID, first[1].EndpointID})
	require.Len(t, deliveries(client.DeliveryListOptions{EventID: ids[1]}), 1)
	require.Len(t, deliveries(client.DeliveryListOptions{EndpointID: epOK.ID, EventID: ids[1]}), 1)
	require.Empty(t, deliveries(client.DeliveryListOptions{EndpointID: epOK.ID, Status: client.DeliveryRetrying}))
	require.Empty(t, deliveries(client.DeliveryListOptions{Status: client.DeliveryFailed}))
	require.Empty(t, deliveries(client.DeliveryListOptions{EndpointID: "ep_unknown"}))

	// Deliveries page too: 11 in pages of 4, newest first, no duplicates.
	var all []string
	opts := client.DeliveryListOptions{ListOptions: client.ListOptions{Limit: 4}}
	for range 10 {
		page, err := b.client.ListDeliveries(ctx, opts)
		require.NoError(t, err)
		for _, d := range page.Data {
			all = append(all, d.ID)
		}
		if page.NextCursor == "" {
			break
		}
		opts.Cursor = page.NextCursor
	}
	require.Len(t, all, 11)
	require.True(t, slices.IsSortedFunc(all, func(a, b string) int { return strings.Compare(b, a) }), "newest first: %v", all)
	require.Len(t, slices.Compact(slices.Clone(all)), 11, "no duplicates")

	for _, bad := range []string{"status=dead", "status=SUCCEEDED", "status=succeeded&limit=0"} {
		status, body := b.do("GET", "/v1/deliveries?"+bad, "")
		apiRequire(t, 400, "bad_request", status, body)
	}
}

func TestEndpointCRUD(t *testing.T) {
	t.Parallel()
	hook := newHook(t, http.StatusOK)
	control := newHook(t, http.StatusOK)
	b := setup(t)
	ctx := t.Context()

	status, body := b.do("POST", "/v1/endpoints", fmt.Sprintf(`{"url": %q, "description": "one", "event_types": ["order.*"],
		"headers": {"X-Team": "a"}, "timeout": "5s", "retry_schedule": ["1s", "1m"]}`, hook.URL))
	apiRequire(t, 201, "", status, body)
	id, _ := body["id"].(string)
	secret, _ := body["secret"].(string)
	require.True(t, strings.HasPrefix(id, "ep_"), "id: %q", id)
	require.True(t, strings.HasPrefix(secret, "whsec_"), "secret: %q", secret)
	require.Equal(t, true, body["enabled"])
	require.Equal(t, "json", body["format"])

	status, got := b.do("GET", "/v1/endpoints/"+id, "")
	apiRequire(t, 200, "", status, got)
	require.NotContains(t, got, "secret")
	require.NotContains(t, string(apiMust(json.Marshal(got))), secret)
	delete(body, "secret")
	require.Equal(t, body, got, "GET shows what create answered, less the secret")

	status, sec := b.do("GET", "/v1/endpoints/"+id+"/secret", "")
	apiRequire(t, 200, "", status, sec)
	require.Equal(t, secret, sec["secret"])

	// PATCH changes only the fields it names.
	status, patched := b.do("PATCH", "/v1/endpoints/"+id, `{"description": "two"}`)
	apiRequire(t, 200, "", status, patched)
	require.Equal(t, "two", patched["description"])
	for _, k := range []string{"url", "event_types", "headers", "timeout", "retry_schedule", "format", "enabled", "created_at"} {
		require.Equal(t, got[k], patched[k], "field %s", k)
	}
	status, again := b.do("GET", "/v1/endpoints/"+id, "")
	apiRequire(t, 200, "", status, again)
	require.Equal(t, patched, again)

	// An invalid PATCH is refused whole, even when another field is valid.
	for _, bad := range []string{`{"description": "three", "timeout": "1h"}`, `{"url": "not a url"}`, `{"url": ""}`,
		`{"format": "yaml"}`, `{"headers": {"Host": "x"}}`, `{"filter": "data.amount >"}`, `{"retry_schedule": ["soon"]}`} {
		status, body := b.do("PATCH", "/v1/endpoints/"+id, bad)
		apiRequire(t, 422, "validation_failed", status, body)
	}
	status, body = b.do("PATCH", "/v1/endpoints/"+id, `{"nope": 1}`)
	apiRequire(t, 400, "invalid_json", status, body)
	status, after := b.do("GET", "/v1/endpoints/"+id, "")
	apiRequire(t, 200, "", status, after)
	require.Equal(t, again, after, "refused PATCHes change nothing")

	// Disabled, it gets no deliveries; the control endpoint shows the event was routed.
	ctl := b.endpoint(client.EndpointCreate{URL: control.URL})
	off := false
	ep, err := b.client.UpdateEndpoint(ctx, id, client.EndpointUpdate{Enabled: &off})
	require.NoError(t, err)
	require.False(t, ep.Enabled)
	require.Equal(t, "two", ep.Description)
	ev := b.send("order.created", `{}`)
	require.Equal(t, 1, *ev.Deliveries, "only the control endpoint")
	eventually(t, func() bool { return control.count() == 1 }, "control never got the event")
	dls, err := b.client.ListDeliveries(ctx, client.DeliveryListOptions{EventID: ev.ID})
	require.NoError(t, err)
	require.Len(t, dls.Data, 1)
	require.Equal(t, ctl.ID, dls.Data[0].EndpointID)
	require.Equal(t, 0, hook.count())

	// Enabled again, it gets new events.
	on := true
	_, err = b.client.UpdateEndpoint(ctx, id, client.EndpointUpdate{Enabled: &on})
	require.NoError(t, err)
	ev = b.send("order.created", `{}`)
	require.Equal(t, 2, *ev.Deliveries)
	eventually(t, func() bool { return hook.count() == 1 }, "re-enabled endpoint never got the event")

	status, body = b.do("DELETE", "/v1/endpoints/"+id, "")
	apiRequire(t, 204, "", status, body)
	for _, r := range [][3]string{{"GET", ""}, {"GET", "/secret"}, {"DELETE", ""}, {"PATCH", "", `{"description": "x"}`}} {
		status, body := b.do(r[0], "/v1/endpoints/"+id+r[1], r[2])
		apiRequire(t, 404, "not_found", status, body)
	}
	eps, err := b.client.ListEndpoints(ctx, client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, eps.Data, 1)
	require.Equal(t, ctl.ID, eps.Data[0].ID)
}

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
	b, _ := setupAt(t, time.Date(2026, 11, 27, 0, 26, 17, 260*int(time.Millisecond), time.UTC))
	ctx := t.Context()

	// An SSE client, listening before the event is sent.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.url+"/v1/events/stream", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+b.key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	ep := b.endpoint(client.EndpointCreate{URL: hook.URL})
	_, err = b.client.CreateEventType(ctx, client.EventType{Name: "order.created"})
	require.NoError(t, err)
	ev := b.send("order.created", `{"id": "ord_1"}`)
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
