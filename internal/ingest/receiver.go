package ingest

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
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookline/hookline/internal/accesslog"
	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/clip"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/delivery/format"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/signature"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/ttl"
)

// Limits of the rejection log.
const (
	RejectionsKept   = 100
	rejectBodyLimit  = 2 << 10
	rejectHeaderSize = 256
	sourceCacheTTL   = 5 * time.Second
	maxSources       = 10000
)

// defaultHeaders are kept on every received event when present.
var defaultHeaders = []string{
	"Content-Type", "User-Agent", "X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID", "X-Shopify-Topic",
	"X-Shopify-Shop-Domain", "X-Shopify-Webhook-Id", "Webhook-Id", "Svix-Id", "Ce-Id", "Ce-Source", "Ce-Type",
}

// Sources is what the receiver needs from the store: sources by their
// global name, and a log of the requests it refused.
type Sources interface {
	SourceByName(ctx context.Context, name string) (store.Source, error)
	AddRejection(ctx context.Context, r store.Rejection, keep int) error
}

// ReceiverConfig configures NewReceiver.
type ReceiverConfig struct {
	Store  Sources
	Engine *engine.Engine
	Clock  clock.Clock
	Logger *slog.Logger
	// Registerer, when set, gets the receiver's metrics.
	Registerer prometheus.Registerer
	// LookupTimeout bounds the lookup of a source that is not cached;
	// default engine.DefaultCommitTimeout (the publish bounds itself).
	LookupTimeout time.Duration
}

// Receiver serves POST /in/{source}.
type Receiver struct {
	cfg      ReceiverConfig
	log      *slog.Logger
	clock    clock.Clock
	requests *prometheus.CounterVec

	cache *ttl.Cache[string, cachedSource]
}

type cachedSource struct {
	src *Source
	err error // store.ErrNotFound, cached too
}

// NewReceiver returns a Receiver.
func NewReceiver(cfg ReceiverConfig) *Receiver {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.LookupTimeout = cmp.Or(cfg.LookupTimeout, engine.DefaultCommitTimeout)
	rc := &Receiver{
		cfg: cfg, log: cfg.Logger, clock: cfg.Clock, cache: ttl.New[string, cachedSource](sourceCacheTTL, maxSources),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_ingest_requests_total",
			Help: "Requests to /in/{source} by source and result (accepted, duplicate, handshake, rejected_verification, rejected_body, rejected_header, not_found).",
		}, []string{"source", "result"}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(rc.requests)
	}
	return rc
}

// Invalidate drops a cached source after it changed.
func (rc *Receiver) Invalidate(name string) {
	rc.cache.Delete(name)
}

func (rc *Receiver) source(ctx context.Context, name string) (*Source, error) {
	now := rc.clock.Now()
	if c, ok := rc.cache.Get(name, now); ok {
		return c.src, c.err
	}
	var src *Source
	st, err := rc.cfg.Store.SourceByName(ctx, name)
	if err == nil {
		src, err = Parse(st)
		if err != nil {
			err = fmt.Errorf("source %s is invalid: %w", name, err)
		}
	}
	if err == nil || errors.Is(err, store.ErrNotFound) {
		rc.cache.Put(name, cachedSource{src: src, err: err}, now)
	}
	return src, err
}

// ServeHTTP handles one request to /in/{source}.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("source")
	lctx, cancel := context.WithTimeout(r.Context(), rc.cfg.LookupTimeout)
	src, err := rc.source(lctx, name)
	cancel()
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !src.Enabled):
		rc.requests.WithLabelValues("", "not_found").Inc()
		answer.Error(w, http.StatusNotFound, "not_found", "no source named "+name)
		return
	case store.Fault(err) != nil:
		rc.log.WarnContext(r.Context(), "load source", "source", name, "error", err)
		writeFault(w, err)
		return
	case err != nil:
		rc.log.ErrorContext(r.Context(), "load source", "source", name, "error", err)
		answer.Error(w, http.StatusInternalServerError, "internal_error", "internal error")
		return
	}
	accesslog.SetTenant(r.Context(), src.TenantID)
	if src.Kind == KindPostgres {
		rc.requests.WithLabelValues(src.Name, "not_http").Inc()
		answer.Error(w, http.StatusNotFound, "not_found", "source "+name+" captures PostgreSQL changes; it takes no HTTP requests")
		return
	}
	if done := rc.handshakeBeforeBody(w, r, src); done {
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT, OPTIONS")
		answer.Error(w, http.StatusMethodNotAllowed, "method_not_allowed", "send webhooks with POST")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, src.maxBody()))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			rc.reject(r, src, nil, "body larger than "+fmt.Sprint(mbe.Limit)+" bytes")
			rc.requests.WithLabelValues(src.Name, "rejected_body").Inc()
			answer.Error(w, http.StatusRequestEntityTooLarge, "payload_too_large", fmt.Sprintf("body is larger than %d bytes", mbe.Limit))
			return
		}
		answer.Error(w, http.StatusBadRequest, "bad_request", "could not read body")
		return
	}
	req := signature.Request{Header: r.Header, Query: r.URL.Query(), Body: body}
	if err := src.Scheme.Verify(req, rc.clock.Now()); err != nil {
		rc.reject(r, src, body, err.Error())
		rc.requests.WithLabelValues(src.Name, "rejected_verification").Inc()
		// No hint of which part failed.
		answer.Error(w, http.StatusUnauthorized, "unauthorized", "webhook verification failed")
		return
	}
	norm, err := Normalize(r.Header, body)
	if err != nil {
		rc.reject(r, src, body, err.Error())
		rc.requests.WithLabelValues(src.Name, "rejected_body").Inc()
		status := http.StatusBadRequest
		if errors.Is(err, ErrCloudEventsBatch) {
			status = http.StatusUnsupportedMediaType
		}
		answer.Error(w, status, "bad_body", err.Error())
		return
	}
	if done := rc.handshakeAfterVerify(w, src, norm.Data); done {
		rc.requests.WithLabelValues(src.Name, "handshake").Inc()
		return
	}
	ev, err := rc.buildEvent(r, src, req, norm)
	if err != nil {
		rc.reject(r, src, body, err.Error())
		rc.requests.WithLabelValues(src.Name, "rejected_body").Inc()
		answer.Error(w, http.StatusUnprocessableEntity, "bad_event_type", err.Error())
		return
	}
	if err := checkHeaderText(ev); err != nil {
		rc.reject(r, src, body, err.Error())
		rc.requests.WithLabelValues(src.Name, "rejected_header").Inc()
		answer.Error(w, http.StatusBadRequest, "bad_header", err.Error())
		return
	}
	res, err := rc.cfg.Engine.PublishDedup(r.Context(), []event.Event{ev}, src.dedupWindow())
	if err != nil {
		rc.log.ErrorContext(r.Context(), "publish received event", "source", src.Name, "error", err)
		writeFault(w, err)
		return
	}
	p := res[0]
	result := "accepted"
	if p.Duplicate {
		result = "duplicate"
	}
	rc.requests.WithLabelValues(src.Name, result).Inc()
	rc.respond(w, src, p)
}

// handshakeBeforeBody answers the CloudEvents abuse-protection OPTIONS
// request and configured GET echoes.
func (rc *Receiver) handshakeBeforeBody(w http.ResponseWriter, r *http.Request, src *Source) bool {
	switch r.Method {
	case http.MethodOptions:
		origin := r.Header.Get("WebHook-Request-Origin")
		if origin == "" {
			w.Header().Set("Allow", "POST, PUT, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return true
		}
		w.Header().Set("WebHook-Allowed-Origin", origin)
		if rate := r.Header.Get("WebHook-Request-Rate"); rate != "" {
			w.Header().Set("WebHook-Allowed-Rate", "*")
		}
		w.Header().Set("Allow", "POST, PUT, OPTIONS")
		w.WriteHeader(http.StatusOK)
		rc.requests.WithLabelValues(src.Name, "handshake").Inc()
		return true
	case http.MethodGet:
		if q := src.Rules.Handshake.EchoQuery; q != "" {
			if v := r.URL.Query().Get(q); v != "" && len(v) <= 1024 {
				w.Header().Set("Content-Type", "text/plain; charset=utf-8")
				io.WriteString(w, v)
				rc.requests.WithLabelValues(src.Name, "handshake").Inc()
				return true
			}
		}
	}
	return false
}

// handshakeAfterVerify answers Slack's url_verification and configured body
// echoes; both only for verified requests.
func (rc *Receiver) handshakeAfterVerify(w http.ResponseWriter, src *Source, data json.RawMessage) bool {
	if t, _ := Lookup(data, "type"); t == "url_verification" {
		if c, ok := Lookup(data, "challenge"); ok {
			answer.JSON(w, http.StatusOK, map[string]string{"challenge": c})
			return true
		}
	}
	if p := src.Rules.Handshake.EchoBodyPath; p != "" {
		if v, ok := Lookup(data, p); ok {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, v)
			return true
		}
	}
	return false
}

func (rc *Receiver) buildEvent(r *http.Request, src *Source, req signature.Request, norm Normalized) (event.Event, error) {
	now := rc.clock.Now().UTC().Truncate(time.Millisecond)
	typ, err := eventType(src, req, norm)
	if err != nil {
		return event.Event{}, err
	}
	ev := event.Event{
		ID: event.NewID(event.PrefixEvent, now), TenantID: src.TenantID, Type: typ, Source: src.Name,
		Data: norm.Data, OccurredAt: now, CreatedAt: now, Raw: req.Body, Headers: keptHeaders(r.Header, src),
		RequestHeaders: requestHeaders(r.Header, src),
	}
	if ce := norm.CloudEvent; ce != nil {
		// The CloudEvent's context attributes travel with the event as the
		// ce-* headers of binary mode, whatever mode it arrived in.
		for k, v := range map[string]string{"Ce-Id": ce.ID, "Ce-Source": ce.Source, "Ce-Type": ce.Type, "Ce-Subject": ce.Subject} {
			if v != "" {
				ev.Headers[k] = clip.Cut(v, 1024)
			}
		}
		if !ce.Time.IsZero() {
			ev.OccurredAt = ce.Time.UTC()
		}
	}
	if id := dedupID(src, req, norm); id != "" {
		ev.IdempotencyKey = "in:" + src.Name + ":" + id
	}
	return ev, nil
}

func eventType(src *Source, req signature.Request, norm Normalized) (string, error) {
	rule := src.Rules.EventType
	byDefault := false
	if rule.Fixed == "" && rule.Header == "" && rule.Path == "" && rule.Expression == "" {
		byDefault = true
		if ce := norm.CloudEvent; ce != nil && ce.Type != "" {
			rule = EventTypeRule{Fixed: sanitizeType(ce.Type), Prefix: rule.Prefix}
		} else {
			def := providerType(src.Scheme.Kind)
			def.Prefix = cmp.Or(rule.Prefix, def.Prefix)
			rule = def
		}
	}
	var raw, from string
	switch {
	case rule.Fixed != "":
		raw, from = rule.Fixed, "fixed"
	case rule.Header != "":
		raw, from = req.Header.Get(rule.Header), "header "+rule.Header
	case rule.Path != "":
		raw, _ = Lookup(norm.Data, rule.Path)
		from = "body path " + rule.Path
	case src.typeEx != nil:
		var data any
		_ = json.Unmarshal(norm.Data, &data)
		headers := make(map[string]any, len(req.Header))
		for k := range req.Header {
			headers[k] = req.Header.Get(k)
		}
		query := make(map[string]any, len(req.Query))
		for k := range req.Query {
			query[k] = req.Query.Get(k)
		}
		out, err := src.typeEx.Eval(map[string]any{"data": data, "headers": headers, "query": query})
		if err != nil {
			return "", fmt.Errorf("event type expression: %w", err)
		}
		raw, from = fmt.Sprint(out), "expression"
	default:
		return src.Name + ".received", nil
	}
	typ := rule.Prefix + sanitizeType(raw)
	if raw == "" {
		if byDefault {
			// The provider's usual field is absent (a ping, a slash
			// command): fall back rather than refuse a verified webhook.
			return src.Name + ".received", nil
		}
		return "", fmt.Errorf("event type: %s is empty or missing", from)
	}
	if err := event.ValidateType(typ); err != nil {
		return "", fmt.Errorf("event type from %s: %w", from, err)
	}
	return typ, nil
}

func dedupID(src *Source, req signature.Request, norm Normalized) string {
	d := src.Rules.Dedup
	switch {
	case d.Disabled:
		return ""
	case d.Header != "":
		return req.Header.Get(d.Header)
	case len(d.Paths) > 0:
		parts := make([]string, 0, len(d.Paths))
		for _, p := range d.Paths {
			v, ok := Lookup(norm.Data, p)
			if !ok {
				return ""
			}
			parts = append(parts, v)
		}
		return strings.Join(parts, "|")
	}
	if id := src.Scheme.DedupID(req); id != "" {
		return id
	}
	if ce := norm.CloudEvent; ce != nil && ce.ID != "" {
		return ce.Source + "|" + ce.ID
	}
	return ""
}

// keptHeaders are the headers an event keeps: the default ones and the
// source's keep_headers, credentials among them redacted (the event is
// shown by the API and to transforms; the request was verified already).
func keptHeaders(h http.Header, src *Source) map[string]string {
	out := make(map[string]string)
	for _, names := range [][]string{defaultHeaders, src.Rules.KeepHeaders} {
		for _, n := range names {
			if v := h.Get(n); v != "" {
				out[http.CanonicalHeaderKey(n)] = clip.Cut(v, 1024)
			}
		}
	}
	return redact.Received(out, keyHeader(src)...)
}

func (rc *Receiver) respond(w http.ResponseWriter, src *Source, p engine.Published) {
	r := src.Rules.Response
	if r.Body == "" {
		body := map[string]any{"id": p.Event.ID}
		if p.Duplicate {
			body["duplicate"] = true
		}
		answer.JSON(w, cmp.Or(r.Status, http.StatusOK), body)
		return
	}
	w.Header().Set("Content-Type", cmp.Or(r.ContentType, "text/plain; charset=utf-8"))
	w.WriteHeader(cmp.Or(r.Status, http.StatusOK))
	io.WriteString(w, r.Body)
}

// reject records a refused request in the source's bounded log. It never
// fails the request: the log is for debugging.
func (rc *Receiver) reject(r *http.Request, src *Source, body []byte, reason string) {
	headers := make(map[string]string, len(r.Header))
	for k := range r.Header {
		headers[k] = clip.Cut(r.Header.Get(k), rejectHeaderSize)
	}
	headers = redact.Received(headers, keyHeader(src)...)
	shown := body
	if len(shown) > rejectBodyLimit {
		shown = shown[:rejectBodyLimit]
	}
	if !utf8.Valid(shown) {
		shown = bytes.ToValidUTF8(shown, []byte("\uFFFD"))
	}
	now := rc.clock.Now()
	rej := store.Rejection{
		ID: event.NewID(event.PrefixReject, now), TenantID: src.TenantID, SourceID: src.ID, CreatedAt: now,
		Reason: clip.Cut(reason, 500), Method: r.Method, RemoteAddr: r.RemoteAddr, Headers: headers, Body: string(shown),
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	if err := rc.cfg.Store.AddRejection(ctx, rej, RejectionsKept); err != nil {
		rc.log.WarnContext(ctx, "record rejection", "source", src.Name, "error", err)
	}
}

// keyHeader names the header that carries an api-key source's key,
// whatever it is called: stored redacted like other credentials.
func keyHeader(src *Source) []string {
	if src.Scheme.Kind == signature.KindAPIKey && src.Scheme.Header != "" {
		return []string{src.Scheme.Header}
	}
	return nil
}

// checkHeaderText refuses an event that would keep text from request
// headers that is not UTF-8: a kept header, or the dedup id (from
// webhook-id, X-GitHub-Delivery, dedup.header, …) that becomes its
// idempotency key. Stored, such text is replaced by U+FFFD when shown,
// so two ids would look the same, or refused by PostgreSQL; the body's
// own text was checked by Normalize.
func checkHeaderText(ev event.Event) error {
	for _, k := range slices.Sorted(maps.Keys(ev.Headers)) {
		if err := format.CheckUTF8String(ev.Headers[k]); err != nil {
			return fmt.Errorf("header %s is %w", k, err)
		}
	}
	if ev.IdempotencyKey != "" && !utf8.ValidString(ev.IdempotencyKey) {
		return errors.New("the dedup id taken from the request's headers is not valid UTF-8")
	}
	return nil
}

// writeFault answers a webhook that could not be stored, with the statuses
// and codes of the API (api.md#errors): 507 when the database's disk is
// full, 504 when the commit went unanswered (the webhook may have been
// stored; a retry with the same delivery id is then a duplicate),
// otherwise 503. All carry Retry-After; providers retry 5xx answers.
func writeFault(w http.ResponseWriter, err error) {
	switch store.Fault(err) {
	case store.ErrDiskFull:
		w.Header().Set("Retry-After", "30")
		answer.Error(w, http.StatusInsufficientStorage, "insufficient_storage", "no room to store the webhook; retry later")
	case store.ErrCommitUnknown:
		w.Header().Set("Retry-After", "5")
		answer.Error(w, http.StatusGatewayTimeout, "commit_unknown", "the webhook may or may not have been stored; send it again: a repeat with the same delivery id is a duplicate")
	default:
		w.Header().Set("Retry-After", "5")
		answer.Error(w, http.StatusServiceUnavailable, "unavailable", "could not store the webhook; retry later")
	}
}
