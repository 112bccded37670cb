// Package feed fans newly committed events out to live listeners (the
// event stream of the API and `hookline in tail`).
package feed

import (
	"net/http"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/sse"
)

// Buffer is how many events a slow listener may fall behind before it
// misses events (it is told through Dropped).
const Buffer = 256

// Hub fans events out to listeners. The zero value is not usable; use New.
type Hub struct {
	mu        sync.Mutex
	listeners map[*Listener]struct{}
}

// New returns an empty Hub.
func New() *Hub { return &Hub{listeners: make(map[*Listener]struct{})} }

// Listener receives the events of one tenant that match its filter.
type Listener struct {
	C       chan event.Event
	tenant  string
	match   func(*event.Event) bool
	mu      sync.Mutex
	dropped int
}

// Dropped returns how many events were dropped because C was full, and
// resets the count.
func (l *Listener) Dropped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.dropped
	l.dropped = 0
	return n
}

// Listen registers a listener for a tenant's events matching match (nil
// matches all). Call Close when done.
func (h *Hub) Listen(tenantID string, match func(*event.Event) bool) *Listener {
	l := &Listener{C: make(chan event.Event, Buffer), tenant: tenantID, match: match}
	h.mu.Lock()
	h.listeners[l] = struct{}{}
	h.mu.Unlock()
	return l
}

// Close unregisters l.
func (h *Hub) Close(l *Listener) {
	h.mu.Lock()
	delete(h.listeners, l)
	h.mu.Unlock()
}

// Publish hands events to every matching listener without blocking.
func (h *Hub) Publish(evs []event.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for l := range h.listeners {
		for i := range evs {
			e := &evs[i]
			if e.TenantID != l.tenant || (l.match != nil && !l.match(e)) {
				continue
			}
			select {
			case l.C <- *e:
			default:
				l.mu.Lock()
				l.dropped++
				l.mu.Unlock()
			}
		}
	}
}

// ServeConfig says how Serve streams a tenant's events.
type ServeConfig struct {
	sse.Config
	// Send writes one event to the stream.
	Send func(st *sse.Stream, e *event.Event) error
	// Alive, when set, is asked at least every AliveEvery (and before
	// each event) whether the stream may go on, such as whether its
	// session still holds; false ends it.
	Alive      func() bool
	AliveEvery time.Duration
}

// Serve answers a request with Server-Sent Events of the tenant's events
// that match (nil: all), as they are committed from now on, until the
// client leaves, the server closes cfg.Done or cfg.Alive says no. Events
// a slow client missed are announced before the next one by an
// "event: dropped" message whose data is {"count": N}. It returns nil
// when the stream ends, or Send's error when the stream itself is sound.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, tenantID string, match func(*event.Event) bool, cfg ServeConfig) error {
	l := h.Listen(tenantID, match)
	defer h.Close(l)
	st, err := sse.Start(w, r, cfg.Config)
	if err != nil || st.Comment("listening") != nil {
		return nil
	}
	var wait time.Duration
	if cfg.Alive != nil {
		wait = cfg.AliveEvery
	}
	for {
		e, ok, err := sse.Next(st, l.C, wait)
		if err != nil || (cfg.Alive != nil && !cfg.Alive()) {
			return nil
		}
		if !ok {
			continue
		}
		if n := l.Dropped(); n > 0 && st.SendJSON("", "dropped", dropped{Count: n}) != nil {
			return nil
		}
		if err := cfg.Send(st, &e); err != nil {
			if st.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// dropped is the data of an "event: dropped" message.
type dropped struct {
	Count int `json:"count"`
}
