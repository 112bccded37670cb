package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/feed"
	"github.com/hookline/hookline/internal/sse"
)

// Feed hands out the events this server commits as they are committed,
// as a stream or to a listener; *feed.Hub is one.
type Feed interface {
	Listen(tenantID string, match func(*event.Event) bool) *feed.Listener
	Close(l *feed.Listener)
	Serve(w http.ResponseWriter, r *http.Request, tenantID string, match func(*event.Event) bool, cfg feed.ServeConfig) error
}

// tailKeep is how many rows a live list keeps in the browser: the
// oldest go as new ones come, so a busy tenant cannot flood the page.
const tailKeep = 200

type tailView struct {
	Type, Source string
	// Stream is the path of the page's event stream, with its filters.
	Stream string
	Keep   int
}

// tailFilter reads the live tail's filters: a type pattern (order.*) and
// a source name.
func tailFilter(r *http.Request) (tailView, error) {
	q := r.URL.Query()
	v := tailView{Type: strings.TrimSpace(q.Get("type")), Source: strings.TrimSpace(q.Get("source")), Keep: tailKeep}
	if v.Type != "" {
		if err := event.ValidatePattern(v.Type); err != nil {
			return v, badRequest("The type filter %q is not a pattern: %v. Use a type (order.created) or a pattern (order.*).", v.Type, err)
		}
	}
	return v, nil
}

func (v tailView) match(e *event.Event) bool {
	return (v.Source == "" || e.Source == v.Source) && (v.Type == "" || event.Match(v.Type, e.Type))
}

// tail is the live tail: the events the tenant commits from now on,
// newest first, over Server-Sent Events.
func (s *Server) tail(w http.ResponseWriter, r *http.Request, sess *session) error {
	v, err := tailFilter(r)
	if err != nil {
		return err
	}
	v.Stream = s.prefix + "/tail/stream" + query(r.URL.Query(), "cursor", "")
	return s.page(w, r, sess, "tail", view{Title: "Live tail", Nav: "tail", Data: v})
}

// tailStream serves the live tail's stream: each event an SSE message
// "row" whose data is its table row, rendered here like every page.
func (s *Server) tailStream(w http.ResponseWriter, r *http.Request, sess *session) error {
	v, err := tailFilter(r)
	if err != nil {
		return err
	}
	chk := recheck{s: s, r: r, sess: sess}
	return s.cfg.Feed.Serve(w, r, sess.TenantID, v.match, feed.ServeConfig{
		Config: sse.Config{Done: s.cfg.Closing},
		Send: func(st *sse.Stream, e *event.Event) error {
			row, err := s.fragment("tail", "row", tailRow{Event: *e, Preview: preview(e.Data)})
			if err != nil {
				return err
			}
			return st.Send(sse.Event{ID: e.ID, Type: "row", Data: row})
		},
		Alive:      func() bool { return !chk.over() },
		AliveEvery: sessionRecheck,
	})
}

// tailRow is one event of the tail with the start of its data.
type tailRow struct {
	event.Event
	Preview string
}

// previewSize is how much of an event's data its row shows.
const previewSize = 160

// preview is the start of a JSON document, cut at previewSize bytes on a
// character boundary.
func preview(b []byte) string {
	if len(b) <= previewSize {
		return string(b)
	}
	return strings.ToValidUTF8(string(b[:previewSize]), "") + "…"
}

// sessionRecheck is how often a live stream checks that its session still
// holds: signing out or deleting the key ends the session's streams
// within it.
const sessionRecheck = 5 * time.Second

// recheck checks a stream's session at most every sessionRecheck.
type recheck struct {
	s    *Server
	r    *http.Request
	sess *session
	next time.Time
}

// over reports whether the session no longer holds (or could not be
// checked: the browser reconnects and is asked to sign in if need be).
func (c *recheck) over() bool {
	now := time.Now()
	if now.Before(c.next) {
		return false
	}
	c.next = now.Add(sessionRecheck)
	return c.s.valid(c.r.Context(), c.sess) != nil
}

// fragment renders the template name of page: a piece a stream sends.
func (s *Server) fragment(page, name string, data any) ([]byte, error) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, name, data); err != nil {
		return nil, fmt.Errorf("render %s %s: %w", page, name, err)
	}
	return buf.Bytes(), nil
}
