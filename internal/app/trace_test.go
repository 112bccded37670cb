package app_test

import (
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/telemetry"
)

// collector is an in-process OTLP/HTTP collector: it keeps the spans of
// every protobuf export POSTed to /v1/traces.
type collector struct {
	*httptest.Server
	mu    sync.Mutex
	spans []*tracepb.Span
}

func newCollector(t *testing.T) *collector {
	t.Helper()
	c := &collector{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "want a protobuf POST to /v1/traces", http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(r.Body)
		var req collectortrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(body, &req)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				c.spans = append(c.spans, ss.Spans...)
			}
		}
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(c.Close)
	return c
}

// span returns the first span named name, or nil.
func (c *collector) span(name string) *tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.spans {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// withTracing turns tracing on through the variables an operator sets,
// read by the same code as `hookline serve` reads them.
func withTracing(t *testing.T, endpoint string) setupOpt {
	return func(c *config.Config, _ *app.Options) {
		env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "20", "OTEL_SERVICE_NAME": "hookline-test"}
		var err error
		c.Tracing, err = telemetry.FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		require.NoError(t, err)
		require.True(t, c.Tracing.Enabled)
	}
}

// parseTraceparent splits a version 00 traceparent into its trace and
// span ids (hex).
func parseTraceparent(t *testing.T, tp string) (traceID, spanID string) {
	t.Helper()
	parts := strings.Split(tp, "-")
	require.Len(t, parts, 4, "traceparent %q", tp)
	require.Equal(t, "00", parts[0])
	require.Len(t, parts[1], 32)
	require.Len(t, parts[2], 16)
	return parts[1], parts[2]
}

const (
	senderTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	senderSpan  = "00f067aa0ba902b7"
)

// TestTraceCrossesHookline publishes with the sender's traceparent and
// follows the trace through the in-process collector: the API's server
// span is the sender's child, the commit span its child, the attempt's
// span the commit's child, the HTTP client span the attempt's child, and
// the receiver gets a traceparent naming that client span in the same
// trace — and a Standard Webhooks signature that still verifies.
func TestTraceCrossesHookline(t *testing.T) {
	t.Parallel()
	col := newCollector(t)
	rc := newReceiver(t, nil)
	b := setup(t, withTracing(t, col.URL))
	ep := b.endpoint(client.EndpointCreate{URL: rc.URL, EventTypes: []string{"order.*"}})

	status, out := b.do(http.MethodPost, "/v1/events", `{"type":"order.created","data":{"id":1}}`,
		"traceparent", "00-"+senderTrace+"-"+senderSpan+"-01")
	require.Equal(t, http.StatusAccepted, status, "%v", out)
	eventually(t, func() bool { return rc.count() == 1 }, "delivered")
	got := rc.requests()[0]
	traceID, parentID := parseTraceparent(t, got.header.Get("traceparent"))
	require.Equal(t, senderTrace, traceID, "the receiver continues the sender's trace")
	requireVerifies(t, ep.Secret, got)

	var server, commit, attempt, send *tracepb.Span
	eventually(t, func() bool {
		server, commit, attempt, send = col.span("POST /v1/events"), col.span("commit"), col.span("attempt endpoint"), col.span("HTTP POST")
		return server != nil && commit != nil && attempt != nil && send != nil
	}, "the spans are exported")
	for _, s := range []*tracepb.Span{server, commit, attempt, send} {
		require.Equal(t, senderTrace, hex.EncodeToString(s.TraceId), "span %s is in the sender's trace", s.Name)
	}
	require.Equal(t, senderSpan, hex.EncodeToString(server.ParentSpanId))
	require.Equal(t, tracepb.Span_SPAN_KIND_SERVER, server.Kind)
	require.Equal(t, server.SpanId, commit.ParentSpanId, "the commit is the request's child")
	require.Equal(t, commit.SpanId, attempt.ParentSpanId, "the attempt continues the committed context")
	require.Equal(t, attempt.SpanId, send.ParentSpanId)
	require.Equal(t, tracepb.Span_SPAN_KIND_CLIENT, send.Kind)
	require.Equal(t, hex.EncodeToString(send.SpanId), parentID, "the receiver's parent is the client span")
}

// TestTraceStartsInHookline checks that a publish without a traceparent
// starts a trace when tracing is on, and the receiver is in it.
func TestTraceStartsInHookline(t *testing.T) {
	t.Parallel()
	col := newCollector(t)
	rc := newReceiver(t, nil)
	b := setup(t, withTracing(t, col.URL))
	b.endpoint(client.EndpointCreate{URL: rc.URL, EventTypes: []string{"order.*"}})
	b.send("order.created", `{}`)
	eventually(t, func() bool { return rc.count() == 1 }, "delivered")
	traceID, _ := parseTraceparent(t, rc.requests()[0].header.Get("traceparent"))
	var server *tracepb.Span
	eventually(t, func() bool { server = col.span("POST /v1/events"); return server != nil }, "the server span is exported")
	require.Empty(t, server.ParentSpanId, "Hookline starts the trace")
	require.Equal(t, hex.EncodeToString(server.TraceId), traceID)
}

// requireVerifies checks got's Standard Webhooks signature: the
// traceparent header is not part of what is signed.
func requireVerifies(t *testing.T, secret string, got received) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(got.body, got.header))
}

// TestTraceparentCarriedWhenOff checks tracing off: the sender's
// traceparent is stored with the event and sent as it came on every
// attempt, the retry too (read back from the database), while an event
// without one is delivered without one. A webhook received at
// /in/{source} keeps its traceparent as well.
func TestTraceparentCarriedWhenOff(t *testing.T) {
	t.Parallel()
	const tp = "00-" + senderTrace + "-" + senderSpan + "-01"
	rc := newReceiver(t, func(n int, w http.ResponseWriter) bool {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}
		return false
	})
	b := setup(t)
	ep := b.endpoint(client.EndpointCreate{URL: rc.URL, EventTypes: []string{"order.*"}, RetrySchedule: []string{"50ms"}})
	status, out := b.do(http.MethodPost, "/v1/events", `{"type":"order.created","data":{}}`, "traceparent", tp)
	require.Equal(t, http.StatusAccepted, status, "%v", out)
	eventually(t, func() bool { return rc.count() == 2 }, "delivered on the retry")
	for i, got := range rc.requests() {
		require.Equal(t, tp, got.header.Get("traceparent"), "attempt %d carries the sender's traceparent", i+1)
	}
	requireVerifies(t, ep.Secret, rc.requests()[1])
	stored, err := b.app.Store().GetEvent(t.Context(), tenantID(t, b), out["id"].(string))
	require.NoError(t, err)
	require.Equal(t, tp, stored.Traceparent)

	b.send("order.paid", `{}`)
	eventually(t, func() bool { return rc.count() == 3 }, "delivered")
	require.Empty(t, rc.requests()[2].header.Values("traceparent"), "no trace, no header")

	b.source(client.SourceCreate{Name: "traced", Verification: &client.Verification{Kind: "none"}})
	code, body := b.post("traced", []byte(`{"a":1}`), http.Header{"Content-Type": {"application/json"}, "Traceparent": {tp}})
	require.Equal(t, http.StatusOK, code, body)
	evs := b.sourceEvents("traced")
	require.Len(t, evs, 1)
	stored, err = b.app.Store().GetEvent(t.Context(), tenantID(t, b), evs[0].ID)
	require.NoError(t, err)
	require.Equal(t, tp, stored.Traceparent)
}

func tenantID(t *testing.T, b *bundle) string {
	t.Helper()
	ten, err := b.app.Store().TenantByName(t.Context(), app.DefaultTenant)
	require.NoError(t, err)
	return ten.ID
}

// TestTraceparentOnWorkflowCalls checks that every HTTP call of a
// workflow run carries the trace of the event that started it: the
// first step's and a later one's, which the engine runs as soon as the
// step before it is saved.
func TestTraceparentOnWorkflowCalls(t *testing.T) {
	t.Parallel()
	const tp = "00-" + senderTrace + "-" + senderSpan + "-01"
	var mu sync.Mutex
	got := map[string]string{}
	svc := newService(t, func(n int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.URL.Path] = r.Header.Get("traceparent")
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	})
	b := setup(t)
	b.saveWorkflow(fmt.Sprintf(`name: traced
on: { events: ["ping"] }
steps:
  - id: first
    http: { url: "%[1]s/first" }
  - id: second
    http: { url: "%[1]s/second" }
`, svc.URL))
	status, out := b.do(http.MethodPost, "/v1/events", `{"type":"ping","data":{}}`, "traceparent", tp)
	require.Equal(t, http.StatusAccepted, status, "%v", out)
	b.waitRun("traced", "succeeded")
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, map[string]string{"/first": tp, "/second": tp}, got)
}
