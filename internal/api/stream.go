package api

import (
	"net/http"

	"github.com/hookline/hookline/internal/event"
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
	l := s.cfg.Feed.Listen(a.tenantID, func(e *event.Event) bool {
		return (source == "" || e.Source == source) && (pattern == "" || event.Match(pattern, e.Type))
	})
	defer s.cfg.Feed.Close(l)

	st, err := sse.Start(w, r, sse.Config{Done: s.cfg.Closing})
	if err != nil || st.Comment("listening") != nil {
		return nil
	}
	for {
		e, _, err := sse.Next(st, l.C, 0)
		if err != nil {
			return nil
		}
		if n := l.Dropped(); n > 0 {
			if st.SendJSON("", "dropped", droppedOut{Count: n}) != nil {
				return nil
			}
		}
		if st.SendJSON(e.ID, "event", eventOut(e)) != nil {
			return nil
		}
	}
}

// droppedOut is the data of an "event: dropped" message: how many events
// the stream left out because the client read too slowly.
type droppedOut struct {
	Count int `json:"count"`
}
