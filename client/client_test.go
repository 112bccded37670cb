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
	"github.com/hookline/hookline/internal/openapi/openapitest"
)

const testKey = "hk_test_key"

// seen is what the fake API server received.
type seen struct {
	// op is the operation of the API's OpenAPI document the request is
	// for; invalid says why the document refuses it.
	op, path, query string
	invalid         error
	header          http.Header
	body            string
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
		op, invalid := openapitest.Request(r)
		b, _ := io.ReadAll(r.Body)
		reqs <- seen{op: op, invalid: invalid, path: r.URL.EscapedPath(), query: r.URL.RawQuery, header: r.Header, body: string(b)}
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
		name   string
		call   func(context.Context, *client.Client) (any, error)
		status int
		answer string
		// op is the operation id in docs/openapi.json the call must send
		// a valid request of; path, when set, is the escaped path.
		op, path       string
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
			op: "createTenant", body: `{"name":"acme"}`,
			check: func(t *testing.T, got any) {
				require.Equal(t, "hk_secret", got.(*client.TenantCreated).APIKey.Key)
			},
		},
		{
			name: "send events",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.SendEvents(ctx, client.EventBatch{Events: []client.EventCreate{{Type: "a.b", Data: []byte(`{}`)}}})
			},
			status: 200, answer: `{"results":[{"id":"evt_1","deliveries":1},{"error":{"code":"validation_failed","message":"x"}}]}`,
			op: "publishEvents", body: `{"events":[{"type":"a.b","data":{}}]}`,
			check: func(t *testing.T, got any) {
				res := got.(*client.BatchResult).Results
				require.Equal(t, "evt_1", res[0].ID)
				require.Equal(t, "validation_failed", res[1].Error.Code)
			},
		},
		{
			name: "recover endpoint",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.RecoverEndpoint(ctx, "ep_1", client.Recover{Since: after})
			},
			status: 202, answer: `{"deliveries":["dlv_1","dlv_2"]}`,
			op: "recoverEndpoint", body: `{"since":"2025-01-02T03:04:05Z"}`,
			check: func(t *testing.T, got any) {
				require.Equal(t, []string{"dlv_1", "dlv_2"}, got.(*client.Recovered).Deliveries)
			},
		},
		{
			name: "delete api key",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return nil, c.DeleteAPIKey(ctx, "key_1")
			},
			status: 204, op: "deleteAPIKey",
		},
		{
			name: "create endpoint",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.CreateEndpoint(ctx, client.EndpointCreate{URL: "https://x.test/hook", EventTypes: []string{"order.*"}})
			},
			status: 201, answer: `{"id":"ep_1","url":"https://x.test/hook","secret":"whsec_abc","enabled":true}`,
			op: "createEndpoint", body: `{"url":"https://x.test/hook","event_types":["order.*"]}`,
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
			op: "listEndpoints", query: "cursor=c1&limit=2",
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
			op: "updateEndpoint", path: "/v1/endpoints/ep%2F1", body: `{"enabled":false}`,
		},
		{
			name: "rotate secret",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.RotateEndpointSecret(ctx, "ep_1", client.SecretRotate{Grace: "1h"})
			},
			status: 200, answer: `{"id":"ep_1","secret":"whsec_new"}`,
			op: "rotateEndpointSecret", body: `{"grace":"1h"}`,
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
			op: "publishEvent", body: `{"type":"order.created","data":{"n":1},"idempotency_key":"k1"}`,
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
			op: "listEvents", query: "after=2025-01-02T03%3A04%3A05Z&limit=5&type=order.created",
		},
		{
			name: "replay event",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ReplayEvent(ctx, "evt_1")
			},
			status: 202, answer: `{"event_id":"evt_1","deliveries":["dlv_1","dlv_2"]}`,
			op: "replayEvent",
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
			op: "listDeliveries", query: "endpoint_id=ep_1&event_id=evt_1&status=failed",
		},
		{
			name: "get delivery",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.GetDelivery(ctx, "dlv_1")
			},
			status: 200, answer: `{"id":"dlv_1","attempt_log":[{"number":1,"response_status":500},{"number":2,"response_status":200}]}`,
			op: "getDelivery",
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
			op: "retryDelivery",
		},
		{
			name: "create source",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.CreateSource(ctx, client.SourceCreate{Name: "gh", Verification: &client.Verification{Kind: "github", Secrets: []string{"s3cret"}}})
			},
			status: 201, answer: `{"id":"src_1","name":"gh","path":"/in/gh","verification":{"kind":"github","secrets":["****"]},"enabled":true}`,
			op: "createSource", body: `{"name":"gh","verification":{"kind":"github","secrets":["s3cret"]}}`,
			check: func(t *testing.T, got any) {
				src := got.(*client.Source)
				require.Equal(t, "/in/gh", src.Path)
				require.Equal(t, []string{"****"}, src.Verification.Secrets)
			},
		},
		{
			name: "get source",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.GetSource(ctx, "src_1")
			},
			status: 200, answer: `{"id":"src_1","name":"gh","event_type":{"header":"X-Kind"}}`,
			op: "getSource",
			check: func(t *testing.T, got any) {
				require.Equal(t, "X-Kind", got.(*client.Source).EventType.Header)
			},
		},
		{
			name: "list sources",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListSources(ctx, client.ListOptions{Limit: 1})
			},
			status: 200, answer: `{"data":[{"id":"src_1"}],"next_cursor":"src_1"}`,
			op: "listSources", query: "limit=1",
			check: func(t *testing.T, got any) {
				require.Equal(t, "src_1", got.(*client.Page[client.Source]).NextCursor)
			},
		},
		{
			name: "update source",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				desc := "GitHub"
				return c.UpdateSource(ctx, "src_1", client.SourceCreate{Description: &desc, Dedup: &client.SourceDedup{Window: "1h"}})
			},
			status: 200, answer: `{"id":"src_1","description":"GitHub"}`,
			op: "updateSource", body: `{"description":"GitHub","dedup":{"window":"1h"}}`,
		},
		{
			name: "delete source",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return nil, c.DeleteSource(ctx, "src_1")
			},
			status: 204, op: "deleteSource",
		},
		{
			name: "list rejections",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListRejections(ctx, "src_1", client.ListOptions{Cursor: "rj_9"})
			},
			status: 200, answer: `{"data":[{"id":"rj_1","reason":"signature mismatch","method":"POST"}]}`,
			op: "listRejections", query: "cursor=rj_9",
			check: func(t *testing.T, got any) {
				require.Equal(t, "signature mismatch", got.(*client.Page[client.Rejection]).Data[0].Reason)
			},
		},
		{
			name: "create subscription",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.CreateSubscription(ctx, client.SubscriptionCreate{
					EventTypes: &[]string{"github.*"}, Destination: &client.SubDest{Kind: "forward", EndpointID: "ep_1"},
				})
			},
			status: 201, answer: `{"id":"sub_1","event_types":["github.*"],"destination":{"kind":"forward","endpoint_id":"ep_1"},"enabled":true}`,
			op: "createSubscription", body: `{"event_types":["github.*"],"destination":{"kind":"forward","endpoint_id":"ep_1"}}`,
			check: func(t *testing.T, got any) {
				require.Equal(t, "ep_1", got.(*client.Subscription).Destination.EndpointID)
			},
		},
		{
			name: "get subscription",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.GetSubscription(ctx, "sub_1")
			},
			status: 200, answer: `{"id":"sub_1"}`,
			op: "getSubscription",
		},
		{
			name: "list subscriptions",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.ListSubscriptions(ctx, client.ListOptions{})
			},
			status: 200, answer: `{"data":[{"id":"sub_1"},{"id":"sub_2"}]}`,
			op: "listSubscriptions",
			check: func(t *testing.T, got any) {
				require.Len(t, got.(*client.Page[client.Subscription]).Data, 2)
			},
		},
		{
			name: "update subscription",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				off := false
				return c.UpdateSubscription(ctx, "sub_1", client.SubscriptionCreate{Enabled: &off})
			},
			status: 200, answer: `{"id":"sub_1","enabled":false}`,
			op: "updateSubscription", body: `{"enabled":false}`,
		},
		{
			name: "delete subscription",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return nil, c.DeleteSubscription(ctx, "sub_1")
			},
			status: 204, op: "deleteSubscription",
		},
		{
			name: "apply",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.Apply(ctx, client.Declaration{Sources: []client.SourceCreate{{Name: "gh", Verification: &client.Verification{Kind: "none"}}}}, false)
			},
			status: 200, answer: `{"changes":[{"kind":"source","name":"gh","action":"created","id":"src_1"}]}`,
			op: "apply", body: `{"sources":[{"name":"gh","verification":{"kind":"none"}}]}`,
			check: func(t *testing.T, got any) {
				require.Equal(t, []client.Change{{Kind: "source", Name: "gh", Action: "created", ID: "src_1"}}, got.(*client.ApplyResult).Changes)
			},
		},
		{
			name: "apply dry run",
			call: func(ctx context.Context, c *client.Client) (any, error) {
				return c.Apply(ctx, client.Declaration{}, true)
			},
			status: 200, answer: `{"dry_run":true,"changes":[]}`,
			op: "apply", query: "dry_run=true", body: `{}`,
			check: func(t *testing.T, got any) {
				require.True(t, got.(*client.ApplyResult).DryRun)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.status, tc.answer)
			got, err := tc.call(t.Context(), b.client)
			require.NoError(t, err)
			r := <-b.reqs
			require.NoError(t, r.invalid, "the request is one of the API's OpenAPI document")
			require.Equal(t, tc.op, r.op)
			if tc.path != "" {
				require.Equal(t, tc.path, r.path)
			}
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

// streamServer serves GET /v1/events/stream by writing chunks, flushing
// after each, then holding the stream open until the client leaves unless
// hangUp is set. It passes on the request it received.
func streamServer(t *testing.T, hangUp bool, chunks ...string) (string, <-chan *http.Request) {
	t.Helper()
	reqs := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs <- r
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for _, c := range chunks {
			_, _ = io.WriteString(w, c)
			w.(http.Flusher).Flush()
		}
		if !hangUp {
			<-r.Context().Done()
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, reqs
}

func TestStreamEvents(t *testing.T) {
	t.Parallel()
	url, reqs := streamServer(t, false,
		": listening\n\n",
		"event: dropped\ndata: {\"count\":3}\n\n",
		": keep-alive\n\n",
		"id: evt_1\nevent: event\ndata: {\"id\":\"evt_1\",\"type\":\"github.push\",\"source\":\"gh\",\"data\":{\"n\":1}}\n\n",
		"event: unknown\ndata: ignored\n\n",
		"event: event\r\ndata: {\"id\":\"evt_2\",\r\ndata: \"type\":\"github.issues\"}\r\n\r\n",
		"event: event\ndata: {\"id\":\"evt_3\"}\n\n",
	)
	errEnough := errors.New("enough")
	var got []client.Event
	var opened bool
	dropped := 0
	err := client.New(url, testKey).StreamEvents(t.Context(), client.StreamOptions{
		Source: "gh", Type: "github.*",
		OnOpen:    func() { opened = true },
		OnDropped: func(n int) { dropped += n },
	}, func(ev client.Event) error {
		got = append(got, ev)
		if len(got) == 2 {
			return errEnough
		}
		return nil
	})
	require.ErrorIs(t, err, errEnough)
	require.True(t, opened)
	require.Equal(t, 3, dropped)
	require.Len(t, got, 2)
	require.Equal(t, "evt_1", got[0].ID)
	require.Equal(t, "gh", got[0].Source)
	require.JSONEq(t, `{"n":1}`, string(got[0].Data))
	require.Equal(t, "github.issues", got[1].Type, "data lines are joined, CRLF accepted")

	r := <-reqs
	require.Equal(t, "/v1/events/stream", r.URL.Path)
	require.Equal(t, "source=gh&type=github.%2A", r.URL.RawQuery)
	require.Equal(t, "text/event-stream", r.Header.Get("Accept"))
	require.Equal(t, "Bearer "+testKey, r.Header.Get("Authorization"))
}

func TestStreamEventsStopsWithContext(t *testing.T) {
	t.Parallel()
	url, _ := streamServer(t, false, ": listening\n\n")
	ctx, cancel := context.WithCancel(t.Context())
	err := client.New(url, testKey).StreamEvents(ctx, client.StreamOptions{OnOpen: cancel}, func(client.Event) error {
		return errors.New("no event expected")
	})
	require.ErrorIs(t, err, context.Canceled)
}

func TestStreamEventsIgnoresClientTimeout(t *testing.T) {
	t.Parallel()
	url, _ := streamServer(t, true, "event: event\ndata: {\"id\":\"evt_1\"}\n\n")
	// A timeout this short fails any ordinary request; a stream is bounded
	// by its context only.
	c := client.New(url, testKey, client.WithHTTPClient(&http.Client{Timeout: time.Nanosecond}))
	var ids []string
	err := c.StreamEvents(t.Context(), client.StreamOptions{}, func(ev client.Event) error {
		ids = append(ids, ev.ID)
		return nil
	})
	require.ErrorIs(t, err, client.ErrStreamClosed, "the server hung up")
	require.Equal(t, []string{"evt_1"}, ids)
}

func TestStreamEventsError(t *testing.T) {
	t.Parallel()
	b := setup(t, http.StatusBadRequest, `{"error":{"code":"bad_request","message":"type: bad pattern"}}`)
	err := b.client.StreamEvents(t.Context(), client.StreamOptions{Type: "a..b"}, func(client.Event) error { return nil })
	var apiErr *client.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "bad_request", apiErr.Code)
	require.Equal(t, "type=a..b", (<-b.reqs).query)
}
