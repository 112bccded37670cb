package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/backoff"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/lru"
)

// Bounds of `hookline forward`.
const (
	// forwardBatch is how many events one lease takes.
	forwardBatch = 10
	// forwardWait is how long one lease waits for an event (long poll).
	forwardWait = 25 * time.Second
	// forwardRetry is how long an event the local app could not be reached
	// for waits before it is leased again.
	forwardRetry = 5 * time.Second
	// forwardSeen is how many forwarded event ids are remembered, so an
	// event leased again after an acknowledgement that came too late is
	// acknowledged without being forwarded twice.
	forwardSeen = 10000
	// forwardSettleTimeout bounds the last acknowledgements at Ctrl-C.
	forwardSettleTimeout = 5 * time.Second
	// maxForwardAnswer is how much of the local app's answer is read.
	maxForwardAnswer = 1 << 20
)

// forwardReconnect is the wait between tries to reach the server again.
var forwardReconnect = backoff.Exponential{Initial: 250 * time.Millisecond, Max: 10 * time.Second}

func newForwardCmd(g *globals) *cobra.Command {
	var (
		source, queueName, since string
		to, types                []string
		timeout                  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "forward",
		Short: "Forward the webhooks a source receives to a local URL, until Ctrl-C",
		Long: `Forward every event received at /in/SOURCE on the server to a URL on this
machine, such as your app on localhost: the request the provider sent, its
body byte for byte and its headers (signatures included), so your app's own
signature check passes. Nothing connects to this machine: forward leases
the events from a pull queue on the server over HTTPS (a long poll), and
acknowledges each once your app answered, whatever the status.

Each --to is a URL, or PATTERN=URL to send the event types matching
PATTERN there; the first that matches takes an event, and an event none
takes is skipped. One line per event: time, id, type, the local status and
latency.

The queue (--queue, default forward-SOURCE) stays on the server: events
received while forward is not running wait there, and the next forward
with the same queue gets them. After a network loss forward reconnects and
goes on where it stopped. --since first puts the events received since a
time (2h, or 2025-01-02T15:04:05Z) on the queue again.`,
		Example: `  hookline forward --source stripe --to http://localhost:3000/webhooks
  hookline forward --source github --to 'pull_request.*=http://localhost:3000/prs' --to http://localhost:3000/other
  hookline forward --source stripe --event-type 'invoice.*' --since 1h --to http://localhost:4242/hook`,
		Args: argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			routes, err := parseForwardRoutes(to)
			if err != nil {
				return usagef(cmd, "%v", err)
			}
			if source == "" {
				return usagef(cmd, "--source is required: the source whose events to forward")
			}
			queueName = cmp.Or(queueName, "forward-"+source)
			var from time.Time
			if since != "" {
				if from, err = parseSince(since, time.Now()); err != nil {
					return usagef(cmd, "invalid --since %q: %v", since, err)
				}
			}
			for _, p := range types {
				if err := event.ValidatePattern(p); err != nil {
					return usagef(cmd, "invalid --event-type %q: %v", p, err)
				}
			}
			if timeout <= 0 {
				return usagef(cmd, "--timeout must be positive")
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			f := &forwarder{
				c: c, queue: queueName, routes: routes, output: g.output, out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr(),
				local: &http.Client{Timeout: timeout}, visibility: forwardBatch*timeout + 30*time.Second,
				seen: lru.New[string, struct{}](forwardSeen),
			}
			ctx := cmd.Context()
			if err := f.open(ctx, client.QueueSpec{Name: queueName, Source: source, EventTypes: queueTypes(types, routes)}, from); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			fmt.Fprintf(f.errOut, "Forwarding events received at %s/in/%s to %s (queue %s); press Ctrl-C to stop.\n",
				strings.TrimRight(g.server, "/"), source, routesText(routes), queueName)
			return f.run(ctx)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&source, "source", "", "the source whose events to forward (required)")
	fl.StringArrayVar(&to, "to", nil, "a local URL, or PATTERN=URL for the event types matching PATTERN; repeatable, first match wins (required)")
	fl.StringArrayVar(&types, "event-type", nil, "only events of this type or pattern, such as invoice.*; repeatable")
	fl.StringVar(&since, "since", "", "first forward again the events received since this time: a duration back (1h) or an RFC 3339 time")
	fl.StringVar(&queueName, "queue", "", "the server's pull queue to forward from (default forward-SOURCE); one per developer when several forward the same source")
	fl.DurationVar(&timeout, "timeout", 10*time.Second, "how long the local app has to answer each request")
	return cmd
}

// forwardRoute sends the events whose type matches pattern ("" for any)
// to url.
type forwardRoute struct {
	pattern, url string
}

// parseForwardRoutes parses the --to flags: URL or PATTERN=URL.
func parseForwardRoutes(to []string) ([]forwardRoute, error) {
	if len(to) == 0 {
		return nil, errors.New("--to is required: the local URL to forward to")
	}
	routes := make([]forwardRoute, len(to))
	for i, v := range to {
		var rt forwardRoute
		// A pattern has no ':' or '/', which every URL before '=' has.
		if p, u, ok := strings.Cut(v, "="); ok && !strings.ContainsAny(p, ":/") {
			if err := event.ValidatePattern(p); err != nil {
				return nil, fmt.Errorf("invalid --to %q: pattern %v", v, err)
			}
			rt.pattern, v = p, u
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("invalid --to %q: want an http:// or https:// URL, or PATTERN=URL", to[i])
		}
		rt.url = v
		routes[i] = rt
	}
	return routes, nil
}

// queueTypes are the event types the queue takes: --event-type's, or
// when every --to has a pattern, theirs (what no route takes is not
// worth keeping); none is every type.
func queueTypes(types []string, routes []forwardRoute) []string {
	if len(types) > 0 {
		return types
	}
	var ps []string
	for _, rt := range routes {
		if rt.pattern == "" {
			return nil
		}
		ps = append(ps, rt.pattern)
	}
	return ps
}

func routesText(routes []forwardRoute) string {
	parts := make([]string, len(routes))
	for i, rt := range routes {
		parts[i] = rt.url
		if rt.pattern != "" {
			parts[i] = rt.pattern + " → " + rt.url
		}
	}
	return strings.Join(parts, ", ")
}

// parseSince reads --since: a duration back from now, or an RFC 3339
// time.
func parseSince(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		if d <= 0 {
			return time.Time{}, errors.New("the duration must be positive")
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errors.New("want a duration such as 2h or an RFC 3339 time such as 2025-01-02T15:04:05Z")
	}
	return t, nil
}

// forwarder leases events from a pull queue and sends each to the local
// app. It runs on one goroutine, in order.
type forwarder struct {
	c          *client.Client
	queue      string
	routes     []forwardRoute
	local      *http.Client
	visibility time.Duration
	output     string
	out        io.Writer
	errOut     io.Writer
	// seen are the events forwarded already, by id.
	seen *lru.Cache[string, struct{}]
	// acks, nacks and retries are receipts not yet settled on the server:
	// to acknowledge, to hand back at once, and to hand back for a later
	// try. An acknowledgement that failed is sent again once the server
	// answers, within the lease's visibility, so its event is not
	// forwarded twice.
	acks, nacks, retries []string
	// failures counts the calls to the server that failed in a row.
	failures int
}

// open makes or updates the queue, and puts the events since from on it
// again when from is set.
func (f *forwarder) open(ctx context.Context, spec client.QueueSpec, from time.Time) error {
	if _, err := f.c.PutQueue(ctx, spec); err != nil {
		return err
	}
	if from.IsZero() {
		return nil
	}
	r, err := f.c.ReplayQueue(ctx, f.queue, from)
	if err != nil {
		return err
	}
	note := ""
	if r.Truncated {
		note = " (the newest of more)"
	}
	fmt.Fprintf(f.errOut, "Replaying %d events received since %s%s.\n", r.Enqueued, from.UTC().Format(time.RFC3339), note)
	return nil
}

// run forwards until ctx ends. A failure to reach the server is retried
// with a growing wait; an answer that no retry changes (a key refused,
// the queue deleted) ends it.
func (f *forwarder) run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := f.step(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil && !transient(err):
			return err
		case err != nil:
			f.failures++
			if f.failures == 1 {
				fmt.Fprintf(f.errOut, "Lost the connection to the server (%v); reconnecting.\n", err)
			}
			clock.Sleep(ctx, forwardReconnect.Delay(f.failures, rand.Float64))
		}
	}
	// Ctrl-C: settle what was done, so the next forward starts at once
	// where this one stopped.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), forwardSettleTimeout)
	defer cancel()
	if err := f.settle(sctx); err != nil {
		fmt.Fprintf(f.errOut, "warning: could not acknowledge the last events (%v); they will be forwarded again\n", err)
	}
	return nil
}

// reached notes that the server answered: after failures, forward says it
// is connected again.
func (f *forwarder) reached() {
	if f.failures > 0 {
		f.failures = 0
		fmt.Fprintln(f.errOut, "Reconnected.")
	}
}

// transient reports whether err may pass by trying again: the server not
// reached, or an answer of 429 or 5xx.
func transient(err error) bool {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Status == http.StatusTooManyRequests || ce.Status >= 500
	}
	return true
}

// step settles what is pending, leases the next batch and forwards it.
func (f *forwarder) step(ctx context.Context) error {
	if err := f.settle(ctx); err != nil {
		return err
	}
	ms, err := f.c.LeaseMessages(ctx, f.queue, client.LeaseOptions{Limit: forwardBatch, Visibility: f.visibility, Wait: forwardWait})
	if err != nil {
		return err
	}
	f.reached()
	for i := range ms {
		if ctx.Err() != nil {
			// Stopped mid-batch: hand the rest back at once.
			for _, m := range ms[i:] {
				f.nacks = append(f.nacks, m.Receipt)
			}
			return nil
		}
		f.forward(ctx, &ms[i])
	}
	return f.settle(ctx)
}

// settle acknowledges and rejects the pending receipts. Stale ones are
// dropped: their lease lapsed and the event will come again (and, if it
// was forwarded, be recognised by seen).
func (f *forwarder) settle(ctx context.Context) error {
	for _, p := range []struct {
		receipts *[]string
		nack     bool
		delay    time.Duration
	}{{&f.acks, false, 0}, {&f.nacks, true, 0}, {&f.retries, true, forwardRetry}} {
		if len(*p.receipts) == 0 {
			continue
		}
		var err error
		if p.nack {
			_, err = f.c.NackMessages(ctx, f.queue, p.delay, *p.receipts...)
		} else {
			_, err = f.c.AckMessages(ctx, f.queue, *p.receipts...)
		}
		if err != nil {
			return err
		}
		*p.receipts = nil
		f.reached()
	}
	return nil
}

// forwardResult is one line of output.
type forwardResult struct {
	Time      client.Time `json:"time"`
	EventID   string      `json:"event_id"`
	Type      string      `json:"type"`
	URL       string      `json:"url,omitempty"`
	Status    int         `json:"status,omitempty"`
	LatencyMS int64       `json:"latency_ms"`
	Note      string      `json:"note,omitempty"`
	Error     string      `json:"error,omitempty"`
}

// forward sends one leased event to the route that takes it and records
// how its receipt settles: acknowledged once the app answered (any
// status), rejected for a later try when the app could not be reached.
func (f *forwarder) forward(ctx context.Context, m *client.QueueMessage) {
	res := forwardResult{Time: client.TimeOf(time.Now()), EventID: m.Event.ID, Type: m.Event.Type}
	defer func() { f.print(res) }()
	if _, ok := f.seen.Get(m.Event.ID); ok {
		res.Note = "forwarded already"
		f.acks = append(f.acks, m.Receipt)
		return
	}
	rt, ok := f.route(m.Event.Type)
	if !ok {
		res.Note = "skipped: no --to takes its type"
		f.acks = append(f.acks, m.Receipt)
		return
	}
	res.URL = rt.url
	// A request sent is let finish at Ctrl-C (within the timeout), so the
	// app's answer is known and the event not sent twice.
	req, err := forwardRequest(context.WithoutCancel(ctx), rt.url, m)
	if err != nil {
		res.Error = err.Error()
		f.acks = append(f.acks, m.Receipt)
		return
	}
	start := time.Now()
	resp, err := f.local.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxForwardAnswer))
		resp.Body.Close()
		res.Status = resp.StatusCode
	}
	res.LatencyMS = time.Since(start).Milliseconds()
	if res.Status == 0 {
		res.Error = err.Error()
		if ctx.Err() != nil {
			// Stopped: the next forward sends it.
			f.nacks = append(f.nacks, m.Receipt)
			return
		}
		res.Note = fmt.Sprintf("again in %s", forwardRetry)
		f.retries = append(f.retries, m.Receipt)
		return
	}
	f.seen.Add(m.Event.ID, struct{}{})
	f.acks = append(f.acks, m.Receipt)
}

func (f *forwarder) route(typ string) (forwardRoute, bool) {
	for _, rt := range f.routes {
		if rt.pattern == "" || event.Match(rt.pattern, typ) {
			return rt, true
		}
	}
	return forwardRoute{}, false
}

// forwardRequest is the request the provider sent, to url: its body as it
// arrived (an event published through the API: its data) and its
// headers as kept, and no header of forward's own.
func forwardRequest(ctx context.Context, url string, m *client.QueueMessage) (*http.Request, error) {
	body := []byte(m.Event.RawBody)
	switch {
	case m.Event.RawBodyBase64 != "":
		var err error
		if body, err = base64.StdEncoding.DecodeString(m.Event.RawBodyBase64); err != nil {
			return nil, fmt.Errorf("decode the raw body: %w", err)
		}
	case m.Event.RawBody == "":
		body = m.Event.Data
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range m.RequestHeaders {
		req.Header[http.CanonicalHeaderKey(k)] = []string{v}
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if req.Header.Get("User-Agent") == "" {
		// Sent empty, Go's client sends none of its own.
		req.Header.Set("User-Agent", "")
	}
	return req, nil
}

// print writes one line: time, id, type, then the local answer or what
// happened instead; -o json writes res as one line of JSON.
func (f *forwarder) print(res forwardResult) {
	if f.output == outputJSON {
		_ = jsonLine(f.out, res)
		return
	}
	what := fmt.Sprintf("%d  %dms  %s", res.Status, res.LatencyMS, res.URL)
	switch {
	case res.Error != "" && res.Note != "":
		what = fmt.Sprintf("error: %s (%s)", res.Error, res.Note)
	case res.Error != "":
		what = "error: " + res.Error
	case res.Note != "":
		what = res.Note
	}
	fmt.Fprintf(f.out, "%s  %s  %s  %s\n", fmtTime(res.Time), res.EventID, res.Type, what)
}
