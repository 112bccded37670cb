package content

import (
	"sync"

	"github.com/hookline/hookline/internal/store"
)

// hub fans new inbox messages out to the recipients' live streams.
type hub struct {
	mu    sync.Mutex
	conns map[string]map[chan store.Message]struct{} // tenant\x00recipient
}

func newHub() *hub { return &hub{conns: map[string]map[chan store.Message]struct{}{}} }

func (h *hub) listen(tenantID, recipientID string) chan store.Message {
	ch := make(chan store.Message, 64)
	k := tenantID + "\x00" + recipientID
	h.mu.Lock()
	if h.conns[k] == nil {
		h.conns[k] = map[chan store.Message]struct{}{}
	}
	h.conns[k][ch] = struct{}{}
	h.mu.Unlock()
	return ch
}

func (h *hub) close(tenantID, recipientID string, ch chan store.Message) {
	k := tenantID + "\x00" + recipientID
	h.mu.Lock()
	delete(h.conns[k], ch)
	if len(h.conns[k]) == 0 {
		delete(h.conns, k)
	}
	h.mu.Unlock()
}

// publish hands m to its recipient's streams; a stream too slow to take
// it misses the live copy (it is in the inbox list).
func (h *hub) publish(m store.Message) {
	k := m.TenantID + "\x00" + m.RecipientID
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.conns[k] {
		select {
		case ch <- m:
		default:
		}
	}
}

// listeners counts open streams (for metrics and tests).
func (h *hub) listeners() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.conns {
		n += len(c)
	}
	return n
}
