package delivery

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/lru"
	"github.com/hookline/hookline/internal/route"
	"github.com/hookline/hookline/internal/store"
)

var _ route.Filler = (*Routes)(nil)

// Destinations is what Routes reads from the store.
type Destinations interface {
	EnabledEndpoints(ctx context.Context, tenantID string) ([]store.Endpoint, error)
	EnabledSubscriptions(ctx context.Context, tenantID string) ([]store.Subscription, error)
}

// Routes fills the routing table with a tenant's enabled endpoints and
// subscriptions (forward, sync): their event types and filters.
type Routes struct {
	store Destinations
	log   *slog.Logger

	// filters keeps the compiled filters used last, by source, across
	// fills, so each filter is compiled once, not on every rebuild of its
	// tenant's table.
	filters *lru.Cache[string, *expr.Filter]
}

// NewRoutes returns the routes of s's endpoints and subscriptions.
func NewRoutes(s Destinations, log *slog.Logger) *Routes {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Routes{store: s, log: log, filters: lru.New[string, *expr.Filter](maxCachedFilters)}
}

// FillRoutes returns an entry per enabled endpoint, then per enabled
// subscription.
func (r *Routes) FillRoutes(ctx context.Context, tenantID string) (route.Fill, error) {
	eps, err := r.store.EnabledEndpoints(ctx, tenantID)
	if err != nil {
		return route.Fill{}, fmt.Errorf("load endpoints: %w", err)
	}
	subs, err := r.store.EnabledSubscriptions(ctx, tenantID)
	if err != nil {
		return route.Fill{}, fmt.Errorf("load subscriptions: %w", err)
	}
	var fill route.Fill
	add := func(kind, id string, patterns []string, filter string) {
		en := route.Entry{Target: engine.Target{Kind: kind, DestinationID: id}, Patterns: patterns,
			LogKey: "endpoint_id", LogMsg: "endpoint filter failed; event not routed to it"}
		if filter != "" {
			f, err := r.compile(filter)
			if err != nil {
				// Filters are checked when saved; one that no longer compiles
				// must not route everything.
				r.log.ErrorContext(ctx, "filter does not compile; destination skipped", "kind", kind, "id", id, "error", err)
				return
			}
			en.Filter = f
		}
		fill.Entries = append(fill.Entries, en)
	}
	for _, ep := range eps {
		add(Kind, ep.ID, ep.EventTypes, ep.Filter)
	}
	for _, s := range subs {
		add(s.Kind, s.ID, s.EventTypes, s.Filter)
	}
	return fill, nil
}

func (r *Routes) compile(src string) (*expr.Filter, error) {
	if f, ok := r.filters.Get(src); ok {
		return f, nil
	}
	f, err := expr.CompileFilter(src)
	if err != nil {
		return nil, err
	}
	r.filters.Add(src, f)
	return f, nil
}

// maxCachedFilters bounds the compiled-filter cache.
const maxCachedFilters = 10000
