// Package delivery is the endpoint destination: it routes events to the
// endpoints subscribed to them and delivers each as a signed HTTP POST
// (Standard Webhooks) in the endpoint's payload format.
package delivery

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/delivery/broker"
	"github.com/hookline/hookline/internal/delivery/format"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/signature"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/ttl"
)

// Kind is the destination kind of endpoint tasks.
const Kind = "endpoint"

// Defaults and limits.
const (
	DefaultTimeout = 15 * time.Second
	MaxTimeout     = 5 * time.Minute
	// LogBodyLimit bounds request and response bodies kept in the attempt log.
	LogBodyLimit = 4 << 10
	// drainLimit bounds how much of a response is read to reuse the connection.
	drainLimit = 64 << 10
)

var _ engine.Executor = (*Executor)(nil)

// Endpoints is what the executor needs from the store: the endpoint a
// task goes to, its failing state and disabling, and the subscription of
// a forward task.
type Endpoints interface {
	GetEndpoint(ctx context.Context, tenantID, id string) (store.Endpoint, error)
	SetEndpointFailing(ctx context.Context, tenantID, id string, since time.Time) error
	DisableEndpoint(ctx context.Context, tenantID, id, reason string, at time.Time) error
	GetSubscription(ctx context.Context, tenantID, id string) (store.Subscription, error)
}

// ExecutorConfig configures NewExecutor.
type ExecutorConfig struct {
	Store Endpoints
	// Client must refuse forbidden addresses and not follow redirects; see
	// netguard.NewClient.
	Client    *http.Client
	Clock     clock.Clock
	Logger    *slog.Logger
	UserAgent string
	// Disabled is called after the executor disables an endpoint (410
	// Gone, failing too long), so routing stops at once; may be nil.
	Disabled func(tenantID string)
	// Emit publishes an operational event such as endpoint.disabled; may
	// be nil.
	Emit func(ctx context.Context, e event.Event) error
	// DisableAfter disables an endpoint that has failed without a single
	// success for this long; default 5 days.
	DisableAfter time.Duration
	// Brokers publishes to endpoints whose URL names a message system
	// (broker.Handles); nil refuses them. Close closes it.
	Brokers *broker.Pool
}

// DefaultDisableAfter is how long an endpoint may fail without a success
// before it is disabled.
const DefaultDisableAfter = 5 * 24 * time.Hour

// EventEndpointDisabled is the type of the operational event emitted when
// Hookline disables an endpoint.
const EventEndpointDisabled = "endpoint.disabled"

// Executor delivers endpoint tasks.
type Executor struct {
	cfg ExecutorConfig

	cache *ttl.Cache[string, cachedEndpoint] // by endpoint id

	// keys are the signing secrets decoded, by their encoded form, each
	// keeping its MAC states for the next attempt. keysMu is never held
	// with mu.
	keysMu sync.RWMutex
	keys   map[string]*signature.Key
}

// maxKeys bounds Executor.keys: past it, the map starts again empty.
const maxKeys = 10000

type cachedEndpoint struct {
	ep  store.Endpoint
	err error
}

// endpointTTL bounds how long a loaded endpoint is reused; changes through
// this process invalidate at once. maxEndpoints bounds how many are kept.
const (
	endpointTTL  = 2 * time.Second
	maxEndpoints = 100000
)

// NewExecutor returns an endpoint executor.
func NewExecutor(cfg ExecutorConfig) *Executor {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.UserAgent = cmp.Or(cfg.UserAgent, "Hookline/dev")
	if cfg.Disabled == nil {
		cfg.Disabled = func(string) {}
	}
	cfg.DisableAfter = cmp.Or(cfg.DisableAfter, DefaultDisableAfter)
	return &Executor{cfg: cfg, cache: ttl.New[string, cachedEndpoint](endpointTTL, maxEndpoints), keys: make(map[string]*signature.Key)}
}

// Invalidate drops cached endpoints and keys after a change through the
// API, and closes the broker connections of the tenant's endpoints that
// changed.
func (x *Executor) Invalidate(tenantID string) {
	x.cache.Clear()
	// A rotated or deleted secret is not kept past the endpoints.
	x.keysMu.Lock()
	clear(x.keys)
	x.keysMu.Unlock()
	if x.cfg.Brokers != nil {
		x.retireBrokers(tenantID)
	}
}

func (x *Executor) load(ctx context.Context, tenantID, id string) (store.Endpoint, error) {
	now := x.cfg.Clock.Now()
	if c, ok := x.cache.Get(id, now); ok && c.ep.TenantID == tenantID {
		return c.ep, c.err
	}
	ep, err := x.cfg.Store.GetEndpoint(ctx, tenantID, id)
	if err == nil || errors.Is(err, store.ErrNotFound) {
		x.cache.Put(id, cachedEndpoint{ep: ep, err: err}, now)
	}
	return ep, err
}

// Limits returns the dispatch limits of an endpoint task's endpoint.
func (x *Executor) Limits(ctx context.Context, t *store.Task) engine.Limits {
	ep, err := x.load(ctx, t.TenantID, t.DestinationID)
	if err != nil {
		return engine.Limits{}
	}
	return engine.Limits{MaxInFlight: ep.MaxInFlight, RateLimit: ep.RateLimit, Ordered: ep.Ordered}
}

// Execute sends one attempt of t to its endpoint.
func (x *Executor) Execute(ctx context.Context, t *store.Task) engine.Outcome {
	ep, out, ok := x.endpoint(ctx, t.TenantID, t.DestinationID)
	if !ok {
		return out
	}
	if t.Event == nil {
		return failed(out, "internal_error", errors.New("task has no event loaded"), false)
	}
	ev := t.Event
	buf := bodyPool.Get().(*[]byte)
	defer bodyPool.Put(buf)
	body, contentType, err := format.Append((*buf)[:0], cmp.Or(ep.Format, format.JSON), format.Payload{Type: ev.Type, Timestamp: ev.OccurredAt, Data: ev.Data})
	if err != nil {
		return failed(out, "invalid_request", fmt.Errorf("encode payload: %w", err), true)
	}
	if cap(body) <= maxPooledBody {
		*buf = body
	}
	return x.send(ctx, &ep, t, body, contentType, out)
}

// bodyPool holds the buffers bodies are encoded in: send copies a body
// before it returns and keeps no reference to it.
var bodyPool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledBody bounds the buffers kept in bodyPool, so one large event
// does not pin its buffer.
const maxPooledBody = 64 << 10

// endpoint loads an endpoint that can receive now; when it cannot, ok is
// false and out is the outcome to report.
func (x *Executor) endpoint(ctx context.Context, tenantID, id string) (ep store.Endpoint, out engine.Outcome, ok bool) {
	ep, err := x.load(ctx, tenantID, id)
	out.Attempt.Kind, out.NotAttempted = store.AttemptHTTP, true
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ep, failed(out, "endpoint_deleted", errors.New("endpoint was deleted"), true), false
	case err != nil:
		return ep, failed(out, "internal_error", fmt.Errorf("load endpoint: %w", err), false), false
	}
	out.Schedule = ep.RetrySchedule
	if !ep.Enabled {
		return ep, failed(out, "endpoint_disabled", fmt.Errorf("endpoint is disabled: %s", cmp.Or(ep.DisabledReason, "by user")), true), false
	}
	out.NotAttempted = false
	return ep, out, true
}

func failed(out engine.Outcome, outcome string, err error, permanent bool) engine.Outcome {
	out.Attempt.Kind, out.Attempt.Outcome, out.Err, out.Permanent = store.AttemptHTTP, outcome, err, permanent
	return out
}

// track records an attempt's effect on the endpoint's health: the first
// failure starts the failing period, a success ends it, and failing past
// DisableAfter disables the endpoint. Writes happen only on transitions.
func (x *Executor) track(ctx context.Context, ep *store.Endpoint, out engine.Outcome, now time.Time) {
	if out.NotAttempted {
		return
	}
	switch {
	case out.Err == nil && !ep.FailingSince.IsZero():
		x.setFailing(ctx, ep, time.Time{})
	case out.Err != nil && ep.FailingSince.IsZero():
		x.setFailing(ctx, ep, now)
	case out.Err != nil && ep.Enabled && now.Sub(ep.FailingSince) >= x.cfg.DisableAfter:
		reason := fmt.Sprintf("failed without a success since %s", ep.FailingSince.UTC().Format(time.RFC3339))
		x.disable(ctx, ep, reason, now)
	}
}

func (x *Executor) setFailing(ctx context.Context, ep *store.Endpoint, since time.Time) {
	if err := x.cfg.Store.SetEndpointFailing(ctx, ep.TenantID, ep.ID, since); err != nil && !errors.Is(err, store.ErrNotFound) {
		x.cfg.Logger.WarnContext(ctx, "record endpoint health", "endpoint_id", ep.ID, "error", err)
		return
	}
	// The next attempt reads the endpoint as it is now.
	x.cache.Delete(ep.ID)
}

// disable turns an endpoint off and emits endpoint.disabled.
func (x *Executor) disable(ctx context.Context, ep *store.Endpoint, reason string, now time.Time) {
	if err := x.cfg.Store.DisableEndpoint(ctx, ep.TenantID, ep.ID, reason, now); err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			x.cfg.Logger.ErrorContext(ctx, "disable endpoint", "endpoint_id", ep.ID, "error", err)
		}
		return
	}
	x.Invalidate(ep.TenantID)
	x.cfg.Disabled(ep.TenantID)
	x.cfg.Logger.WarnContext(ctx, "endpoint disabled", "endpoint_id", ep.ID, "reason", reason)
	if x.cfg.Emit == nil {
		return
	}
	data, _ := json.Marshal(map[string]any{"endpoint_id": ep.ID, "url": ep.URL, "reason": reason, "disabled_at": now.UTC()})
	at := now.UTC().Truncate(time.Millisecond)
	ev := event.Event{ID: event.NewID(event.PrefixEvent, at), TenantID: ep.TenantID, Type: EventEndpointDisabled,
		Source: "hookline", Data: data, OccurredAt: at, CreatedAt: at}
	if err := x.cfg.Emit(context.WithoutCancel(ctx), ev); err != nil {
		x.cfg.Logger.ErrorContext(ctx, "emit endpoint.disabled", "endpoint_id", ep.ID, "error", err)
	}
}

// send POSTs body to ep as task t's message (signed with the event id as
// webhook-id) and classifies the answer. It keeps no reference to body
// once it returns.
func (x *Executor) send(ctx context.Context, ep *store.Endpoint, t *store.Task, body []byte, contentType string, out engine.Outcome) engine.Outcome {
	if broker.Handles(ep.URL) {
		return x.publish(ctx, ep, t, bytes.Clone(body), contentType, out)
	}
	now := x.cfg.Clock.Now()
	timeout := cmp.Or(ep.Timeout, DefaultTimeout)
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, sent, err := x.request(rctx, ep, t, body, contentType, now)
	if err != nil {
		return failed(out, "invalid_request", err, true)
	}
	// Custom headers are the user's and may be credentials: the attempt
	// log keeps their names only.
	configured := slices.Collect(maps.Keys(ep.Headers))
	out.Attempt.RequestURL = ep.URL
	out.Attempt.RequestHeaders = redact.SentHeader(req.Header, configured...)
	out.Attempt.RequestBody = truncateString(sent)

	resp, err := x.cfg.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			out = failed(out, "timeout", fmt.Errorf("send: no response within %s", timeout), false)
		} else {
			out = failed(out, "network_error", fmt.Errorf("send: %w", err), false)
		}
		if ctx.Err() == nil { // not our own shutdown
			x.track(ctx, ep, out, now)
		}
		return out
	}
	defer resp.Body.Close()
	out.Attempt.ResponseBody = readLogged(resp.Body)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	out.Attempt.ResponseStatus = resp.StatusCode
	out.Attempt.ResponseHeaders = redact.SentHeader(resp.Header, configured...)
	out = x.classify(ctx, ep, resp, now, out)
	x.track(ctx, ep, out, now)
	return out
}

// logPool holds the buffers response bodies are read into for the log.
var logPool = sync.Pool{New: func() any { return new([LogBodyLimit]byte) }}

// readLogged reads the first LogBodyLimit bytes of a response body, what
// the attempt log keeps of it.
func readLogged(body io.Reader) string {
	buf := logPool.Get().(*[LogBodyLimit]byte)
	defer logPool.Put(buf)
	n, _ := io.ReadFull(body, buf[:])
	return string(buf[:n])
}

func (x *Executor) classify(ctx context.Context, ep *store.Endpoint, resp *http.Response, now time.Time, out engine.Outcome) engine.Outcome {
	code := resp.StatusCode
	out.Attempt.Outcome = "success"
	if code < 200 || code >= 300 {
		out.Attempt.Outcome = "http_" + strconv.Itoa(code)
	}
	switch {
	case code >= 200 && code < 300:
		return out
	case code == http.StatusGone:
		out.Err, out.Permanent = errors.New("endpoint answered 410 Gone; it is now disabled"), true
		x.disable(ctx, ep, "endpoint answered 410 Gone", now)
		return out
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		out.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	out.Err = fmt.Errorf("endpoint answered HTTP %d", code)
	return out
}

// HeaderDeliveryID carries the delivery (task) id on every request, so a
// receiver can tell deliveries of one event to several endpoints apart.
const HeaderDeliveryID = "Hookline-Delivery-Id"

// fixedHeaders is how many headers request sets besides the endpoint's.
const fixedHeaders = 6

// request builds the signed request of body and returns it with body as
// a string, which the request reads from, so that the caller may reuse
// body.
func (x *Executor) request(ctx context.Context, ep *store.Endpoint, t *store.Task, body []byte, contentType string, now time.Time) (*http.Request, string, error) {
	msgID := t.EventID
	var active [2]*signature.Key // the current key and one being rotated out
	keys, err := x.activeKeys(active[:0], ep.Secrets, now)
	if err != nil {
		return nil, "", err
	}
	sent := string(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, redact.JoinURL(ep.URL, ep.URLSecret), strings.NewReader(sent))
	if err != nil {
		return nil, "", fmt.Errorf("build request: %w", err)
	}
	h := make(http.Header, len(ep.Headers)+fixedHeaders)
	for k, v := range ep.Headers {
		h.Set(k, v)
	}
	// The event id is the message id: the same across retries and replays,
	// so receivers can deduplicate on webhook-id. The fixed headers' keys
	// are canonical already, and their values share one array.
	scratch := signPool.Get().(*[]byte)
	defer signPool.Put(scratch)
	*scratch = signature.AppendSignKeys((*scratch)[:0], keys, msgID, now, body)
	vs := [fixedHeaders]string{msgID, strconv.FormatInt(now.Unix(), 10), string(*scratch), contentType, x.cfg.UserAgent, t.ID}
	values := vs[:]
	for i, k := range [fixedHeaders]string{signature.HeaderKeyID, signature.HeaderKeyTimestamp, signature.HeaderKeySignature,
		"Content-Type", "User-Agent", HeaderDeliveryID} {
		h[k] = values[i : i+1 : i+1]
	}
	req.Header = h
	return req, sent, nil
}

// signPool holds the buffers signatures are written in.
var signPool = sync.Pool{New: func() any { return new([]byte) }}

// activeKeys appends to dst the keys of the secrets that still sign at
// now: the current one and any previous one inside its rotation grace
// period.
func (x *Executor) activeKeys(dst []*signature.Key, secrets []store.Secret, now time.Time) ([]*signature.Key, error) {
	for _, s := range secrets {
		if !s.ExpiresAt.IsZero() && !now.Before(s.ExpiresAt) {
			continue
		}
		k, err := x.key(s.Key)
		if err != nil {
			return nil, fmt.Errorf("decode endpoint secret: %w", err)
		}
		dst = append(dst, k)
	}
	if len(dst) == 0 {
		return nil, errors.New("endpoint has no active signing secret")
	}
	return dst, nil
}

// key returns the decoded key of secret, from x.keys when it was decoded
// before.
func (x *Executor) key(secret string) (*signature.Key, error) {
	x.keysMu.RLock()
	k := x.keys[secret]
	x.keysMu.RUnlock()
	if k != nil {
		return k, nil
	}
	raw, err := signature.DecodeSecret(secret)
	if err != nil {
		return nil, err
	}
	k = signature.NewKey(raw)
	x.keysMu.Lock()
	defer x.keysMu.Unlock()
	if len(x.keys) >= maxKeys {
		clear(x.keys)
	}
	x.keys[secret] = k
	return k, nil
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

func truncate(b []byte) string {
	if len(b) > LogBodyLimit {
		b = b[:LogBodyLimit]
	}
	return string(b)
}

// truncateString is truncate of a string; a longer one is copied, so the
// log does not pin the whole of it.
func truncateString(s string) string {
	if len(s) > LogBodyLimit {
		return strings.Clone(s[:LogBodyLimit])
	}
	return s
}
