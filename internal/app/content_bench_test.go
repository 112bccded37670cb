package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/app/apptest"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/content/smtptest"
)

func benchApp(b *testing.B, edit func(*config.Config)) (*app.App, *client.Client, string) {
	cfg := apptest.Config(b)
	cfg.AllowPrivateNetworks = true
	if edit != nil {
		edit(&cfg)
	}
	var out bytes.Buffer
	a := apptest.Start(b, cfg, app.Options{Out: &out})
	b.Cleanup(func() { a.Stop(context.Background()) })
	key := keyPattern.FindString(out.String())
	return a, client.New("http://"+a.Addr(), key), key
}

func benchApply(b *testing.B, url, key, decl string) {
	req, _ := http.NewRequest("POST", url+"/v1/apply", strings.NewReader(decl))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("apply: %s", resp.Status)
	}
}

// pollUntil checks cond every interval until it holds: a benchmark's end
// is polled, not awaited.
func pollUntil(interval time.Duration, cond func() bool) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for !cond() {
		<-tick.C
	}
}

func sendBatches(b *testing.B, c *client.Client, n int, typ string, data func(i int) any) {
	for i := 0; i < n; i += 500 {
		var batch client.EventBatch
		for j := i; j < min(i+500, n); j++ {
			d, _ := json.Marshal(data(j))
			batch.Events = append(batch.Events, client.EventCreate{Type: typ, Data: d})
		}
		if _, err := c.SendEvents(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
}

const benchTemplate = `{"name": "receipt", "subject": "Your order {{.data.id}}, {{.recipient.name}}",
	"text": "Hello {{.recipient.name}}, you paid {{currency .data.total \"EUR\"}} on {{date \"long\" .event.occurred_at}}.",
	"html": "<p>Hello {{.recipient.name}}</p><p>You paid {{currency .data.total \"EUR\"}}.</p><a href=\"https://shop.example/o/{{.data.id}}\">Order</a>"}`

// BenchmarkContentEmail measures email messages/s from POST
// /v1/events/batch until a local SMTP server (in process) received every
// rendered, tracked message. Run with:
//
//	go test ./internal/app -run '^$' -bench ContentEmail -benchtime 2000x
func BenchmarkContentEmail(b *testing.B) {
	srv := smtptest.Start(b)
	a, c, key := benchApp(b, func(cfg *config.Config) {
		cfg.SMTP = config.SMTP{Host: srv.Host(), Port: srv.Port(), TLS: "none", From: "Shop <noreply@shop.example>"}
		cfg.PublicURL = "http://hooks.test"
	})
	var rcpts []string
	for i := range 100 {
		rcpts = append(rcpts, fmt.Sprintf(`{"id": "r%d", "email": "r%d@example.com", "name": "R %d", "locale": "en"}`, i, i, i))
	}
	benchApply(b, "http://"+a.Addr(), key, `{"templates": [`+benchTemplate+`], "recipients": [`+strings.Join(rcpts, ",")+`],
		"notify_rules": [{"name": "receipt", "events": ["order.paid"], "recipient": "data.customer", "template": "receipt", "channels": ["email"]}]}`)
	b.ResetTimer()
	sendBatches(b, c, b.N, "order.paid", func(i int) any { return map[string]any{"id": i, "customer": fmt.Sprint("r", i%100), "total": 12.5} })
	pollUntil(5*time.Millisecond, func() bool { return len(srv.Messages()) >= b.N })
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "emails/s")
}

// BenchmarkContentInbox measures inbox messages/s delivered live to 1,000
// connected Server-Sent Events clients (one per recipient), from POST
// /v1/events/batch to the SSE frames read. Run with:
//
//	go test ./internal/app -run '^$' -bench ContentInbox -benchtime 5000x
func BenchmarkContentInbox(b *testing.B) {
	const clients = 1000
	a, c, key := benchApp(b, nil)
	base := "http://" + a.Addr()
	var rcpts []string
	for i := range clients {
		rcpts = append(rcpts, fmt.Sprintf(`{"id": "r%d", "name": "R %d"}`, i, i))
	}
	benchApply(b, base, key, `{"templates": [`+benchTemplate+`], "recipients": [`+strings.Join(rcpts, ",")+`],
		"notify_rules": [{"name": "receipt", "events": ["order.paid"], "recipient": "data.customer", "template": "receipt", "channels": ["inbox"]}]}`)
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients + 10}
	hc := &http.Client{Transport: tr}
	var (
		got   atomic.Int64
		ready sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range clients {
		req, _ := http.NewRequest("GET", base+"/v1/recipients/r"+fmt.Sprint(i)+"/token", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var tok struct{ Token string }
		json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		ready.Add(1)
		go func() {
			sreq, _ := http.NewRequestWithContext(ctx, "GET", base+"/inbox/stream?token="+url.QueryEscape(tok.Token), nil)
			sresp, err := hc.Do(sreq)
			if err != nil {
				ready.Done()
				return
			}
			defer sresp.Body.Close()
			sc := bufio.NewScanner(sresp.Body)
			first := true
			for sc.Scan() {
				line := sc.Text()
				if first && strings.HasPrefix(line, "data: ") {
					first = false
					ready.Done()
				}
				if line == "event: message" {
					got.Add(1)
				}
			}
		}()
	}
	ready.Wait()
	b.ResetTimer()
	sendBatches(b, c, b.N, "order.paid", func(i int) any { return map[string]any{"id": i, "customer": fmt.Sprint("r", i%clients), "total": 12.5} })
	deadline := time.Now().Add(5 * time.Minute)
	pollUntil(5*time.Millisecond, func() bool { return got.Load() >= int64(b.N) || time.Now().After(deadline) })
	b.ReportMetric(float64(got.Load())/b.Elapsed().Seconds(), "messages/s")
	b.ReportMetric(float64(clients), "clients")
}
