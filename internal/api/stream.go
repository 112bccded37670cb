package api

import (
	"net/http"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/feed"
	"github.com/hookline/hookline/internal/sse"
)

// streamEvents serves GET /v1/events/stream: Server-Sent Events of every
// event the tenant commits from now on, optionally only those of a source
// or matching a type pattern.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, a *auth) error {
	if s.cfg.Feed == nil {
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "event stream is not enabled")
	}
	source, pattern := r.URL.Query().Get("source"), r.URL.Query().Get("type")
	if pattern != "" {
		if err := event.ValidatePattern(pattern); err != nil {
			return errorf(http.StatusBadRequest, codeBadRequest, "type: %v", err)
		}
	}
	match := func(e *event.Event) bool {
		return (source == "" || e.Source == source) && (pattern == "" || event.Match(pattern, e.Type))
	}
	return s.cfg.Feed.Serve(w, r, a.tenantID, match, feed.ServeConfig{Config: sse.Config{Done: s.cfg.Closing},
		Send: func(st *sse.Stream, e *event.Event) error { return st.SendJSON(e.ID, "event", eventOut(*e)) }})
}
