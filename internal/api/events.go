package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/delivery/format"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// maxIdempotencyKey bounds the length of an idempotency key.
const maxIdempotencyKey = 256

// idempotencyKey is the request's idempotency key: the Idempotency-Key
// header, or body, the body's idempotency_key; both must agree.
func idempotencyKey(r *http.Request, body string) (string, error) {
	h := r.Header.Get("Idempotency-Key")
	if h == "" {
		return body, nil
	}
	// The key is stored and shown; JSON cannot carry it unless UTF-8.
	if err := format.CheckUTF8String(h); err != nil {
		return "", errorf(http.StatusBadRequest, codeBadRequest, "Idempotency-Key header is %v", err).with("header", "Idempotency-Key")
	}
	if body != "" && body != h {
		return "", invalid("idempotency_key", "differs from the Idempotency-Key header")
	}
	return h, nil
}

func (s *Server) createEvent(w http.ResponseWriter, r *http.Request, a *auth, in wire.EventCreate) error {
	var err error
	if in.IdempotencyKey, err = idempotencyKey(r, in.IdempotencyKey); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.CommitTimeout)
	defer cancel()
	ev, err := s.prepareEvent(ctx, a.tenantID, in, s.now(), true)
	if err != nil {
		return err
	}
	res, err := s.engine.Publish(ctx, []event.Event{ev})
	if err != nil {
		return err
	}
	p := res[0]
	out := eventOut(p.Event)
	out.Duplicate = p.Duplicate
	status := http.StatusAccepted
	if p.Duplicate {
		status = http.StatusOK
	} else {
		out.Deliveries = &p.Tasks
	}
	answer.JSON(w, status, out)
	return nil
}

// PrepareEvent validates an event as POST /v1/events does (its type, its
// data, the type's JSON Schema) and builds it, for producers other than
// the API such as the dashboard's test events. An invalid event's error
// says what is wrong in words a user can act on. The event may share
// in.Data's array (when it is already compact).
func (s *Server) PrepareEvent(ctx context.Context, tenantID string, in wire.EventCreate) (event.Event, error) {
	return s.prepareEvent(ctx, tenantID, in, s.now(), false)
}

// prepareEvent validates one event of the API and builds it. decoded says
// in.Data is a value the JSON decoder read from a request's body, so its
// syntax is checked already.
func (s *Server) prepareEvent(ctx context.Context, tenantID string, in wire.EventCreate, now time.Time, decoded bool) (event.Event, error) {
	if err := event.ValidateType(in.Type); err != nil {
		return event.Event{}, fieldErr("type", err)
	}
	data := bytes.TrimSpace(in.Data)
	if len(data) == 0 || data[0] != '{' {
		return event.Event{}, invalid("data", "must be a JSON object")
	}
	data, err := compactJSON(data, decoded)
	if err != nil {
		return event.Event{}, invalid("data", "not valid JSON: %v", err)
	}
	if format.Depth(data) > format.MaxDepth {
		return event.Event{}, invalid("data", "nested deeper than %d levels", format.MaxDepth)
	}
	if len(in.IdempotencyKey) > maxIdempotencyKey {
		return event.Event{}, invalid("idempotency_key", "must be at most %d characters", maxIdempotencyKey)
	}
	if err := s.validateData(ctx, tenantID, in.Type, data); err != nil {
		return event.Event{}, err
	}
	return event.Event{
		ID: event.NewID(event.PrefixEvent, now), TenantID: tenantID, Type: in.Type, Source: "api",
		Data: data, OccurredAt: now, IdempotencyKey: in.IdempotencyKey, CreatedAt: now,
	}, nil
}

// compactJSON returns data as json.Compact writes it: data itself when it
// is valid (known to be when valid is true) and has no white space outside
// its strings (a client's json.Marshal output), else a compacted copy, or
// Compact's error.
func compactJSON(data []byte, valid bool) ([]byte, error) {
	if isCompact(data) && (valid || json.Valid(data)) {
		return data, nil
	}
	out := bytes.NewBuffer(make([]byte, 0, len(data)))
	if err := json.Compact(out, data); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// isCompact reports whether JSON text has no white space outside its
// strings, the only bytes json.Compact drops. Text that is not JSON may
// pass: it is for valid JSON only.
func isCompact(text []byte) bool {
	inString := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case inString && c == '\\':
			i++ // the escaped byte cannot end the string
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\t' || c == '\r' || c == '\n'):
			return false
		}
	}
	return true
}

// MaxBatch is the most events one POST /v1/events/batch may carry.
const MaxBatch = 1000

// createEvents serves POST /v1/events/batch: every valid event is
// committed in one group commit; each gets its own result.
func (s *Server) createEvents(w http.ResponseWriter, r *http.Request, a *auth, in wire.EventBatch) error {
	if len(in.Events) == 0 || len(in.Events) > MaxBatch {
		return invalid("events", "must hold 1 to %d events, got %d", MaxBatch, len(in.Events))
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.CommitTimeout)
	defer cancel()
	now := s.now()
	results := make([]wire.BatchItem, len(in.Events))
	var evs []event.Event
	var slots []int // index in results of each event in evs
	for i, e := range in.Events {
		ev, err := s.prepareEvent(ctx, a.tenantID, e, now, true)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				return err
			}
			results[i].Error = &wire.Error{Status: ae.status, Code: ae.code, Message: ae.message, Details: ae.details}
			continue
		}
		evs = append(evs, ev)
		slots = append(slots, i)
	}
	if len(evs) > 0 {
		res, err := s.engine.Publish(ctx, evs)
		if err != nil {
			return err
		}
		for j, p := range res {
			item := &results[slots[j]]
			item.ID, item.Duplicate = p.Event.ID, p.Duplicate
			if !p.Duplicate {
				n := p.Tasks
				item.Deliveries = &n
			}
		}
	}
	answer.JSON(w, http.StatusOK, wire.BatchResult{Results: results})
	return nil
}

func eventOut(e event.Event) wire.Event {
	return wire.Event{
		ID: e.ID, Type: e.Type, Source: e.Source, Data: e.Data, OccurredAt: wire.TimeOf(e.OccurredAt),
		IdempotencyKey: e.IdempotencyKey, CreatedAt: wire.TimeOf(e.CreatedAt),
		// Redacted when received; again here for events kept by earlier
		// versions, which stored credentials.
		Headers: redact.Received(e.Headers),
	}
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request, a *auth) error {
	e, err := s.store.GetEvent(r.Context(), a.tenantID, r.PathValue("id"))
	if err != nil {
		return notFound(err, "event", r.PathValue("id"))
	}
	answer.JSON(w, http.StatusOK, eventWithRaw(e))
	return nil
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, a *auth) error {
	return listQuery(w, r, a, func(p store.Page) (q store.EventQuery, err error) {
		q = store.EventQuery{Page: p, Type: r.URL.Query().Get("type"), Source: r.URL.Query().Get("source")}
		if q.After, err = queryTime(r, "after"); err != nil {
			return q, err
		}
		q.Before, err = queryTime(r, "before")
		return q, err
	}, s.store.ListEvents, eventOut, func(e wire.Event) string { return e.ID })
}

func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, errorf(http.StatusBadRequest, codeBadRequest, "%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z", name)
	}
	return t, nil
}

func (s *Server) replayEvent(w http.ResponseWriter, r *http.Request, a *auth) error {
	id := r.PathValue("id")
	ids, err := s.engine.Replay(r.Context(), a.tenantID, id)
	if err != nil {
		return notFound(err, "event", id)
	}
	if ids == nil {
		ids = []string{}
	}
	answer.JSON(w, http.StatusAccepted, wire.Replay{EventID: id, Deliveries: ids})
	return nil
}

var deliveryStatuses = map[string]bool{
	store.StatusPending: true, store.StatusRetrying: true, store.StatusSucceeded: true, store.StatusFailed: true,
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, a *auth) error {
	return listQuery(w, r, a, func(p store.Page) (store.TaskQuery, error) {
		qv := r.URL.Query()
		// Deliveries are endpoint and forward tasks alike.
		q := store.TaskQuery{Page: p, DestinationID: qv.Get("endpoint_id"), EventID: qv.Get("event_id"), Status: qv.Get("status")}
		return q, knownStatus(q.Status, deliveryStatuses, "pending, retrying, succeeded or failed")
	}, s.store.ListTasks, deliveryOut, func(d wire.Delivery) string { return d.ID })
}

func deliveryOut(t store.Task) wire.Delivery {
	d := wire.Delivery{
		ID: t.ID, EventID: t.EventID, EventType: t.EventType, EndpointID: t.DestinationID, Kind: t.Kind, Status: t.Status,
		Attempts: t.Attempts, LastError: t.LastError, CreatedAt: wire.TimeOf(t.CreatedAt), UpdatedAt: wire.TimeOf(t.UpdatedAt),
	}
	if t.Status == store.StatusPending || t.Status == store.StatusRetrying {
		next := t.NextAt
		d.NextAttemptAt = wire.TimePtr(&next)
	}
	return d
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request, a *auth) error {
	t, err := byPath(r, a, "delivery", "id", s.store.GetTask)
	if err != nil {
		return err
	}
	atts, err := s.store.ListAttempts(r.Context(), a.tenantID, t.ID)
	if err != nil {
		return err
	}
	out := deliveryOut(t)
	out.AttemptLog = shown(atts, attemptOut)
	answer.JSON(w, http.StatusOK, out)
	return nil
}

func attemptOut(at store.Attempt) wire.Attempt {
	// Headers are redacted when the attempt is written; again here for
	// attempts logged by earlier versions, which stored credentials.
	out := wire.Attempt{
		ID: at.ID, Number: at.Number, StartedAt: wire.TimeOf(at.StartedAt), DurationMS: at.Duration.Milliseconds(), Outcome: at.Outcome,
		Kind: at.Kind, RequestURL: at.RequestURL, RequestHeaders: redact.Sent(at.RequestHeaders), RequestBody: at.RequestBody,
		ResponseStatus: at.ResponseStatus, ResponseHeaders: redact.Sent(at.ResponseHeaders), ResponseBody: at.ResponseBody,
		Error: at.Error, Detail: at.Detail,
	}
	if at.ResponseBody == "" && at.Detail != nil {
		// Documented before detail was: the summary of an attempt run
		// in process is its response_body too.
		out.ResponseBody = string(at.Detail)
	}
	return out
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request, a *auth) error {
	id := r.PathValue("id")
	if _, err := s.store.GetTask(r.Context(), a.tenantID, id); err != nil {
		return notFound(err, "delivery", id)
	}
	ts, err := s.engine.Retry(r.Context(), a.tenantID, []string{id})
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		return &notFoundError{kind: "delivery", id: id}
	}
	answer.JSON(w, http.StatusAccepted, deliveryOut(ts[0]))
	return nil
}
