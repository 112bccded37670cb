package route

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
)

// DefaultMaxAge is how long a tenant's table is used before it is built
// again from the fillers even though no change was announced.
const DefaultMaxAge = 5 * time.Second

// Config configures New.
type Config struct {
	Clock  clock.Clock
	Logger *slog.Logger
	// MaxAge bounds how long a tenant's table is used without a rebuild;
	// default DefaultMaxAge.
	MaxAge time.Duration
	// Cluster, when set, carries Invalidate and SetWait to the other nodes
	// sharing the store, whose Receive applies them; nil for a store this
	// process alone uses.
	Cluster Notifier
}

// Notifier sends a message to every node of a cluster
// (store.Coordinator's Notify).
type Notifier interface {
	Notify(ctx context.Context, msg string) error
}

var _ engine.Router = (*Table)(nil)

// Table routes events by each tenant's compiled table. It is safe for
// concurrent use.
type Table struct {
	cfg Config
	// origin tells this process's cluster messages from other nodes'.
	origin  string
	fillers []Filler
	routing atomic.Bool

	mu      sync.Mutex
	tenants map[string]*tenant
}

// tenant is one tenant's routing state. mu guards every field.
type tenant struct {
	mu sync.Mutex
	// gen is bumped by Invalidate; a table built before is not used.
	gen uint64
	// cur is the last table installed; nil before the first build.
	cur *compiled
	// waits are the waiting runs, kept up to date by SetWait once cur is
	// installed.
	waits *waits
	// building counts the builds in flight; while there are any, wait
	// changes are also kept in pending (numbered by seq) so that each build
	// can apply those it may not have read.
	building int
	seq      uint64
	pending  []pendingWait
}

type pendingWait struct {
	seq uint64
	w   Wait
}

// New returns an empty Table; Register its fillers before the first Route.
func New(cfg Config) *Table {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.MaxAge = cmp.Or(cfg.MaxAge, DefaultMaxAge)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &Table{cfg: cfg, origin: hex.EncodeToString(b), tenants: map[string]*tenant{}}
}

// Register adds fillers, whose entries are routed in the order they are
// registered. It panics once Route has been called: the fillers are part
// of building the table.
func (t *Table) Register(fs ...Filler) {
	if t.routing.Load() {
		panic("route: Register after the first Route")
	}
	t.fillers = append(t.fillers, fs...)
}

func (t *Table) tenant(id string) *tenant {
	t.mu.Lock()
	defer t.mu.Unlock()
	ten := t.tenants[id]
	if ten == nil {
		ten = &tenant{}
		t.tenants[id] = ten
	}
	return ten
}

// Route returns the targets of e: the entries whose patterns, filter and
// condition take it, the runs waiting for it (a keyed wait only for its
// value), and the buffers that keep it when no keyed wait took it, each
// target once.
func (t *Table) Route(ctx context.Context, e *event.Event) ([]engine.Target, error) {
	if !t.routing.Load() {
		t.routing.Store(true)
	}
	ten := t.tenant(e.TenantID)
	c, err := t.table(ctx, ten, e.TenantID)
	if err != nil {
		return nil, err
	}
	ev := NewEvent(e)
	var waiting []engine.Target
	if c.routeWaits {
		var taken map[string]bool
		ten.mu.Lock()
		if ten.waits != nil {
			waiting, taken = ten.waits.match(ev, nil)
		}
		ten.mu.Unlock()
		waiting = buffered(c.buffers, ev, taken, waiting)
	}
	var out []engine.Target
	waitsDone := !c.routeWaits
	for _, i := range c.candidates(e.Type) {
		if !waitsDone && i >= c.waitAt {
			out, waitsDone = append(out, waiting...), true
		}
		en := &c.entries[i]
		ok, err := t.match(ctx, en, ev)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, en.Target)
		}
	}
	if !waitsDone {
		out = append(out, waiting...)
	}
	return unique(out), nil
}

// match reports whether en takes ev. The error is the event's data not
// parsing, which a filter needs.
func (t *Table) match(ctx context.Context, en *Entry, ev *Event) (bool, error) {
	if en.Cond != nil && !en.Cond(ev) {
		return false, nil
	}
	if en.Filter == nil {
		return true, nil
	}
	env, err := ev.Env()
	if err != nil {
		return false, err
	}
	ok, err := en.Filter.Match(env)
	if err != nil {
		t.cfg.Logger.WarnContext(ctx, cmp.Or(en.LogMsg, "filter failed; event not routed"),
			cmp.Or(en.LogKey, "destination_id"), en.Target.DestinationID, "event_id", ev.ID, "error", err)
		return false, nil
	}
	return ok, nil
}

// unique drops repeated targets, keeping the first of each.
func unique(ts []engine.Target) []engine.Target {
	if len(ts) < 2 {
		return ts
	}
	if len(ts) <= 16 {
		out := ts[:1]
		for _, tg := range ts[1:] {
			dup := false
			for _, o := range out {
				if o == tg {
					dup = true
					break
				}
			}
			if !dup {
				out = append(out, tg)
			}
		}
		return out
	}
	seen := make(map[engine.Target]bool, len(ts))
	out := ts[:0]
	for _, tg := range ts {
		if !seen[tg] {
			seen[tg] = true
			out = append(out, tg)
		}
	}
	return out
}

// table returns the tenant's current table, building it when there is
// none, it was invalidated, or it is older than MaxAge and no build is on
// its way already (then the old one serves meanwhile).
func (t *Table) table(ctx context.Context, ten *tenant, tenantID string) (*compiled, error) {
	now := t.cfg.Clock.Now()
	ten.mu.Lock()
	c := ten.cur
	if c != nil && c.gen == ten.gen && (now.Sub(c.built) < t.cfg.MaxAge || ten.building > 0) {
		ten.mu.Unlock()
		return c, nil
	}
	gen, seq := ten.gen, ten.seq
	ten.building++
	ten.mu.Unlock()

	fills := make([]Fill, 0, len(t.fillers))
	var err error
	for _, f := range t.fillers {
		var fill Fill
		if fill, err = f.FillRoutes(ctx, tenantID); err != nil {
			break
		}
		fills = append(fills, fill)
	}

	ten.mu.Lock()
	defer ten.mu.Unlock()
	ten.building--
	defer func() {
		if ten.building == 0 {
			ten.pending = nil
		}
	}()
	if err != nil {
		return nil, err
	}
	c = compile(gen, now, fills)
	// Installed when no Invalidate came meanwhile and no build that began
	// later was installed first. After an Invalidate, this event, which
	// raced the change, is routed by it all the same, and the next one
	// builds again; it is installed only as the tenant's first, for its
	// waits, which SetWait keeps up to date from then on.
	if ten.cur == nil || (gen == ten.gen && (ten.cur.gen != gen || !ten.cur.built.After(now))) {
		var ws []Wait
		for _, f := range fills {
			ws = append(ws, f.Waits...)
		}
		w := newWaits(ws)
		// Changes from before seq were committed before the fill read
		// the store; the later ones it may have missed.
		for _, p := range ten.pending {
			if p.seq > seq {
				w.apply(p.w)
			}
		}
		ten.cur, ten.waits = c, w
	}
	return c, nil
}

// Invalidate makes the next event of a tenant build its table again,
// after a change of its endpoints, subscriptions, workflows or notify
// rules; on a cluster every node is told.
func (t *Table) Invalidate(tenantID string) {
	t.invalidate(tenantID)
	t.announce(context.Background(), invalidateMessage(t.origin, tenantID))
}

// routed is the state of a tenant that has been routed, or nil.
func (t *Table) routed(tenantID string) *tenant {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tenants[tenantID]
}

func (t *Table) invalidate(tenantID string) {
	ten := t.routed(tenantID)
	if ten == nil {
		return
	}
	ten.mu.Lock()
	ten.gen++
	ten.mu.Unlock()
}

// SetWait records that a run started or stopped waiting, so that the
// next event sees it; on a cluster every node is told. Call it after the
// change is committed.
func (t *Table) SetWait(ctx context.Context, tenantID string, w Wait) {
	t.setWait(tenantID, w)
	t.announce(ctx, waitMessage(t.origin, tenantID, w))
}

func (t *Table) setWait(tenantID string, w Wait) {
	ten := t.routed(tenantID)
	if ten == nil {
		// Nothing routed for the tenant yet: its first build reads the
		// wait from the store.
		return
	}
	ten.mu.Lock()
	defer ten.mu.Unlock()
	ten.seq++
	if ten.building > 0 {
		ten.pending = append(ten.pending, pendingWait{seq: ten.seq, w: w})
	}
	if ten.waits != nil {
		ten.waits.apply(w)
	}
}
