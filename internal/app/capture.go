package app

import (
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
	"github.com/hookline/hookline/internal/collection/capture"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/ingest"
	"github.com/hookline/hookline/internal/store"
)

const (
	// captureRescan is how often the watchers are matched against the
	// stored sources, to see changes made through other nodes.
	captureRescan = 30 * time.Second
	// captureDedup is how long a captured change is recognised when the
	// watcher emits it again after a crash.
	captureDedup = 7 * 24 * time.Hour
)

// watchers runs one change capture watcher per enabled postgres source.
// Every node runs them; the watcher's advisory lock in the watched
// database lets one at a time emit.
type watchers struct {
	store store.Store
	eng   *engine.Engine
	clock clock.Clock
	log   *slog.Logger

	// dial connects to watched databases (the SSRF guard).
	dial func(context.Context, string, string) (net.Conn, error)
	kick chan struct{}
	stop context.CancelFunc
	done chan struct{}

	mu      sync.Mutex
	running map[string]*watcher // by source id
}

type watcher struct {
	cfg    capture.Config
	cancel context.CancelFunc
	done   chan struct{}
}

func newWatchers(st store.Store, eng *engine.Engine, c clock.Clock, log *slog.Logger, dial func(context.Context, string, string) (net.Conn, error)) *watchers {
	return &watchers{store: st, eng: eng, clock: c, log: log, dial: dial, kick: make(chan struct{}, 1), running: make(map[string]*watcher)}
}

// start runs the watchers until close.
func (w *watchers) start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.stop, w.done = cancel, make(chan struct{})
	go func() {
		defer close(w.done)
		t := time.NewTicker(captureRescan)
		defer t.Stop()
		for {
			if err := w.reconcile(ctx); err != nil && ctx.Err() == nil {
				w.log.Error("change capture: load sources", "error", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-w.kick:
			case <-t.C:
			}
		}
	}()
}

// changed asks for the sources to be read again.
func (w *watchers) changed() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// close stops every watcher and waits for them (a watcher finishes the
// delete of a batch its Emit accepted).
func (w *watchers) close() {
	if w.stop == nil {
		return
	}
	w.stop()
	<-w.done
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
	cfg      capture.Config
}

func (w *watchers) reconcile(ctx context.Context) error {
	tenants, err := w.store.ListTenants(ctx)
	if err != nil {
		return err
	}
	want := map[string]wanted{}
	for _, t := range tenants {
		p := store.Page{Limit: 1000}
		for {
			srcs, err := w.store.ListSources(ctx, t.ID, p)
			if err != nil {
				return err
			}
			for _, s := range srcs {
				if !s.Enabled {
					continue
				}
				parsed, err := ingest.Parse(s)
				if err != nil {
					continue
				}
				if cfg, ok := parsed.Capture(); ok {
					cfg.Logger = w.log
					cfg.Dial = w.dial
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
		r := &watcher{cfg: wt.cfg, cancel: cancel, done: make(chan struct{})}
		w.running[id] = r
		go func() {
			defer close(r.done)
			w.log.Info("change capture: watching", "source", wt.cfg.Source, "tables", wt.cfg.Tables)
			if err := capture.Run(rctx, wt.cfg, w.emitter(wt.tenantID, wt.cfg.Source, outboxID(wt.cfg))); err != nil {
				w.log.Error("change capture stopped", "source", wt.cfg.Source, "error", err)
			}
		}()
	}
	return nil
}

func sameCapture(a, b capture.Config) bool {
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
func outboxID(cfg capture.Config) string {
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
func (w *watchers) emitter(tenantID, source, outbox string) capture.Emit {
	return func(ctx context.Context, cs []capture.Change) error {
		now := w.clock.Now()
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
		_, err := w.eng.PublishDedup(ctx, evs, captureDedup)
		return err
	}
}
