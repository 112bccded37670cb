package web

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/sse"
	"github.com/hookline/hookline/internal/store"
)

// CollectionStore is what the collection pages read; a store.Store has
// it.
type CollectionStore interface {
	GetCollection(ctx context.Context, tenantID, name string) (store.Collection, error)
	// ListCollections is every collection of the tenant, as GET
	// /v1/collections lists them: a tenant declares its collections.
	ListCollections(ctx context.Context, tenantID string) ([]store.Collection, error)
	GetRecord(ctx context.Context, tenantID, collection, key string) (store.Record, error)
	ListRecords(ctx context.Context, tenantID, collection string, q store.RecordQuery) ([]store.Record, error)
	ListChanges(ctx context.Context, tenantID, collection string, after int64, limit int) ([]store.Change, error)
	ListRecordChanges(ctx context.Context, tenantID, collection, key string, before int64, limit int) ([]store.Change, error)
	GetMirrorState(ctx context.Context, tenantID, collection string) (store.MirrorState, error)
}

const (
	// recentChanges is how many of a collection's newest changes its page
	// starts its live feed with.
	recentChanges = 20
	// maxKeyParam bounds a record key taken from the query string.
	maxKeyParam = 1024
	// changesPoll is how often a changes stream looks for changes made
	// by another node, which the local feed does not announce.
	changesPoll = time.Second
)

func (s *Server) collections(w http.ResponseWriter, r *http.Request, sess *session) error {
	cs, err := s.cfg.Store.ListCollections(r.Context(), sess.TenantID)
	if err != nil {
		return err
	}
	return s.page(w, r, sess, "collections", view{Title: "Collections", Nav: "collections", Data: cs})
}

// recordRow is a record with the path of its page.
type recordRow struct {
	store.Record
	Path    string
	Version string // as declared, not as stored
}

// changeRow is a change with the path of its record's page.
type changeRow struct {
	store.Change
	Path    string
	Version string
}

func (s *Server) recordPath(name, key string) string {
	return s.prefix + "/collections/" + url.PathEscape(name) + "/records/" + url.PathEscape(key)
}

func (s *Server) changeRow(c store.Change) changeRow {
	return changeRow{Change: c, Path: s.recordPath(c.Collection, c.Key), Version: collection.Display(c.Version)}
}

type collectionView struct {
	store.Collection
	listView[recordRow]
	// Key is the key prefix searched for, Filter an expression records
	// match; Deleted lists tombstones too.
	Key      string
	Filter   string
	Deleted  bool
	Filtered bool
	Changes  []changeRow
	// Stream is the path of the live changes feed, after the last change
	// shown.
	Stream string
	Keep   int
}

// collectionPage is a collection's page: its records in key order,
// searched by key prefix and filter expression (as GET …/records?filter=)
// and paged by the last key shown, and its changes as they happen.
func (s *Server) collectionPage(w http.ResponseWriter, r *http.Request, sess *session) error {
	name := r.PathValue("name")
	qv := r.URL.Query()
	v := collectionView{Key: qv.Get("key"), Filter: strings.TrimSpace(qv.Get("filter")), Deleted: qv.Get("deleted") == "on", Keep: tailKeep}
	v.Filtered = v.Key != "" || v.Filter != "" || v.Deleted
	after := qv.Get("after")
	if err := keyParam("key", v.Key); err != nil {
		return err
	}
	if err := keyParam("after", after); err != nil {
		return err
	}
	c, err := s.cfg.Store.GetCollection(r.Context(), sess.TenantID, name)
	if err != nil {
		return notFound(err, "collection", name)
	}
	v.Collection = c
	fq := collection.FindQuery{After: after, Prefix: v.Key, Limit: pageSize, IncludeDeleted: v.Deleted}
	if v.Filter != "" {
		if fq.Filter, err = collection.CompileFilter(v.Filter); err != nil {
			return badRequest("The filter is not an expression on record and key: %v", err)
		}
	}
	found, err := collection.Find(r.Context(), s.cfg.Store, sess.TenantID, name, fq)
	var fe *collection.FilterError
	if errors.As(err, &fe) {
		return badRequest("The filter failed on record %q: %v. A filter gives true or false for every record.", fe.Key, fe.Err)
	}
	if err != nil {
		return err
	}
	if found.Next != "" {
		v.Next = r.URL.Path + query(qv, "after", found.Next)
	}
	for _, rec := range found.Records {
		v.Rows = append(v.Rows, recordRow{Record: rec, Path: s.recordPath(name, rec.Key), Version: collection.Display(rec.Version)})
	}
	v.Query = qv
	m, err := s.cfg.Store.GetMirrorState(r.Context(), sess.TenantID, name)
	if err != nil {
		return notFound(err, "collection", name)
	}
	cs, err := s.cfg.Store.ListChanges(r.Context(), sess.TenantID, name, max(0, m.LastSeq-recentChanges), recentChanges)
	if err != nil {
		return err
	}
	last := m.LastSeq
	for i := len(cs) - 1; i >= 0; i-- { // newest first, as the feed adds them
		v.Changes = append(v.Changes, s.changeRow(cs[i]))
		last = max(last, cs[i].Seq)
	}
	v.Stream = s.prefix + "/collections/" + url.PathEscape(name) + "/changes/stream?after=" + strconv.FormatInt(last, 10)
	return s.page(w, r, sess, "collection", view{Title: "Collection " + name, Nav: "collections", Data: v})
}

// keyParam refuses a record key from the query string that no record
// could have.
func keyParam(param, v string) error {
	if len(v) > maxKeyParam || !utf8.ValidString(v) {
		return badRequest("The %s parameter is not a record key: at most %d bytes of UTF-8.", param, maxKeyParam)
	}
	return nil
}

type recordView struct {
	recordRow
	Collection string
	// History is one page of the record's changes, newest first.
	History []changeRow
	Next    string
}

// recordPage is a record's page: its data (or that it was deleted) and
// its history, newest change first, paged by change number.
func (s *Server) recordPage(w http.ResponseWriter, r *http.Request, sess *session) error {
	name, key := r.PathValue("name"), r.PathValue("key")
	var before int64
	if b := r.URL.Query().Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 1 {
			return badRequest("The before parameter is not one this list gives; follow its Next link instead.")
		}
		before = n
	}
	if _, err := s.cfg.Store.GetCollection(r.Context(), sess.TenantID, name); err != nil {
		return notFound(err, "collection", name)
	}
	rec, err := s.cfg.Store.GetRecord(r.Context(), sess.TenantID, name, key)
	if err != nil {
		return notFound(err, "record", strconv.Quote(key)+" in collection "+name)
	}
	cs, err := s.cfg.Store.ListRecordChanges(r.Context(), sess.TenantID, name, key, before, pageSize+1)
	if err != nil {
		return err
	}
	v := recordView{recordRow: recordRow{Record: rec, Path: s.recordPath(name, key), Version: collection.Display(rec.Version)}, Collection: name}
	if len(cs) > pageSize {
		cs = cs[:pageSize]
		v.Next = r.URL.Path + query(r.URL.Query(), "before", strconv.FormatInt(cs[len(cs)-1].Seq, 10))
	}
	for _, c := range cs {
		v.History = append(v.History, s.changeRow(c))
	}
	return s.page(w, r, sess, "record", view{Title: "Record " + key, Nav: "collections", Data: v})
}

// changesStream serves a collection's changes after a change number as
// Server-Sent Events, each a "row" message whose data is its table row;
// a reconnecting browser resumes after the last it got (Last-Event-ID).
func (s *Server) changesStream(w http.ResponseWriter, r *http.Request, sess *session) error {
	name := r.PathValue("name")
	after, err := strconv.ParseInt(cmp.Or(sse.LastEventID(r), r.URL.Query().Get("after"), "0"), 10, 64)
	if err != nil || after < 0 {
		return badRequest("The after parameter is a change number.")
	}
	if _, err := s.cfg.Store.GetCollection(r.Context(), sess.TenantID, name); err != nil {
		return notFound(err, "collection", name)
	}
	typ := collection.ChangedType(name)
	l := s.cfg.Feed.Listen(sess.TenantID, func(e *event.Event) bool { return e.Type == typ })
	defer s.cfg.Feed.Close(l)
	st, err := sse.Start(w, r, sse.Config{Done: s.cfg.Closing})
	if err != nil || st.Comment("following "+name) != nil {
		return nil
	}
	chk := recheck{s: s, r: r, sess: sess}
	for {
		for {
			cs, err := s.cfg.Store.ListChanges(r.Context(), sess.TenantID, name, after, pageSize)
			if err != nil {
				if r.Context().Err() == nil {
					s.log.ErrorContext(r.Context(), "dashboard: changes stream", "collection", name, "error", err)
				}
				return nil
			}
			for _, c := range cs {
				row, err := s.fragment("collection", "change", s.changeRow(c))
				if err != nil {
					return err
				}
				if st.Send(sse.Event{ID: strconv.FormatInt(c.Seq, 10), Type: "row", Data: row}) != nil {
					return nil
				}
				after = c.Seq
			}
			if len(cs) < pageSize {
				break
			}
		}
		// A change made here wakes the stream; one made by another node
		// is found by the next look.
		if _, _, err := sse.Next(st, l.C, changesPoll); err != nil || chk.over() {
			return nil
		}
	}
}
