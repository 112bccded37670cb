package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// noteSize makes an event's data about 1 KiB.
	noteSize = 1000
	// publishTimeout bounds one POST /v1/events.
	publishTimeout = 60 * time.Second
	// maxPublishAttempts bounds the attempts of one event across a crash.
	maxPublishAttempts = 5
)

// note pads event data to about 1 KiB.
var note = strings.Repeat("x", noteSize)

// newTransport returns a keep-alive transport for conns concurrent
// requests to one host that counts its dials. It never uses a proxy.
func newTransport(conns int, dials *atomic.Int64) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        2 * conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
	}
}

// publisher publishes events with concurrent workers, each with its own
// keep-alive connection.
type publisher struct {
	hc        *http.Client
	url       string // the server's base URL
	key       string
	eventType string
	events    int
	workers   int
	// resume, when set, is called after a failed attempt; it returns once
	// the server may be tried again, or false to give the event up.
	resume func(ctx context.Context) bool
	// accepted counts accepted events while publishing.
	accepted atomic.Int64
	// onAccepted, when set, is called with the running count after each
	// accepted event.
	onAccepted func(n int64)
}

// published is the outcome of publishing.
type published struct {
	// accepted maps the id of each accepted event to its accept time.
	accepted    map[string]time.Time
	firstAccept time.Time
	errors      int
	retries     int
	wall        time.Duration
	// firstErr is the first error, to explain a count of errors.
	firstErr error
}

// workerOut is one worker's share of published.
type workerOut struct {
	ids      []string
	at       []time.Time
	errors   int
	retries  int
	firstErr error
}

// run publishes p.events events and returns when every worker is done.
func (p *publisher) run(ctx context.Context) published {
	var next atomic.Int64
	outs := make([]workerOut, p.workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range p.workers {
		wg.Go(func() {
			out := &outs[w]
			var body []byte
			for {
				seq := int(next.Add(1) - 1)
				if seq >= p.events || ctx.Err() != nil {
					return
				}
				body = p.body(body[:0], seq)
				p.publishOne(ctx, body, out)
			}
		})
	}
	wg.Wait()
	res := published{wall: time.Since(start), accepted: make(map[string]time.Time, p.events)}
	for _, o := range outs {
		for i, id := range o.ids {
			res.accepted[id] = o.at[i]
			if res.firstAccept.IsZero() || o.at[i].Before(res.firstAccept) {
				res.firstAccept = o.at[i]
			}
		}
		res.errors += o.errors
		res.retries += o.retries
		if res.firstErr == nil {
			res.firstErr = o.firstErr
		}
	}
	return res
}

// publishOne publishes one event, repeating it after a failure while
// p.resume allows.
func (p *publisher) publishOne(ctx context.Context, body []byte, out *workerOut) {
	for attempt := 1; ; attempt++ {
		id, at, err := p.post(ctx, body)
		if err == nil {
			out.ids = append(out.ids, id)
			out.at = append(out.at, at)
			n := p.accepted.Add(1)
			if p.onAccepted != nil {
				p.onAccepted(n)
			}
			return
		}
		if p.resume == nil || attempt >= maxPublishAttempts || ctx.Err() != nil || !p.resume(ctx) {
			out.errors++
			if out.firstErr == nil {
				out.firstErr = err
			}
			return
		}
		out.retries++
	}
}

// body appends the JSON body of event seq to b.
func (p *publisher) body(b []byte, seq int) []byte {
	b = append(b, `{"type":"`...)
	b = append(b, p.eventType...)
	b = append(b, `","data":{"seq":`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `,"note":"`...)
	b = append(b, note...)
	return append(b, `"}}`...)
}

// post sends one event and returns its id and the time its 202 arrived.
func (p *publisher) post(ctx context.Context, body []byte) (string, time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"/v1/events", bytes.NewReader(body))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("publish: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+p.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.hc.Do(req)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("publish: %w", err)
	}
	at := time.Now()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("publish: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusAccepted {
		return "", time.Time{}, fmt.Errorf("publish: status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	var ev struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &ev); err != nil || ev.ID == "" {
		return "", time.Time{}, fmt.Errorf("publish: answer without an event id: %.200s", b)
	}
	return ev.ID, at, nil
}
