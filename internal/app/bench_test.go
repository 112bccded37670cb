package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookline/hookline/client"
)

// BenchmarkAcceptHTTP measures POST /v1/events end to end over real HTTP on
// a real SQLite file (synchronous=FULL): each 202 means the event and its
// delivery are committed. Run with:
//
//	go test ./internal/app -run '^$' -bench AcceptHTTP -benchtime 5000x
func BenchmarkAcceptHTTP(b *testing.B) {
	for _, tc := range []struct {
		name      string
		endpoints int
	}{{"no_endpoint", 0}, {"one_endpoint", 1}} {
		b.Run(tc.name, func(b *testing.B) {
			a, c, key := benchApp(b, nil)
			url := "http://" + a.Addr()
			sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
			defer sink.Close()
			for range tc.endpoints {
				if _, err := c.CreateEndpoint(context.Background(), client.EndpointCreate{URL: sink.URL}); err != nil {
					b.Fatal(err)
				}
			}
			body := `{"type":"order.created","data":{"id":"ord_1","amount":4200,"note":"` + strings.Repeat("x", 900) + `"}}`
			tr := &http.Transport{MaxIdleConnsPerHost: 256}
			hc := &http.Client{Transport: tr}
			b.SetParallelism(16) // 16 × GOMAXPROCS concurrent publishers
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodPost, url+"/v1/events", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+key)
					req.Header.Set("Content-Type", "application/json")
					resp, err := hc.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					// Drain so the connection is reused, as a real publisher's is.
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusAccepted {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
