package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/store"
)

var _ engine.Router = (*Router)(nil)

// routeTTL bounds how long a tenant's endpoint list is cached, so changes
// made through another process are seen soon; changes through this process
// invalidate at once.
const routeTTL = 5 * time.Second

// Router routes events to the enabled endpoints and forward subscriptions
// whose event types and filter match.
type Router struct {
	store store.Store
	clock clock.Clock
	log   *slog.Logger

	mu    sync.Mutex
	cache map[string]*routes
	// filters keeps compiled filters by source across reloads, so each
	// filter is compiled once, not on every reload of its tenant.
	filters map[string]*expr.Filter
}

type routes struct {
	loaded    time.Time
	endpoints []route
}

type route struct {
	kind     string
	id       string
	patterns []string
	filter   *expr.Filter
}

// NewRouter returns a Router over s.
func NewRouter(s store.Store, c clock.Clock, log *slog.Logger) *Router {
	if c == nil {
		c = clock.Real{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Router{store: s, clock: c, log: log, cache: make(map[string]*routes), filters: make(map[string]*expr.Filter)}
}

// Invalidate drops the cached endpoints of a tenant after a change.
func (r *Router) Invalidate(tenantID string) {
	r.mu.Lock()
	delete(r.cache, tenantID)
	r.mu.Unlock()
}

// Route returns a target per matching endpoint.
func (r *Router) Route(ctx context.Context, e *event.Event) ([]engine.Target, error) {
	rs, err := r.load(ctx, e.TenantID)
	if err != nil {
		return nil, err
	}
	var (
		out []engine.Target
		env expr.Env
	)
	for _, rt := range rs.endpoints {
		if !event.MatchAny(rt.patterns, e.Type) {
			continue
		}
		if rt.filter != nil {
			if env == nil {
				if env, err = expr.EventEnv(e); err != nil {
					return nil, err
				}
			}
			ok, err := rt.filter.Match(env)
			if err != nil {
				r.log.WarnContext(ctx, "endpoint filter failed; event not routed to it", "endpoint_id", rt.id, "event_id", e.ID, "error", err)
				continue
			}
			if !ok {
				continue
			}
		}
		out = append(out, engine.Target{Kind: rt.kind, DestinationID: rt.id})
	}
	return out, nil
}

func (r *Router) load(ctx context.Context, tenantID string) (*routes, error) {
	now := r.clock.Now()
	r.mu.Lock()
	rs := r.cache[tenantID]
	r.mu.Unlock()
	if rs != nil && now.Sub(rs.loaded) < routeTTL {
		return rs, nil
	}
	eps, err := r.store.EnabledEndpoints(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("load endpoints: %w", err)
	}
	subs, err := r.store.EnabledSubscriptions(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("load subscriptions: %w", err)
	}
	rs = &routes{loaded: now}
	add := func(kind, id string, patterns []string, filter string) {
		rt := route{kind: kind, id: id, patterns: patterns}
		if filter != "" {
			f, err := r.compile(filter)
			if err != nil {
				// Filters are checked when saved; one that no longer compiles
				// must not route everything.
				r.log.ErrorContext(ctx, "filter does not compile; destination skipped", "kind", kind, "id", id, "error", err)
				return
			}
			rt.filter = f
		}
		rs.endpoints = append(rs.endpoints, rt)
	}
	for _, ep := range eps {
		add(Kind, ep.ID, ep.EventTypes, ep.Filter)
	}
	for _, s := range subs {
		add(s.Kind, s.ID, s.EventTypes, s.Filter)
	}
	r.mu.Lock()
	r.cache[tenantID] = rs
	r.mu.Unlock()
	return rs, nil
}

func (r *Router) compile(src string) (*expr.Filter, error) {
	r.mu.Lock()
	f, ok := r.filters[src]
	r.mu.Unlock()
	if ok {
		return f, nil
	}
	f, err := expr.CompileFilter(src)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if len(r.filters) >= maxCachedFilters {
		clear(r.filters)
	}
	r.filters[src] = f
	r.mu.Unlock()
	return f, nil
}

// maxCachedFilters bounds the compiled-filter cache.
const maxCachedFilters = 10000
