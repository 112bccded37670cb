package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/telemetry"
)

// benchTracing returns tracing off, or on and exporting to a sink that
// discards what it gets (batched every second, so the export is off the
// measured path as it is in production).
func benchTracing(b *testing.B, on bool) *telemetry.Tracing {
	b.Helper()
	if !on {
		return telemetry.Off
	}
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	b.Cleanup(sink.Close)
	tr, err := telemetry.New(telemetry.Config{Enabled: true, Endpoint: sink.URL + "/v1/traces", BatchDelay: time.Second}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Shutdown(context.Background()) })
	return tr
}

// BenchmarkHandler measures what tracing adds to one API request in
// process (no network): a mux with the route behind Tracing.Handler, as
// app mounts /v1/. "bare" has no tracing handler at all.
//
//	go test ./internal/telemetry -run '^$' -bench Handler -benchmem -count 5
func BenchmarkHandler(b *testing.B) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, tc := range []struct {
		name        string
		wrap, on    bool
		traceparent string
	}{
		{"bare", false, false, ""},
		{"off", true, false, ""},
		{"off_traceparent", true, false, tp},
		{"on", true, true, ""},
		{"on_traceparent", true, true, tp},
	} {
		b.Run(tc.name, func(b *testing.B) {
			mux := http.NewServeMux()
			mux.HandleFunc("POST /v1/events", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusAccepted)
				_, _ = io.WriteString(w, `{"id":"evt_1"}`)
			})
			var h http.Handler = mux
			if tc.wrap {
				h = benchTracing(b, tc.on).Handler(mux)
			}
			req := httptest.NewRequest(http.MethodPost, "/v1/events", nil)
			if tc.traceparent != "" {
				req.Header.Set("traceparent", tc.traceparent)
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkClient measures what tracing adds to one outgoing request (a
// delivery attempt's), against a transport that answers at once.
//
//	go test ./internal/telemetry -run '^$' -bench Client -benchmem -count 5
func BenchmarkClient(b *testing.B) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, tc := range []struct {
		name     string
		wrap, on bool
		parent   string
	}{
		{"bare", false, false, ""},
		{"off", true, false, ""},
		{"off_traceparent", true, false, tp},
		{"on_traceparent", true, true, tp},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c := &http.Client{Transport: answer{}}
			if tc.wrap {
				c = benchTracing(b, tc.on).Client(c)
			}
			ctx := telemetry.WithParent(context.Background(), tc.parent)
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://receiver.test/hook", strings.NewReader("{}"))
				resp, err := c.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// answer is a transport that answers 200 without a network.
type answer struct{}

func (answer) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
