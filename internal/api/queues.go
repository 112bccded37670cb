package api

import (
	"cmp"
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/ingest"
	"github.com/hookline/hookline/internal/queue"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// maxQueueTypes bounds the event type patterns of a queue.
const maxQueueTypes = 100

func (s *Server) putQueue(w http.ResponseWriter, r *http.Request, a *auth, in wire.QueueSpec) error {
	if err := namedByPath(r, "name", &in.Name, "; a queue cannot be renamed"); err != nil {
		return err
	}
	if err := ingest.ValidName(in.Name); err != nil {
		return invalid("name", "%v", err)
	}
	if in.Source != "" {
		if err := ingest.ValidName(in.Source); err != nil {
			return invalid("source", "%v", err)
		}
	}
	if len(in.EventTypes) > maxQueueTypes {
		return invalid("event_types", "at most %d patterns", maxQueueTypes)
	}
	for _, p := range in.EventTypes {
		if err := event.ValidatePattern(p); err != nil {
			return invalid("event_types", "%v", err)
		}
	}
	now := s.clock.Now().UTC()
	q, err := s.store.PutQueue(r.Context(), store.Queue{ID: event.NewID(event.PrefixQueue, now), TenantID: a.tenantID, Name: in.Name,
		Source: in.Source, EventTypes: in.EventTypes, CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return err
	}
	s.cfg.Invalidate(a.tenantID)
	return s.writeQueue(w, r, q)
}

func (s *Server) getQueue(w http.ResponseWriter, r *http.Request, a *auth) error {
	q, err := s.queue(r, a)
	if err != nil {
		return err
	}
	return s.writeQueue(w, r, q)
}

func (s *Server) writeQueue(w http.ResponseWriter, r *http.Request, q store.Queue) error {
	out := queueOut(q)
	var err error
	if out.Messages, out.InFlight, err = s.store.CountMessages(r.Context(), q.TenantID, q.ID); err != nil {
		return err
	}
	answer.JSON(w, http.StatusOK, out)
	return nil
}

// queueOut is a queue without its counts, as lists show it.
func queueOut(q store.Queue) wire.Queue {
	return wire.Queue{Name: q.Name, Source: q.Source, EventTypes: store.Patterns(q.EventTypes),
		CreatedAt: wire.TimeOf(q.CreatedAt), UpdatedAt: wire.TimeOf(q.UpdatedAt)}
}

func (s *Server) listQueues(w http.ResponseWriter, r *http.Request, a *auth) error {
	return listAll(w, r, a, s.store.ListQueues, queueOut)
}

func (s *Server) deleteQueue(w http.ResponseWriter, r *http.Request, a *auth) error {
	return s.deleteOne(w, r, a, "queue", "name", s.store.DeleteQueue, true)
}

// queue is the caller's queue the path names.
func (s *Server) queue(r *http.Request, a *auth) (store.Queue, error) {
	q, err := s.store.GetQueue(r.Context(), a.tenantID, r.PathValue("name"))
	return q, notFound(err, "queue", r.PathValue("name"))
}

// leaseMessages serves POST /v1/queues/{name}/lease: it leases what is
// visible, or waits up to the lease's wait for something to be.
func (s *Server) leaseMessages(w http.ResponseWriter, r *http.Request, a *auth, in wire.QueueLease) error {
	q, err := s.queue(r, a)
	if err != nil {
		return err
	}
	limit := cmp.Or(in.Limit, queue.DefaultLimit)
	if limit < 1 || limit > queue.MaxLimit {
		return invalid("limit", "must be from 1 to %d", queue.MaxLimit)
	}
	visibility, err := durationField("visibility", in.Visibility, queue.DefaultVisibility, queue.MinVisibility, queue.MaxVisibility)
	if err != nil {
		return err
	}
	wait, err := durationField("wait", in.Wait, 0, 0, queue.MaxWait)
	if err != nil {
		return err
	}
	// The route streams (no request deadline) while it waits; each lease
	// is bounded as an ordinary request is.
	wake, stop := s.waitFor(w, a.tenantID, wait, func(e *event.Event) bool { return queue.Takes(&q, e) })
	defer stop()
	var ms []store.QueueMessage
	err = longPoll(r.Context(), wait, wake, func() (bool, error) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		ms, err = s.store.LeaseMessages(ctx, a.tenantID, q.ID, limit, visibility)
		return len(ms) > 0, err
	})
	if ctx := r.Context(); ctx.Err() != nil && len(ms) > 0 {
		// The consumer left while the lease was made: hand the events back
		// rather than leave them invisible for nobody.
		s.handBack(context.WithoutCancel(ctx), a.tenantID, q.ID, ms)
		return nil
	}
	if err != nil {
		return err
	}
	out := wire.QueueMessages{Data: make([]wire.QueueMessage, len(ms))}
	for i, m := range ms {
		out.Data[i] = wire.QueueMessage{Receipt: receipt(store.QueueReceipt{EventID: m.Event.ID, Token: m.Token}), Deliveries: m.Deliveries,
			Event: eventWithRaw(m.Event), RequestHeaders: m.Event.RequestHeaders}
	}
	answer.JSON(w, http.StatusOK, out)
	return nil
}

// handBack makes leased messages visible again at once.
func (s *Server) handBack(ctx context.Context, tenantID, queueID string, ms []store.QueueMessage) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	rs := make([]store.QueueReceipt, len(ms))
	for i, m := range ms {
		rs[i] = store.QueueReceipt{EventID: m.Event.ID, Token: m.Token}
	}
	if _, err := s.store.NackMessages(ctx, tenantID, queueID, rs, 0); err != nil {
		s.log.WarnContext(ctx, "hand back leased messages", "queue_id", queueID, "error", err)
	}
}

func (s *Server) ackMessages(w http.ResponseWriter, r *http.Request, a *auth, in wire.QueueAck) error {
	if in.Delay != "" {
		return invalid("delay", "is for nack only")
	}
	return s.settle(w, r, a, in, func(ctx context.Context, q store.Queue, rs []store.QueueReceipt) ([]store.QueueReceipt, error) {
		return s.store.AckMessages(ctx, a.tenantID, q.ID, rs)
	})
}

func (s *Server) nackMessages(w http.ResponseWriter, r *http.Request, a *auth, in wire.QueueAck) error {
	delay, err := durationField("delay", in.Delay, 0, 0, queue.MaxDelay)
	if err != nil {
		return err
	}
	return s.settle(w, r, a, in, func(ctx context.Context, q store.Queue, rs []store.QueueReceipt) ([]store.QueueReceipt, error) {
		return s.store.NackMessages(ctx, a.tenantID, q.ID, rs, delay)
	})
}

// settle parses the receipts of an ack or a nack, has do settle them and
// answers which were stale.
func (s *Server) settle(w http.ResponseWriter, r *http.Request, a *auth, in wire.QueueAck,
	do func(context.Context, store.Queue, []store.QueueReceipt) ([]store.QueueReceipt, error)) error {
	if len(in.Receipts) == 0 || len(in.Receipts) > queue.MaxReceipts {
		return invalid("receipts", "must hold 1 to %d receipts", queue.MaxReceipts)
	}
	rs := make([]store.QueueReceipt, len(in.Receipts))
	for i, v := range in.Receipts {
		id, token, ok := strings.Cut(v, ".")
		n, err := strconv.ParseInt(token, 10, 64)
		if !ok || err != nil || id == "" {
			return invalid("receipts", "%q is not a receipt from a lease", v)
		}
		rs[i] = store.QueueReceipt{EventID: id, Token: n}
	}
	q, err := s.queue(r, a)
	if err != nil {
		return err
	}
	stale, err := do(r.Context(), q, rs)
	if err != nil {
		return err
	}
	out := wire.QueueAcked{Settled: len(rs) - len(stale), Stale: make([]string, len(stale))}
	for i, rc := range stale {
		out.Stale[i] = receipt(rc)
	}
	answer.JSON(w, http.StatusOK, out)
	return nil
}

// receipt is a lease's receipt as the API shows it: "{event id}.{token}".
func receipt(rc store.QueueReceipt) string {
	return rc.EventID + "." + strconv.FormatInt(rc.Token, 10)
}

// replayQueue serves POST /v1/queues/{name}/replay: the newest events
// since a time that the queue takes, up to store.MaxQueueReplay, are put
// on it again.
func (s *Server) replayQueue(w http.ResponseWriter, r *http.Request, a *auth, in wire.QueueReplay) error {
	if in.Since.IsZero() {
		return invalid("since", "is required")
	}
	q, err := s.queue(r, a)
	if err != nil {
		return err
	}
	var ids []string
	page := store.EventQuery{Source: q.Source, After: in.Since.Time, Page: store.Page{Limit: 1000}}
	truncated := false
	for {
		evs, err := s.store.ListEvents(r.Context(), a.tenantID, page)
		if err != nil {
			return err
		}
		for i := range evs {
			if queue.Takes(&q, &evs[i]) {
				ids = append(ids, evs[i].ID)
			}
		}
		if truncated = len(ids) > store.MaxQueueReplay; truncated || len(evs) < page.Limit {
			break
		}
		page.Cursor = evs[len(evs)-1].ID
	}
	ids = ids[:min(len(ids), store.MaxQueueReplay)]
	n, err := s.store.EnqueueEvents(r.Context(), a.tenantID, q.ID, ids)
	if err != nil {
		return err
	}
	answer.JSON(w, http.StatusOK, wire.QueueReplayed{Enqueued: n, Truncated: truncated})
	return nil
}

// eventWithRaw is an event with the body it was received with, as
// GET /v1/events/{id} shows it.
func eventWithRaw(e event.Event) wire.Event {
	out := eventOut(e)
	if utf8.Valid(e.Raw) {
		out.RawBody = string(e.Raw)
	} else {
		out.RawBodyBase64 = base64.StdEncoding.EncodeToString(e.Raw)
	}
	return out
}

// durationField parses the Go duration v of a body's field name: def
// when empty, else from lo to hi.
func durationField(name, v string, def, lo, hi time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return 0, invalid(name, "must be a duration from %s to %s, such as \"30s\", not %q", lo, hi, v)
	}
	return d, nil
}
