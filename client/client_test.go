package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

const testKey = "hk_test_key"

// seen is what the fake API server received.
type seen struct {
	method, path, query string
	header              http.Header
	body                string
}

type bundle struct {
	client *client.Client
	reqs   chan seen
}

// setup starts a fake of the API that records each request and answers with
// status and body.
func setup(t *testing.T, status int, body string) bundle {
	t.Helper()
	reqs := make(chan seen, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs <- seen{method: r.Method, path: r.URL.EscapedPath(), query: r.URL.RawQuery, header: r.Header, body: string(b)}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return bundle{client: client.New(srv.URL+"/", testKey, client.WithUserAgent("test-agent")), reqs: reqs}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	after := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name           string
		call           func(context.Context, *client.Client) (any, error)
		status         int
		answer         string
		method, path   string
		query, body    string
		check          func(t *testing.T, got any)
		idempotencyKey string
	}{
		{
			name: "create tenant",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.CreateTenant(ctx, client.TenantCreate{Name: "acme"})
			},
			status: 201, answer: `{"tenant":{"id":"ten_1","name":"acme"},"api_key":{"id":"key_1","key":"hk_secret"}}`,
			method: "POST", path: "/v1/tenants", body: `{"name":"acme"}`,
			check: func(t *testing.T, got any) {
				require.Equal(t, "hk_secret", got.(*client.TenantCreated).APIKey.Key)
			},
		},
		{
			name: "delete api key",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return nil, c.DeleteAPIKey(ctx, "key_1")
			},
			status: 204, method: "DELETE", path: "/v1/api-keys/key_1",
		},
		{
			name: "create endpoint",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.CreateEndpoint(ctx, client.EndpointCreate{URL: "https://x.test/hook", EventTypes: []string{"order.*"}})
			},
			status: 201, answer: `{"id":"ep_1","url":"https://x.test/hook","secret":"whsec_abc","enabled":true}`,
			method: "POST", path: "/v1/endpoints", body: `{"url":"https://x.test/hook","event_types":["order.*"]}`,
			check: func(t *testing.T, got any) {
				ep := got.(*client.Endpoint)
				require.Equal(t, "ep_1", ep.ID)
				require.Equal(t, "whsec_abc", ep.Secret)
			},
		},
		{
			name: "list endpoints",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListEndpoints(ctx, client.ListOptions{Limit: 2, Cursor: "c1"})
			},
			status: 200, answer: `{"data":[{"id":"ep_1"},{"id":"ep_2"}],"next_cursor":"c2"}`,
			method: "GET", path: "/v1/endpoints", query: "cursor=c1&limit=2",
			check: func(t *testing.T, got any) {
				p := got.(*client.Page[client.Endpoint])
				require.Len(t, p.Data, 2)
				require.Equal(t, "c2", p.NextCursor)
			},
		},
		{
			name: "update endpoint escapes id",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				enabled := false
				return c.UpdateEndpoint(ctx, "ep/1", client.EndpointUpdate{Enabled: &enabled})
			},
			status: 200, answer: `{"id":"ep/1"}`,
			method: "PATCH", path: "/v1/endpoints/ep%2F1", body: `{"enabled":false}`,
		},
		{
			name: "rotate secret",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.RotateEndpointSecret(ctx, "ep_1", client.SecretRotate{Grace: "1h"})
			},
			status: 200, answer: `{"id":"ep_1","secret":"whsec_new"}`,
			method: "POST", path: "/v1/endpoints/ep_1/rotate-secret", body: `{"grace":"1h"}`,
			check: func(t *testing.T, got any) {
				require.Equal(t, "whsec_new", got.(*client.Endpoint).Secret)
			},
		},
		{
			name: "send event with idempotency key",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.SendEvent(ctx, client.EventCreate{Type: "order.created", Data: json.RawMessage(`{"n":1}`), IdempotencyKey: "k1"})
			},
			status: 202, answer: `{"id":"evt_1","type":"order.created","data":{"n":1},"deliveries":2}`,
			method: "POST", path: "/v1/events", body: `{"type":"order.created","data":{"n":1},"idempotency_key":"k1"}`,
			idempotencyKey: "k1",
			check: func(t *testing.T, got any) {
				ev := got.(*client.Event)
				require.Equal(t, "evt_1", ev.ID)
				require.Equal(t, 2, *ev.Deliveries)
			},
		},
		{
			name: "list events",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListEvents(ctx, client.EventListOptions{Type: "order.created", After: after, ListOptions: client.ListOptions{Limit: 5}})
			},
			status: 200, answer: `{"data":[]}`,
			method: "GET", path: "/v1/events", query: "after=2025-01-02T03%3A04%3A05Z&limit=5&type=order.created",
		},
		{
			name: "replay event",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ReplayEvent(ctx, "evt_1")
			},
			status: 202, answer: `{"event_id":"evt_1","deliveries":["dlv_1","dlv_2"]}`,
			method: "POST", path: "/v1/events/evt_1/replay",
			check: func(t *testing.T, got any) {
				require.Equal(t, []string{"dlv_1", "dlv_2"}, got.(*client.Replay).Deliveries)
			},
		},
		{
			name: "list deliveries",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListDeliveries(ctx, client.DeliveryListOptions{EndpointID: "ep_1", EventID: "evt_1", Status: client.DeliveryFailed})
			},
			status: 200, answer: `{"data":[{"id":"dlv_1","status":"failed"}]}`,
			method: "GET", path: "/v1/deliveries", query: "endpoint_id=ep_1&event_id=evt_1&status=failed",
		},
		{
			name: "get delivery",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.GetDelivery(ctx, "dlv_1")
			},
			status: 200, answer: `{"id":"dlv_1","attempt_log":[{"number":1,"response_status":500},{"number":2,"response_status":200}]}`,
			method: "GET", path: "/v1/deliveries/dlv_1",
			check: func(t *testing.T, got any) {
				d := got.(*client.Delivery)
				require.Len(t, d.AttemptLog, 2)
				require.Equal(t, 200, d.AttemptLog[1].ResponseStatus)
			},
		},
		{
			name: "retry delivery",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.RetryDelivery(ctx, "dlv_1")
			},
			status: 202, answer: `{"id":"dlv_1","status":"retrying"}`,
			method: "POST", path: "/v1/deliveries/dlv_1/retry",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.status, tc.answer)
			got, err := tc.call(t.Context(), b.client)
			require.NoError(t, err)
			r := <-b.reqs
			require.Equal(t, tc.method, r.method)
			require.Equal(t, tc.path, r.path)
			require.Equal(t, tc.query, r.query)
			require.Equal(t, "Bearer "+testKey, r.header.Get("Authorization"))
			require.Equal(t, "test-agent", r.header.Get("User-Agent"))
			require.Equal(t, tc.idempotencyKey, r.header.Get("Idempotency-Key"))
			if tc.body == "" {
				require.Empty(t, r.body)
			} else {
				require.JSONEq(t, tc.body, r.body)
				require.Equal(t, "application/json", r.header.Get("Content-Type"))
			}
			if tc.check != nil {
				tc.check(t, got)
			}
		})
	}
}

func TestListAllFollowsCursor(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "" {
			_, _ = io.WriteString(w, `{"data":[{"name":"a.one"}],"next_cursor":"p2"}`)
			return
		}
		_, _ = io.WriteString(w, `{"data":[{"name":"b.two"}]}`)
	}))
	t.Cleanup(srv.Close)

	types, err := client.New(srv.URL, testKey).ListEventTypes(t.Context())
	require.NoError(t, err)
	require.Len(t, types, 2)
	require.Equal(t, "b.two", types[1].Name)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		want   client.Error
	}{
		{
			name:   "api error",
			status: 422,
			body:   `{"error":{"code":"validation_failed","message":"url is required","details":{"field":"url"}}}`,
			want:   client.Error{Status: 422, Code: "validation_failed", Message: "url is required", Details: map[string]any{"field": "url"}},
		},
		{
			name:   "plain text",
			status: 502,
			body:   "bad gateway\n",
			want:   client.Error{Status: 502, Code: "http_502", Message: "bad gateway"},
		},
		{
			name:   "empty body",
			status: 404,
			want:   client.Error{Status: 404, Code: "http_404", Message: "Not Found"},
		},
		{
			name:   "long body",
			status: 500,
			body:   strings.Repeat("x", 2000),
			want:   client.Error{Status: 500, Code: "http_500", Message: strings.Repeat("x", 512) + "…"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.status, tc.body)
			_, err := b.client.GetEndpoint(t.Context(), "ep_1")
			var apiErr *client.Error
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, tc.want, *apiErr)
		})
	}
}

func TestEmptyIDSendsNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, 200, `{}`)
	_, err := b.client.GetEvent(t.Context(), "")
	require.ErrorContains(t, err, "get event: empty id")
	require.Empty(t, b.reqs)
}

func TestTransportErrorNamesAction(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	err := client.New(srv.URL, testKey).DeleteEndpoint(t.Context(), "ep_1")
	require.ErrorContains(t, err, "delete endpoint: ")
	var apiErr *client.Error
	require.False(t, errors.As(err, &apiErr))
}
