// Package queue is the pull queues' domain: which events a queue takes
// (Takes), the routes that put them on it when they are accepted
// (Routes), and the bounds of a lease. The store keeps the messages
// (store.Queues); internal/api serves them.
package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/route"
	"github.com/hookline/hookline/internal/store"
)

// Bounds of a lease.
const (
	// DefaultLimit and MaxLimit are how many messages one lease returns
	// when it asks for none, and at most.
	DefaultLimit = 10
	MaxLimit     = 100
	// DefaultVisibility is how long leased messages stay invisible to
	// other leases when the lease asks for no time; MaxVisibility is the
	// longest it may ask for, MinVisibility the shortest.
	DefaultVisibility = 30 * time.Second
	MinVisibility     = time.Second
	MaxVisibility     = 12 * time.Hour
	// MaxWait is the longest a lease may wait for a message (long poll).
	MaxWait = 60 * time.Second
	// MaxDelay is the longest a rejected message may stay invisible.
	MaxDelay = 12 * time.Hour
	// MaxReceipts bounds the receipts of one acknowledgement.
	MaxReceipts = 1000
)

// Takes reports whether q takes e: its source (any when q has none) and
// a type matching one of its patterns (any when it has none).
func Takes(q *store.Queue, e *event.Event) bool {
	if q.Source != "" && e.Source != q.Source {
		return false
	}
	if len(q.EventTypes) == 0 {
		return true
	}
	for _, p := range q.EventTypes {
		if event.Match(p, e.Type) {
			return true
		}
	}
	return false
}

// Lister lists a tenant's queues.
type Lister interface {
	ListQueues(ctx context.Context, tenantID string) ([]store.Queue, error)
}

var _ route.Filler = Routes{}

// Routes fills the routing table with a tenant's queues, so that each
// accepted event is put on the queues that take it.
type Routes struct{ Store Lister }

// FillRoutes returns an entry per queue.
func (r Routes) FillRoutes(ctx context.Context, tenantID string) (route.Fill, error) {
	qs, err := r.Store.ListQueues(ctx, tenantID)
	if err != nil {
		return route.Fill{}, fmt.Errorf("load queues: %w", err)
	}
	var fill route.Fill
	for _, q := range qs {
		en := route.Entry{Target: engine.Target{Kind: engine.KindQueue, DestinationID: q.ID}, Patterns: q.EventTypes}
		if q.Source != "" {
			source := q.Source
			en.Cond = func(e *route.Event) bool { return e.Source == source }
		}
		fill.Entries = append(fill.Entries, en)
	}
	return fill, nil
}
