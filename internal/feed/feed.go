// Package feed fans newly committed events out to live listeners (the
// event stream of the API and `hookline in tail`).
package feed

import (
	"sync"

	"github.com/hookline/hookline/internal/event"
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
