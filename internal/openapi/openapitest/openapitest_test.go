package openapitest_test

import (
	"cmp"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/openapi/openapitest"
)

// TestMiddlewareFindsMismatches runs the checker against a fake server
// whose answers are right or wrong in known ways.
func TestMiddlewareFindsMismatches(t *testing.T) {
	t.Parallel()
	const endpoint = `{"id":"ep_1","url":"https://x.test","event_types":[],"format":"json","timeout":"15s","retry_schedule":[],` +
		`"enabled":true,"created_at":"2026-01-02T03:04:05.000Z","updated_at":"2026-01-02T03:04:05.000Z"}`
	cases := []struct {
		name, method, path, body string
		status                   int
		answer                   string
		contentType              string
		mismatch                 string // "" when the exchange matches
	}{
		{name: "right", method: "GET", path: "/v1/endpoints/ep_1", status: 200, answer: endpoint},
		{name: "right error", method: "GET", path: "/v1/endpoints/ep_1", status: 404,
			answer: `{"error":{"code":"not_found","message":"endpoint ep_1 not found"}}`},
		{name: "right create", method: "POST", path: "/v1/endpoints", body: `{"url":"https://x.test"}`, status: 201, answer: endpoint},
		{name: "refused bad request", method: "POST", path: "/v1/endpoints", body: `{"url":1}`, status: 400,
			answer: `{"error":{"code":"invalid_json","message":"url: expected string"}}`},
		{name: "missing field", method: "GET", path: "/v1/endpoints/ep_1", status: 200, answer: `{"id":"ep_1"}`,
			mismatch: "does not match the document"},
		{name: "wrong type", method: "GET", path: "/v1/endpoints/ep_1", status: 200, answer: strings.Replace(endpoint, `"enabled":true`, `"enabled":"yes"`, 1),
			mismatch: "does not match the document"},
		{name: "error body not an error", method: "GET", path: "/v1/endpoints/ep_1", status: 404, answer: `{"message":"no"}`,
			mismatch: "does not match the document"},
		{name: "undocumented success", method: "GET", path: "/v1/endpoints/ep_1", status: 201, answer: endpoint,
			mismatch: "does not list"},
		{name: "accepted bad request", method: "POST", path: "/v1/endpoints", body: `{"url":1}`, status: 201, answer: endpoint,
			mismatch: "request the document refuses"},
		{name: "accepted bad query", method: "GET", path: "/v1/endpoints?limit=zero", status: 200, answer: `{"data":[]}`,
			mismatch: "request the document refuses"},
		{name: "key with slashes", method: "GET", path: "/v1/collections/c/records/a/b", status: 200,
			answer: `{"key":"a/b","version":"1","seq":1,"created_at":"2026-01-02T03:04:05.000Z","updated_at":"2026-01-02T03:04:05.000Z"}`},
		{name: "stream", method: "GET", path: "/v1/events/stream", status: 200, contentType: "text/event-stream", answer: "data: {}\n\n"},
		{name: "no route", method: "GET", path: "/v1/nothing", status: 404, answer: `{}`},
		{name: "readOnly left out of a request", method: "POST", path: "/v1/event-types", body: `{"name":"a.b"}`, status: 201,
			answer: `{"name":"a.b","created_at":"2026-01-02T03:04:05.000Z"}`},
		{name: "readOnly left out of an answer", method: "POST", path: "/v1/event-types", body: `{"name":"a.b"}`, status: 201,
			answer: `{"name":"a.b"}`, mismatch: "does not match the document"},
		{name: "named by the path", method: "PUT", path: "/v1/recipients/r1", body: `{"email":"a@b.test"}`, status: 201,
			answer: `{"id":"r1"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got []error
			h := openapitest.Middleware(func(err error) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, err)
			})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.ReadAll(r.Body)
				w.Header().Set("Content-Type", cmp.Or(tc.contentType, "application/json"))
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.answer)
			}))
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			require.NoError(t, err)
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, tc.answer, string(b), "the answer passes unchanged")
			srv.Close() // the handler has returned: its check is done
			mu.Lock()
			defer mu.Unlock()
			if tc.mismatch == "" {
				require.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			require.Contains(t, got[0].Error(), tc.mismatch)
		})
	}
}

// BenchmarkMiddleware measures what checking one exchange costs: a
// publish and its 202 with the event.
func BenchmarkMiddleware(b *testing.B) {
	const answer = `{"id":"evt_1","type":"order.created","data":{"id":"ord_1"},"occurred_at":"2026-01-02T03:04:05.000Z",` +
		`"created_at":"2026-01-02T03:04:05.000Z","deliveries":1}`
	h := openapitest.Middleware(func(err error) { b.Fatal(err) })(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, answer)
	}))
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/events", strings.NewReader(`{"type":"order.created","data":{"id":"ord_1"}}`))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}
