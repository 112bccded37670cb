package engine

import (
	"context"
	"strings"

	"github.com/hookline/hookline/internal/store"
)

// msgCloseCircuits starts a cluster announcement that closes circuits: the
// destinations follow, one "kind:id" per line. Any other announcement
// (the empty one) is new work.
const msgCloseCircuits = "close-circuits\n"

// maxAnnouncement bounds one announcement in bytes, below the 8,000 bytes
// PostgreSQL's NOTIFY carries.
const maxAnnouncement = 7000

// CloseCircuit closes a destination's circuit breaker, as a manual retry
// does: a person says the destination is back, so what waits for it runs
// now rather than after the cool-down. The circuit lives in the memory of
// the node that dispatches the destination, so on a cluster every node is
// told.
func (e *Engine) CloseCircuit(ctx context.Context, kind, destinationID string) {
	e.closeCircuits(ctx, []string{dest{kind, destinationID}.String()})
}

// closeTaskCircuits closes the circuits of the tasks' destinations.
func (e *Engine) closeTaskCircuits(ctx context.Context, ts []store.Task) {
	if len(ts) == 0 {
		return
	}
	seen := make(map[dest]bool, len(ts))
	keys := make([]string, 0, len(ts))
	for i := range ts {
		if k := destKey(&ts[i]); !seen[k] {
			seen[k] = true
			keys = append(keys, k.String())
		}
	}
	e.closeCircuits(ctx, keys)
}

// closeCircuits closes the circuits of destinations given as dest.String here
// and, on a cluster, on every other node.
func (e *Engine) closeCircuits(ctx context.Context, keys []string) {
	e.closeLocal(keys)
	if e.cluster == nil {
		return
	}
	for _, msg := range closeAnnouncements(keys) {
		if err := e.cluster.Coordinator.Notify(context.WithoutCancel(ctx), msg); err != nil {
			// The owner's circuit closes on its own after the cool-down.
			e.log.WarnContext(ctx, "cluster: announce closed circuits", "error", err)
		}
	}
}

// closeLocal closes circuits in this process and wakes the workers, so
// tasks an open circuit held run now.
func (e *Engine) closeLocal(keys []string) {
	for _, k := range keys {
		kind, id, ok := strings.Cut(k, ":")
		if ok {
			e.disp.closeCircuit(&store.Task{Kind: kind, DestinationID: id})
		}
	}
	e.disp.kick()
}

// closeAnnouncements packs destination keys into announcements of at most
// maxAnnouncement bytes.
func closeAnnouncements(keys []string) []string {
	var out []string
	var b strings.Builder
	for _, k := range keys {
		if b.Len() > 0 && b.Len()+len(k)+1 > maxAnnouncement {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() == 0 {
			b.WriteString(msgCloseCircuits)
		} else {
			b.WriteByte('\n')
		}
		b.WriteString(k)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// onAnnouncement handles a cluster announcement: closed circuits, a
// change of members, or new work for the poller.
func (e *Engine) onAnnouncement(msg string) {
	if keys, ok := strings.CutPrefix(msg, msgCloseCircuits); ok {
		e.closeLocal(strings.Split(keys, "\n"))
		return
	}
	if msg == msgRebalance {
		// Buckets and task leases were set free: take this node's share
		// now, and claim what became due in buckets it holds already.
		e.rebalanceSoon()
	}
	e.pokePoller()
}
