package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hookline/hookline/internal/event"
)

// streamKeepAlive is how often an idle stream sends a comment line, so
// proxies keep the connection open.
const streamKeepAlive = 15 * time.Second

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

	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	write := func(format string, args ...any) error {
		// The server's write timeout is for ordinary requests; a stream
		// lives until the client leaves.
		_ = rc.SetWriteDeadline(time.Now().Add(streamKeepAlive * 2))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := write(": listening\n\n"); err != nil {
		return nil
	}
	tick := time.NewTicker(streamKeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-tick.C:
			if err := write(": keep-alive\n\n"); err != nil {
				return nil
			}
		case e := <-l.C:
			if n := l.Dropped(); n > 0 {
				if err := write("event: dropped\ndata: {\"count\":%d}\n\n", n); err != nil {
					return nil
				}
			}
			b, err := json.Marshal(eventOut(e))
			if err != nil {
				return nil
			}
			if err := write("id: %s\nevent: event\ndata: %s\n\n", e.ID, b); err != nil {
				return nil
			}
		}
	}
}
