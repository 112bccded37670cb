package web

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/store"
)

type eventsView struct {
	listView[event.Event]
	Type, Source, After, Before, ID string
	Filtered                        bool
}

// events lists the event log, newest first, filtered by type, source and
// time range from the query string; an id jumps to that event.
func (s *Server) events(w http.ResponseWriter, r *http.Request, sess *session) error {
	qv := r.URL.Query()
	if id := strings.TrimSpace(qv.Get("id")); id != "" {
		if !event.ValidID(event.PrefixEvent, id) {
			return badRequest("%q is not an event id: they look like evt_01J…", id)
		}
		s.redirect(w, r, "/events/"+id)
		return nil
	}
	cur, err := cursorOf(r, event.PrefixEvent)
	if err != nil {
		return err
	}
	v := eventsView{Type: strings.TrimSpace(qv.Get("type")), Source: strings.TrimSpace(qv.Get("source")),
		After: qv.Get("after"), Before: qv.Get("before")}
	q := store.EventQuery{Page: store.Page{Limit: pageSize + 1, Cursor: cur}, Type: v.Type, Source: v.Source}
	if q.After, err = formTime(v.After); err != nil {
		return err
	}
	if q.Before, err = formTime(v.Before); err != nil {
		return err
	}
	v.Filtered = v.Type != "" || v.Source != "" || v.After != "" || v.Before != ""
	evs, err := s.cfg.Store.ListEvents(r.Context(), sess.TenantID, q)
	if err != nil {
		return err
	}
	v.Rows, v.Next = nextPage(r, evs, func(e event.Event) string { return e.ID })
	v.Query = qv
	return s.page(w, r, sess, "events", view{Title: "Events", Nav: "events", Data: v})
}

type eventView struct {
	event.Event
	Headers    map[string]string
	Raw        string
	Deliveries []store.Task
}

func (s *Server) eventPage(w http.ResponseWriter, r *http.Request, sess *session) error {
	id := r.PathValue("id")
	ev, err := s.cfg.Store.GetEvent(r.Context(), sess.TenantID, id)
	if err != nil {
		return notFound(err, "event", id)
	}
	ts, err := s.cfg.Store.ListTasks(r.Context(), sess.TenantID, store.TaskQuery{Page: store.Page{Limit: pageSize}, EventID: ev.ID})
	if err != nil {
		return err
	}
	v := eventView{Event: ev, Headers: redact.Received(ev.Headers), Deliveries: ts}
	if utf8.Valid(ev.Raw) {
		v.Raw = string(ev.Raw)
	}
	return s.page(w, r, sess, "event", view{Title: "Event " + ev.ID, Nav: "events", Data: v})
}

// eventReplay sends an event again, as POST /v1/events/{id}/replay does.
func (s *Server) eventReplay(w http.ResponseWriter, r *http.Request, sess *session) error {
	id := r.PathValue("id")
	if _, err := s.cfg.Engine.Replay(r.Context(), sess.TenantID, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound(err, "event", id)
		}
		return err
	}
	s.redirect(w, r, "/events/"+id+"?done=replayed")
	return nil
}
