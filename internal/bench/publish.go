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

	"github.com/hookline/hookline/internal/clock"
)

const (
	// publishTimeout bounds one POST /v1/events.
	publishTimeout = 60 * time.Second
	// maxPublishAttempts bounds the attempts of one event across a crash.
	maxPublishAttempts = 5
)

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

// sendFunc sends the request of event seq with body and returns the id
// its answer names and the time the answer (a 2xx) arrived.
type sendFunc func(ctx context.Context, seq int, body []byte) (id string, at time.Time, err error)

// publisher publishes events with concurrent workers, each with its own
// keep-alive connection: as fast as the answers come (closed loop), or on
// a fixed timetable (open loop) when rate is set.
type publisher struct {
	// send sends one event; see publishTo.
	send    sendFunc
	shape   eventShape
	events  int
	workers int
	// rate, when positive, is the events per second of an open-loop
	// run: event seq is due at the start plus seq/rate, whether or not
	// the answers to earlier events have come.
	rate float64
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
	// latency holds, per accepted event, the time from when it was due
	// (see publisher.run) to its 2xx.
	latency []time.Duration
	errors  int
	retries int
	// wall is the time from the first request sent to the last 2xx
	// received (the time publishing took when nothing was accepted).
	wall time.Duration
	// firstErr is the first error, to explain a count of errors.
	firstErr error
}

// workerOut is one worker's share of published.
type workerOut struct {
	ids       []string
	at        []time.Time
	latency   []time.Duration
	firstSent time.Time
	lastAck   time.Time
	errors    int
	retries   int
	firstErr  error
}

// timetable is the schedule of an open-loop run.
type timetable struct {
	start time.Time
	rate  float64 // events per second
}

// due returns the time event seq is due.
func (t timetable) due(seq int) time.Time {
	return t.start.Add(time.Duration(float64(seq) / t.rate * float64(time.Second)))
}

// run publishes p.events events and returns when every worker is done.
//
// An event's publish latency runs from when it was due to its 2xx. In a
// closed-loop run an event is due when its worker sends it. In an
// open-loop run it is due at its place in the timetable, so that an
// event sent late because every worker was still waiting for an earlier
// answer counts the wait: the latency a steady stream of publishers
// would see, not the latency of the requests the server let through
// (coordinated omission).
func (p *publisher) run(ctx context.Context) published {
	var next atomic.Int64
	outs := make([]workerOut, p.workers)
	var wg sync.WaitGroup
	tt := timetable{start: time.Now(), rate: p.rate}
	for w := range p.workers {
		wg.Go(func() {
			out := &outs[w]
			var body []byte
			for {
				seq := int(next.Add(1) - 1)
				if seq >= p.events || ctx.Err() != nil {
					return
				}
				body = p.shape.body(body[:0], seq)
				due := time.Now()
				if p.rate > 0 {
					due = tt.due(seq)
					if !clock.Sleep(ctx, time.Until(due)) {
						return
					}
				}
				p.publishOne(ctx, seq, body, due, out)
			}
		})
	}
	wg.Wait()
	res := published{accepted: make(map[string]time.Time, p.events)}
	var firstSent, lastAck time.Time
	for _, o := range outs {
		for i, id := range o.ids {
			res.accepted[id] = o.at[i]
			if res.firstAccept.IsZero() || o.at[i].Before(res.firstAccept) {
				res.firstAccept = o.at[i]
			}
		}
		res.latency = append(res.latency, o.latency...)
		if !o.firstSent.IsZero() && (firstSent.IsZero() || o.firstSent.Before(firstSent)) {
			firstSent = o.firstSent
		}
		if o.lastAck.After(lastAck) {
			lastAck = o.lastAck
		}
		res.errors += o.errors
		res.retries += o.retries
		if res.firstErr == nil {
			res.firstErr = o.firstErr
		}
	}
	res.wall = time.Since(tt.start)
	if !lastAck.IsZero() {
		res.wall = lastAck.Sub(firstSent)
	}
	return res
}

// publishOne publishes event seq, due at due, repeating it after a
// failure while p.resume allows.
func (p *publisher) publishOne(ctx context.Context, seq int, body []byte, due time.Time, out *workerOut) {
	for attempt := 1; ; attempt++ {
		if out.firstSent.IsZero() {
			out.firstSent = time.Now()
		}
		id, at, err := p.send(ctx, seq, body)
		if err == nil {
			out.ids = append(out.ids, id)
			out.at = append(out.at, at)
			out.latency = append(out.latency, at.Sub(due))
			out.lastAck = at
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

// Bounds of Config.EventSize.
const (
	// MinEventSize fits an event's type and sequence number with no
	// padding.
	MinEventSize = 128
	// MaxEventSize is the server's default limit of a request body.
	MaxEventSize = 1 << 20
)

// eventShape makes the request bodies of one run's events.
type eventShape struct {
	eventType string
	// size is the size of a body in bytes.
	size int
	pad  string
}

// newEventShape returns the shape of events of eventType whose bodies
// are size bytes.
func newEventShape(eventType string, size int) eventShape {
	return eventShape{eventType: eventType, size: size, pad: strings.Repeat("x", size)}
}

// body appends to b the JSON body of event seq, padded with a note to
// s.size bytes (longer when the size is too small for the rest).
func (s eventShape) body(b []byte, seq int) []byte {
	start := len(b)
	b = append(b, `{"type":"`...)
	b = append(b, s.eventType...)
	b = append(b, `","data":{"seq":`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `,"note":"`...)
	const tail = `"}}`
	if pad := s.size - (len(b) - start) - len(tail); pad > 0 {
		b = append(b, s.pad[:pad]...)
	}
	return append(b, tail...)
}

// publishTo returns the sendFunc that POSTs events with key through hc to
// the servers at urls, event seq to urls[seq % len(urls)].
func publishTo(hc *http.Client, urls []string, key string) sendFunc {
	return func(ctx context.Context, seq int, body []byte) (string, time.Time, error) {
		url := urls[seq%len(urls)]
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/events", bytes.NewReader(body))
		if err != nil {
			return "", time.Time{}, fmt.Errorf("publish: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
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
}
