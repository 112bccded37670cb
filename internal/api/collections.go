package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/sse"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

const (
	// maxRecordWrite is how many records one POST …/records may carry.
	maxRecordWrite = 1000
	// maxChangesWait bounds a long poll of the changes feed.
	maxChangesWait = 60 * time.Second
	// changesPoll is how often a waiting changes request looks again for
	// changes made by other nodes.
	changesPoll = time.Second
)

func (s *Server) createCollection(w http.ResponseWriter, r *http.Request, a *auth, in wire.CollectionSpec) error {
	c, err := s.saveCollection(r.Context(), a.tenantID, in, false)
	if err != nil {
		return err
	}
	out, err := apply.CollectionOut(c)
	if err != nil {
		return err
	}
	answer.JSON(w, http.StatusCreated, out)
	return nil
}

// saveCollection checks and stores a collection, creating it or (when
// replace) replacing an existing one.
func (s *Server) saveCollection(ctx context.Context, tenantID string, in wire.CollectionSpec, replace bool) (store.Collection, error) {
	// A mistake is a *field.Error, answered 422 by writeError.
	c, _, err := apply.Collection(tenantID, in, s.now())
	if err != nil {
		return c, err
	}
	if replace {
		old, err := s.store.GetCollection(ctx, tenantID, in.Name)
		if err != nil {
			return c, err
		}
		c.CreatedAt = old.CreatedAt
		if err := s.store.UpdateCollection(ctx, c); err != nil {
			return c, err
		}
	} else if err := s.store.CreateCollection(ctx, c); err != nil {
		return c, nameTaken(err, "collection", in.Name)
	}
	s.cfg.Invalidate(tenantID)
	return c, nil
}

func (s *Server) replaceCollection(w http.ResponseWriter, r *http.Request, a *auth, in wire.CollectionSpec) error {
	if err := namedByPath(r, "name", &in.Name, "; a collection cannot be renamed"); err != nil {
		return err
	}
	name := in.Name
	c, err := s.saveCollection(r.Context(), a.tenantID, in, true)
	if err != nil {
		return notFound(err, "collection", name)
	}
	out, err := apply.CollectionOut(c)
	if err != nil {
		return err
	}
	answer.JSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getCollection(w http.ResponseWriter, r *http.Request, a *auth) error {
	c, err := s.store.GetCollection(r.Context(), a.tenantID, r.PathValue("name"))
	if err != nil {
		return notFound(err, "collection", r.PathValue("name"))
	}
	out, err := s.collectionStatusOut(r.Context(), c)
	if err != nil {
		return notFound(err, "collection", r.PathValue("name"))
	}
	answer.JSON(w, http.StatusOK, out)
	return nil
}

// collectionStatusOut is collectionOut with how its mirror is doing.
func (s *Server) collectionStatusOut(ctx context.Context, c store.Collection) (wire.Collection, error) {
	out, err := apply.CollectionOut(c)
	if err != nil || s.cfg.Collections == nil {
		return out, err
	}
	m, ok, err := s.cfg.Collections.MirrorStatus(ctx, c)
	if err != nil || !ok {
		return out, err
	}
	out.MirrorStatus = apply.MirrorStatusOut(m)
	return out, nil
}

func (s *Server) listCollections(w http.ResponseWriter, r *http.Request, a *auth) error {
	cs, err := s.store.ListCollections(r.Context(), a.tenantID)
	if err != nil {
		return err
	}
	out := make([]wire.Collection, 0, len(cs))
	for _, c := range cs {
		o, err := s.collectionStatusOut(r.Context(), c)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return err
		}
		out = append(out, o)
	}
	answer.JSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}

func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request, a *auth) error {
	return s.deleteOne(w, r, a, "collection", "name", s.store.DeleteCollection, true)
}

func (s *Server) getRecord(w http.ResponseWriter, r *http.Request, a *auth) error {
	name, key := r.PathValue("name"), r.PathValue("key")
	if _, err := s.store.GetCollection(r.Context(), a.tenantID, name); err != nil {
		return notFound(err, "collection", name)
	}
	rec, err := s.store.GetRecord(r.Context(), a.tenantID, name, key)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, codeNotFound, "collection %s has no record %q", name, key)
	}
	if err != nil {
		return err
	}
	if rec.Deleted {
		// A tombstone: the record existed and was deleted at this version.
		answer.JSON(w, http.StatusGone, map[string]any{"error": map[string]any{
			"code": "deleted", "message": fmt.Sprintf("record %q of collection %s was deleted", key, name),
			"details": apply.RecordOut(rec),
		}})
		return nil
	}
	answer.JSON(w, http.StatusOK, apply.RecordOut(rec))
	return nil
}

func (s *Server) listRecords(w http.ResponseWriter, r *http.Request, a *auth) error {
	name := r.PathValue("name")
	if _, err := s.store.GetCollection(r.Context(), a.tenantID, name); err != nil {
		return notFound(err, "collection", name)
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	limit := p.Limit
	if limit == 0 {
		limit = defaultPageLimit
	}
	q := r.URL.Query()
	fq := collection.FindQuery{After: p.Cursor, Limit: limit, IncludeDeleted: q.Get("include_deleted") == "true"}
	if src := q.Get("filter"); src != "" {
		if fq.Filter, err = collection.CompileFilter(src); err != nil {
			return errorf(http.StatusBadRequest, codeBadRequest, "filter: %v", err)
		}
	}
	found, err := collection.Find(r.Context(), s.store, a.tenantID, name, fq)
	var fe *collection.FilterError
	if errors.As(err, &fe) {
		return errorf(http.StatusBadRequest, codeBadRequest, "%v", fe)
	}
	if err != nil {
		return err
	}
	out := make([]wire.Record, 0, len(found.Records))
	for _, rec := range found.Records {
		out = append(out, apply.RecordOut(rec))
	}
	res := map[string]any{"data": out}
	if found.Next != "" {
		res["next_cursor"] = found.Next
	}
	answer.JSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) writeRecords(w http.ResponseWriter, r *http.Request, a *auth) error {
	if s.cfg.Collections == nil {
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "collections are not enabled")
	}
	var in wire.RecordsWrite
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.Records) == 0 {
		return invalid("records", "is empty")
	}
	if len(in.Records) > maxRecordWrite {
		return invalid("records", "has %d records; at most %d per request", len(in.Records), maxRecordWrite)
	}
	spec, err := s.cfg.Collections.Spec(r.Context(), a.tenantID, r.PathValue("name"))
	if err != nil {
		return notFound(err, "collection", r.PathValue("name"))
	}
	results, err := s.cfg.Collections.ApplyRecords(r.Context(), a.tenantID, spec, in.Records)
	if err != nil {
		return err
	}
	out := apply.RecordsWrittenOut(results)
	answer.JSON(w, http.StatusOK, out)
	return nil
}

// listChanges serves the changes feed: changes after a cursor, waiting up
// to `wait` for the first one (long poll), or as Server-Sent Events when
// the client accepts text/event-stream.
func (s *Server) listChanges(w http.ResponseWriter, r *http.Request, a *auth) error {
	name := r.PathValue("name")
	if _, err := s.store.GetCollection(r.Context(), a.tenantID, name); err != nil {
		return notFound(err, "collection", name)
	}
	q := r.URL.Query()
	after, err := changeCursor(cmp.Or(q.Get("after"), sse.LastEventID(r)))
	if err != nil {
		return err
	}
	limit := defaultPageLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			return errorf(http.StatusBadRequest, codeBadRequest, "limit must be an integer from 1 to %d", maxPageLimit).with("parameter", "limit")
		}
		limit = n
	}
	if r.Header.Get("Accept") == "text/event-stream" || q.Get("stream") == "true" {
		return s.streamChanges(w, r, a.tenantID, name, after)
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil || wait < 0 || wait > maxChangesWait {
			return errorf(http.StatusBadRequest, codeBadRequest, "wait must be a duration up to %s, e.g. \"30s\"", maxChangesWait)
		}
	}
	wake, stop := s.waitFor(w, a.tenantID, wait, changedMatch(name))
	defer stop()
	var cs []store.Change
	err = longPoll(r.Context(), wait, wake, func() (bool, error) {
		cs, err = s.store.ListChanges(r.Context(), a.tenantID, name, after, limit)
		return len(cs) > 0, err
	})
	if r.Context().Err() != nil {
		return nil
	}
	if err != nil {
		return err
	}
	out := wire.Changes{Data: make([]wire.RecordChange, len(cs)), Cursor: strconv.FormatInt(after, 10)}
	for i, c := range cs {
		out.Data[i] = apply.ChangeOut(c)
		out.Cursor = strconv.FormatInt(c.Seq, 10)
	}
	answer.JSON(w, http.StatusOK, out)
	return nil
}

// waitFor readies a long poll of up to wait: the answer gets a write
// deadline past it (the server's is for ordinary requests), and wake
// gets the tenant's events that match as they are committed here (nil
// with no wait or no feed). Call stop when done.
func (s *Server) waitFor(w http.ResponseWriter, tenantID string, wait time.Duration, match func(*event.Event) bool) (wake <-chan event.Event, stop func()) {
	if wait <= 0 {
		return nil, func() {}
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait + 10*time.Second))
	if s.cfg.Feed == nil {
		return nil, func() {}
	}
	l := s.cfg.Feed.Listen(tenantID, match)
	return l.C, func() { s.cfg.Feed.Close(l) }
}

// longPoll calls try until it finds something (true) or fails, or until
// wait has passed (try runs at least once). It tries again when wake
// gives an event, which may be what try looks for, and every changesPoll
// for what other nodes committed. It returns ctx's error when the client
// left.
func longPoll(ctx context.Context, wait time.Duration, wake <-chan event.Event, try func() (bool, error)) error {
	deadline := time.Now().Add(wait)
	for {
		found, err := try()
		if err != nil || found || !time.Now().Before(deadline) {
			return err
		}
		t := time.NewTimer(min(changesPoll, time.Until(deadline)+time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

func changedMatch(name string) func(*event.Event) bool {
	typ := collection.ChangedType(name)
	return func(e *event.Event) bool { return e.Type == typ }
}

func changeCursor(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errorf(http.StatusBadRequest, codeBadRequest, "after must be a cursor from an earlier answer (a non-negative integer), not %q", v).with("parameter", "after")
	}
	return n, nil
}

func (s *Server) streamChanges(w http.ResponseWriter, r *http.Request, tenantID, name string, after int64) error {
	var wake <-chan event.Event
	if s.cfg.Feed != nil {
		l := s.cfg.Feed.Listen(tenantID, changedMatch(name))
		defer s.cfg.Feed.Close(l)
		wake = l.C
	}
	st, err := sse.Start(w, r, sse.Config{Done: s.cfg.Closing})
	if err != nil || st.Comment(fmt.Sprintf("following %s after %d", name, after)) != nil {
		return nil
	}
	for {
		for {
			cs, err := s.store.ListChanges(r.Context(), tenantID, name, after, maxPageLimit)
			if err != nil {
				if r.Context().Err() == nil {
					s.log.Error("changes stream", "collection", name, "error", err)
				}
				return nil
			}
			for _, c := range cs {
				if st.SendJSON(strconv.FormatInt(c.Seq, 10), "change", apply.ChangeOut(c)) != nil {
					return nil
				}
				after = c.Seq
			}
			if len(cs) < maxPageLimit {
				break
			}
		}
		// A change applied here wakes the stream; one applied by another
		// node is found by the next look, within changesPoll.
		if _, _, err := sse.Next(st, wake, changesPoll); err != nil {
			return nil
		}
	}
}
