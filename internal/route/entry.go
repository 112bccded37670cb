package route

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
)

// Entry is one destination of a tenant's events.
type Entry struct {
	// Target is the destination a matching event gets a task for.
	Target engine.Target
	// Patterns are the event types it takes: exact names or globs
	// (event.Match); none takes every type.
	Patterns []string
	// Filter, when set, must hold for the event. One that fails to
	// evaluate (comparing a string with a number) is logged and the
	// event is not routed to the entry.
	Filter *expr.Filter
	// Cond, when set, must hold too: a condition the domain decides in Go
	// over the event, such as which workflow a workflow.failed event names.
	Cond func(*Event) bool
	// LogKey and LogMsg are how a failing Filter is logged: the key that
	// names the destination ("endpoint_id") and the message. Defaults:
	// "destination_id" and "filter failed; event not routed".
	LogKey, LogMsg string
}

// Fill is what one domain contributes to a tenant's table.
type Fill struct {
	Entries []Entry
	// Waits are the tenant's runs waiting for an event, as stored now.
	Waits []Wait
	// RouteWaits says waiting runs are routed, right after Entries'
	// targets. The domain that keeps waiting runs sets it (when a tenant
	// has no workflows, none).
	RouteWaits bool
	// Buffers keep the events keyed waits could take that no waiting run
	// took, routed with the waits.
	Buffers []Buffer
}

// Filler loads one domain's part of a tenant's table.
type Filler interface {
	FillRoutes(ctx context.Context, tenantID string) (Fill, error)
}

// maxMemo bounds the event types whose candidate entries a table
// remembers.
const maxMemo = 1024

// compiled is a tenant's entries indexed by event type. It never changes
// once built; waits live beside it, in the tenant.
type compiled struct {
	gen   uint64
	built time.Time

	entries []Entry
	// exact indexes entries by the exact names among their patterns;
	// globs lists the others; any the entries taking every type.
	exact map[string][]int32
	globs []glob
	any   []int32
	// routeWaits and waitAt place the waits' targets: before
	// entries[waitAt:].
	routeWaits bool
	waitAt     int32
	buffers    []Buffer

	// memo keeps the candidates of the event types seen (type →
	// []int32), up to maxMemo types.
	memo  sync.Map
	memos atomic.Int32
}

type glob struct {
	pattern string
	entry   int32
}

func compile(gen uint64, built time.Time, fills []Fill) *compiled {
	c := &compiled{gen: gen, built: built, exact: map[string][]int32{}}
	for _, f := range fills {
		if f.RouteWaits && !c.routeWaits {
			c.routeWaits, c.waitAt = true, int32(len(c.entries)+len(f.Entries))
		}
		if f.RouteWaits {
			c.buffers = append(c.buffers, f.Buffers...)
		}
		for _, en := range f.Entries {
			i := int32(len(c.entries))
			c.entries = append(c.entries, en)
			if len(en.Patterns) == 0 {
				c.any = append(c.any, i)
				continue
			}
			for _, p := range en.Patterns {
				if isGlob(p) {
					c.globs = append(c.globs, glob{pattern: p, entry: i})
				} else {
					c.exact[p] = append(c.exact[p], i)
				}
			}
		}
	}
	return c
}

// isGlob reports whether an event type pattern matches more than the one
// name it spells: without a '*' event.Match is string equality.
func isGlob(p string) bool { return strings.Contains(p, "*") }

// candidates returns, in table order, the entries whose patterns take typ.
func (c *compiled) candidates(typ string) []int32 {
	if v, ok := c.memo.Load(typ); ok {
		return v.([]int32)
	}
	var out []int32
	out = append(out, c.exact[typ]...)
	out = append(out, c.any...)
	for _, g := range c.globs {
		if event.Match(g.pattern, typ) {
			out = append(out, g.entry)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if c.memos.Load() < maxMemo {
		if _, loaded := c.memo.LoadOrStore(typ, out); !loaded {
			c.memos.Add(1)
		}
	}
	return out
}
