package capture

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

const (
	// DefaultRescan is how often Watchers match the running watchers
	// against the stored sources, to see changes made through other nodes.
	DefaultRescan = 30 * time.Second
	// Dedup is how long the events of captured changes are recognised by
	// their idempotency key, when a watcher emits a batch again after a
	// crash.
	Dedup = 7 * 24 * time.Hour
)

// Sources lists the stored sources Watchers read.
type Sources interface {
	ListTenants(ctx context.Context) ([]store.Tenant, error)
	ListSources(ctx context.Context, tenantID string, p store.Page) ([]store.Source, error)
}

// WatchersConfig configures NewWatchers.
type WatchersConfig struct {
	// Sources are read at Start, on Changed and every Rescan.
	Sources Sources
	// Capture returns the capture configuration of a stored source, and
	// false for a source that captures nothing. Hookline passes one that
	// parses the source with the ingest package (which imports this one).
	Capture func(store.Source) (Config, bool)
	// Publish commits captured changes as events, in order, recognising
	// an idempotency key it saw within window (engine.PublishDedup).
	Publish func(ctx context.Context, evs []event.Event, window time.Duration) error
	// Dial connects to the watched databases (Hookline's SSRF guard);
	// default a plain dialer.
	Dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	Clock  clock.Clock
	Logger *slog.Logger
	// Rescan is how often the sources are read again; default
	// DefaultRescan.
	Rescan time.Duration
}

// Watchers runs one watcher (Run) per enabled source that captures, and
// starts, stops or restarts them as sources are created, changed,
// disabled or deleted. Every node of a cluster runs Watchers; the
// watcher's advisory lock in the watched database lets one at a time emit.
type Watchers struct {
	cfg  WatchersConfig
	kick chan struct{}

	// mu guards the fields below; it is held while watchers are started
	// and stopped, never while one emits.
	mu      sync.Mutex
	stop    context.CancelFunc // nil until Start
	done    chan struct{}
	running map[string]*watch // by source id
}

// watch is one running watcher.
type watch struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}
}

// NewWatchers returns Watchers; nothing runs until Start.
func NewWatchers(cfg WatchersConfig) *Watchers {
	if cfg.Sources == nil || cfg.Capture == nil || cfg.Publish == nil {
		panic("capture: NewWatchers needs Sources, Capture and Publish")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Rescan = cmp.Or(cfg.Rescan, DefaultRescan)
	return &Watchers{cfg: cfg, kick: make(chan struct{}, 1), running: make(map[string]*watch)}
}

// Start reads the sources and runs their watchers until ctx is done or
// Stop is called. It returns at once; a failure to read the sources is
// logged and retried at the next Changed or Rescan. Only the first Start
// starts anything.
func (w *Watchers) Start(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil {
		return
	}
	ctx, w.stop = context.WithCancel(ctx)
	w.done = make(chan struct{})
	go w.loop(ctx)
}

// Changed asks for the sources to be read again now (a source was saved
// or deleted through this node).
func (w *Watchers) Changed() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Stop stops every watcher and waits for them: a watcher finishes the
// delete of a batch Publish accepted (bounded by ackTimeout). It does
// nothing before Start, and may be called more than once.
func (w *Watchers) Stop() {
	w.mu.Lock()
	stop, done := w.stop, w.done
	w.mu.Unlock()
	if stop == nil {
		return
	}
	stop()
	<-done
}

// loop reconciles until ctx is done, then stops the watchers it started.
func (w *Watchers) loop(ctx context.Context) {
	defer close(w.done)
	defer w.stopAll()
	t := time.NewTicker(w.cfg.Rescan)
	defer t.Stop()
	for {
		if err := w.reconcile(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Logger.ErrorContext(ctx, "change capture: load sources", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-t.C:
		}
	}
}

func (w *Watchers) stopAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, r := range w.running {
		r.cancel()
		<-r.done
		delete(w.running, id)
	}
}

type wanted struct {
	tenantID string
	cfg      Config
}

// reconcile runs a watcher for each enabled source that captures, and
// stops those of sources that are gone or changed (a changed one starts
// again with its new configuration).
func (w *Watchers) reconcile(ctx context.Context) error {
	tenants, err := w.cfg.Sources.ListTenants(ctx)
	if err != nil {
		return err
	}
	want := map[string]wanted{}
	for _, t := range tenants {
		p := store.Page{Limit: 1000}
		for {
			srcs, err := w.cfg.Sources.ListSources(ctx, t.ID, p)
			if err != nil {
				return err
			}
			for _, s := range srcs {
				if !s.Enabled {
					continue
				}
				if cfg, ok := w.cfg.Capture(s); ok {
					cfg.Logger = w.cfg.Logger
					cfg.Dial = w.cfg.Dial
					want[s.ID] = wanted{tenantID: t.ID, cfg: cfg}
				}
			}
			if len(srcs) < p.Limit {
				break
			}
			p.Cursor = srcs[len(srcs)-1].ID
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, r := range w.running {
		if wt, ok := want[id]; ok && sameCapture(wt.cfg, r.cfg) {
			continue
		}
		r.cancel()
		<-r.done
		delete(w.running, id)
	}
	for id, wt := range want {
		if _, ok := w.running[id]; ok || ctx.Err() != nil {
			continue
		}
		rctx, cancel := context.WithCancel(ctx)
		r := &watch{cfg: wt.cfg, cancel: cancel, done: make(chan struct{})}
		w.running[id] = r
		go func() {
			defer close(r.done)
			w.cfg.Logger.InfoContext(rctx, "change capture: watching", "source", wt.cfg.Source, "tables", wt.cfg.Tables)
			if err := Run(rctx, wt.cfg, w.emitter(wt.tenantID, wt.cfg.Source, outboxID(wt.cfg))); err != nil {
				w.cfg.Logger.ErrorContext(rctx, "change capture stopped", "source", wt.cfg.Source, "error", err)
			}
		}()
	}
	return nil
}

func sameCapture(a, b Config) bool {
	a.Logger, b.Logger = nil, nil
	a.Dial, b.Dial = nil, nil
	return reflect.DeepEqual(a, b)
}

// capturedData is the data of a db.{table}.{op} event.
type capturedData struct {
	Schema    string          `json:"schema"`
	Table     string          `json:"table"`
	Op        string          `json:"op"`
	Record    json.RawMessage `json:"record"`
	OldRecord json.RawMessage `json:"old_record"`
}

// outboxID names the outbox a source reads (database and schema): outbox
// ids are only unique within one, and pointing a source at another one
// starts them again at 1.
func outboxID(cfg Config) string {
	h := fnv.New64a()
	if pc, err := pgx.ParseConfig(cfg.DSN); err == nil {
		fmt.Fprintf(h, "%s:%d/%s", pc.Host, pc.Port, pc.Database)
	}
	fmt.Fprintf(h, "\x00%s", cfg.Schema)
	return strconv.FormatUint(h.Sum64(), 36)
}

// emitter publishes captured changes as events, in order. The idempotency
// key is the change's outbox id (and the outbox's), so changes emitted
// again after a crash are recognised.
func (w *Watchers) emitter(tenantID, source, outbox string) Emit {
	return func(ctx context.Context, cs []Change) error {
		now := w.cfg.Clock.Now()
		evs := make([]event.Event, len(cs))
		for i, c := range cs {
			d := capturedData{Schema: c.Schema, Table: c.Table, Op: c.Op, Record: c.Record, OldRecord: c.OldRecord}
			if d.Record == nil {
				d.Record = json.RawMessage("null")
			}
			if d.OldRecord == nil {
				d.OldRecord = json.RawMessage("null")
			}
			data, err := json.Marshal(d)
			if err != nil {
				return err
			}
			evs[i] = event.Event{
				ID: event.NewID(event.PrefixEvent, now), TenantID: tenantID, Type: c.EventType(), Source: source,
				Data: data, OccurredAt: c.At, IdempotencyKey: fmt.Sprintf("capture:%s:%s:%d", source, outbox, c.ID), CreatedAt: now,
			}
		}
		return w.cfg.Publish(ctx, evs, Dedup)
	}
}
