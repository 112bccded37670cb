package collection

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/groupcommit"
	"github.com/hookline/hookline/internal/netguard"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/ttl"
	"github.com/hookline/hookline/wire"
)

// maxFetchBody bounds a fetched record.
const maxFetchBody = MaxRecordBytes

// Store is what the service needs from the store: the collections
// aggregate, the tenants whose mirrors it follows, and the subscription
// of a sync task.
type Store interface {
	store.Collections
	ListTenants(ctx context.Context) ([]store.Tenant, error)
	GetSubscription(ctx context.Context, tenantID, id string) (store.Subscription, error)
}

// Config wires a Service.
type Config struct {
	Store Store
	// Client makes fetch requests (the SSRF-guarded client).
	Client *http.Client
	Clock  clock.Clock
	Logger *slog.Logger
	// Emit publishes collection.{name}.changed events; dedup is by
	// idempotency key.
	Emit      func(ctx context.Context, evs []event.Event) error
	UserAgent string
	// Dial makes mirror database connections (the SSRF guard); nil: a
	// plain dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Rand spreads the retries of failing mirrors; it returns a value in
	// [0, 1). Nil: math/rand/v2.
	Rand func() float64
}

// Service applies changes to collections: from events (the sync
// executor) and from records written directly (the API, backfill). Once
// started, it also keeps the collections' mirror tables following them
// (follow.go).
type Service struct {
	cfg     Config
	mirrors *mirrors
	batch   *batcher
	follow  *followers
	rand    func() float64

	mu    sync.Mutex
	specs map[string]cachedSpec
	// targets are the sync subscriptions looked up lately (target.go).
	targets *ttl.Cache[string, syncTarget]
}

type cachedSpec struct {
	updated time.Time
	spec    *Spec
}

// New returns a Service.
func New(cfg Config) *Service {
	cfg.Clock = cmp.Or[clock.Clock](cfg.Clock, clock.Real{})
	cfg.Logger = cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler))
	cfg.Client = cmp.Or(cfg.Client, http.DefaultClient)
	s := &Service{cfg: cfg, mirrors: newMirrors(cfg.Dial), specs: make(map[string]cachedSpec), targets: ttl.New[string, syncTarget](targetTTL, maxTargets), rand: cfg.Rand}
	if s.rand == nil {
		s.rand = defaultRand
	}
	s.batch = &batcher{s: s, groups: make(map[string]*groupcommit.Group[*pending])}
	s.follow = &followers{s: s, running: make(map[string]*follower)}
	return s
}

// Close stops the mirror followers and closes the mirror connections.
func (s *Service) Close() {
	s.follow.close()
	s.mirrors.close()
}

// Spec loads a collection's compiled spec, compiling it once per update.
func (s *Service) Spec(ctx context.Context, tenantID, name string) (*Spec, error) {
	c, err := s.cfg.Store.GetCollection(ctx, tenantID, name)
	if err != nil {
		return nil, err
	}
	return s.compiled(c)
}

// compiled returns c's compiled spec, compiling it once per update.
func (s *Service) compiled(c store.Collection) (*Spec, error) {
	tenantID, name := c.TenantID, c.Name
	k := tenantID + "\x00" + name
	s.mu.Lock()
	cs, ok := s.specs[k]
	s.mu.Unlock()
	if ok && cs.updated.Equal(c.UpdatedAt) {
		return cs.spec, nil
	}
	spec, err := Parse(c)
	var mistake *field.Error
	if errors.As(err, &mistake) {
		// It compiled when it was saved: this version refuses it.
		return nil, fmt.Errorf("collection %s no longer compiles: %w", name, err)
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.specs[k] = cachedSpec{updated: c.UpdatedAt, spec: spec}
	s.mu.Unlock()
	return spec, nil
}

// Result is what applying one change did.
type Result struct {
	Key     string
	Op      string
	Outcome string // applied, stale, duplicate
	Version string
	// Stored is the record's version before the change.
	Stored string
	Change *store.Change
	// Err is the change's own mistake, in a batch.
	Err error
}

// ApplyEvent applies e to the collection of spec: fetch if configured,
// version check, write and announce; the mirror follows on its own. ok is false when no
// operation of the spec matches e's type. Concurrent calls for one
// collection are written together, in one transaction.
func (s *Service) ApplyEvent(ctx context.Context, spec *Spec, e *event.Event) (Result, bool, error) {
	if e.Type == ChangedType(spec.Name) {
		return Result{}, false, nil
	}
	c, ok, err := spec.prepare(e, func(key string, v eventVars) (any, bool, error) {
		return s.fetch(ctx, spec, key, v)
	})
	if err != nil || !ok {
		return Result{}, ok, err
	}
	r := s.batch.do(ctx, e.TenantID, spec, c)
	return r, true, r.Err
}

// ApplyRecords writes records directly (the API and backfill), as upserts
// keyed and versioned by the spec; without a version path they are
// versioned by now. Results follow records; a record's mistake is its
// result's Err.
func (s *Service) ApplyRecords(ctx context.Context, tenantID string, spec *Spec, records []json.RawMessage) ([]Result, error) {
	now := s.cfg.Clock.Now()
	results := make([]Result, len(records))
	var (
		cs  []*change
		idx []int
	)
	for i, raw := range records {
		e := &event.Event{ID: event.NewID("rec", now), TenantID: tenantID, Type: "collection." + spec.Name + ".write", Data: raw, OccurredAt: now}
		c, err := spec.prepareRecord(e)
		if err != nil {
			results[i] = Result{Outcome: "error", Err: err}
			continue
		}
		cs = append(cs, c)
		idx = append(idx, i)
	}
	if len(cs) == 0 {
		return results, nil
	}
	rs, err := s.apply(ctx, tenantID, spec, cs)
	if err != nil {
		return nil, err
	}
	for j, r := range rs {
		results[idx[j]] = r
	}
	return results, nil
}

// apply writes changes in one transaction, then announces them and wakes
// the mirror's follower. The error is the whole batch's (the store
// failed); a change's own failure — bad input, its announcement — is its
// result's Err. The mirror is not written here: a mirror table that is
// down must not hold up the collection (follow.go).
func (s *Service) apply(ctx context.Context, tenantID string, spec *Spec, cs []*change) ([]Result, error) {
	ups := make([]store.RecordUpdate, len(cs))
	ds := make([]decision, len(cs))
	for i, c := range cs {
		ups[i] = store.RecordUpdate{Key: c.key, Apply: func(cur *store.Record) (*store.Record, string, error) {
			return decide(cur, c, &ds[i])
		}}
	}
	res, err := s.cfg.Store.ApplyRecords(ctx, tenantID, spec.Name, ups)
	if err != nil {
		return nil, fmt.Errorf("apply to collection %s: %w", spec.Name, err)
	}
	out := make([]Result, len(cs))
	var (
		changed []event.Event
		owners  []int
	)
	for i, r := range res {
		if r.Err != nil {
			out[i] = Result{Key: cs[i].key, Outcome: "error", Stored: ds[i].stored, Err: r.Err}
			continue
		}
		out[i] = Result{Key: cs[i].key, Op: cs[i].op, Outcome: ds[i].outcome, Version: cs[i].version.String(), Stored: ds[i].stored, Change: r.Change}
		ch := r.Change
		if ch == nil && ds[i].outcome == Duplicate {
			// Applied before, perhaps by an attempt that crashed before
			// announcing it: announce again (deduplicated by seq).
			ch = s.ownChange(ctx, tenantID, spec.Name, cs[i])
		}
		if ch != nil {
			if r.Change != nil {
				out[i].Op = ch.Op
			}
			changed = append(changed, s.changedEvent(spec, ch))
			owners = append(owners, i)
		}
	}
	if spec.mirror != nil && len(changed) > 0 {
		s.follow.kick(tenantID, spec.Name)
	}
	if len(changed) > 0 && s.cfg.Emit != nil {
		if err := s.cfg.Emit(ctx, changed); err != nil {
			for _, i := range owners {
				if out[i].Err == nil {
					out[i].Err = fmt.Errorf("announce change: %w", err)
				}
			}
		}
	}
	return out, nil
}

// ownChange returns the change c's event made, when it is still the
// record's last one.
func (s *Service) ownChange(ctx context.Context, tenantID, name string, c *change) *store.Change {
	rec, err := s.cfg.Store.GetRecord(ctx, tenantID, name, c.key)
	if err != nil || rec.EventID != c.eventID || rec.Seq == 0 {
		return nil
	}
	cs, err := s.cfg.Store.ListChanges(ctx, tenantID, name, rec.Seq-1, 1)
	if err != nil || len(cs) == 0 || cs[0].EventID != c.eventID {
		return nil
	}
	return &cs[0]
}

// batcher groups concurrent changes to one collection into one
// transaction (groupcommit, one group per collection): whatever queued up
// while a batch was written goes in the next one, at most maxBatch at a
// time. A caller that leaves does not take its change back: it is applied
// anyway, and the attempt will find it a duplicate when it runs again.
type batcher struct {
	s      *Service
	mu     sync.Mutex
	groups map[string]*groupcommit.Group[*pending] // by tenant and collection; an idle one holds no goroutine
}

type pending struct {
	c    *change
	spec *Spec
	res  Result
}

// maxBatch bounds the changes written in one transaction.
const maxBatch = 500

func (b *batcher) do(ctx context.Context, tenantID string, spec *Spec, c *change) Result {
	p := &pending{c: c, spec: spec}
	if err := b.group(tenantID, spec.Name).Do(ctx, p, time.Time{}); err != nil {
		return Result{Key: c.key, Err: err}
	}
	return p.res
}

func (b *batcher) group(tenantID, name string) *groupcommit.Group[*pending] {
	k := tenantID + "\x00" + name
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.groups[k]
	if g == nil {
		g = groupcommit.New(groupcommit.Config[*pending]{
			Commit:  func(ctx context.Context, batch []*pending) { b.apply(ctx, tenantID, batch) },
			MaxRows: maxBatch,
			// Changes applied together must use one spec; a spec that
			// changed meanwhile waits for the next batch.
			Together: func(first, next *pending) bool { return next.spec == first.spec },
			Detach:   true,
		})
		b.groups[k] = g
	}
	return g
}

// apply writes one batch; it runs without its callers' cancellation,
// since it carries the changes of several.
func (b *batcher) apply(ctx context.Context, tenantID string, batch []*pending) {
	cs := make([]*change, len(batch))
	for i, it := range batch {
		cs[i] = it.c
	}
	bctx, cancel := context.WithTimeout(ctx, batchTimeout)
	rs, err := b.s.apply(bctx, tenantID, batch[0].spec, cs)
	cancel()
	for i, it := range batch {
		if err != nil {
			it.res = Result{Key: it.c.key, Err: err}
		} else {
			it.res = rs[i]
		}
	}
}

// batchTimeout bounds one batch's transaction and announcement.
const batchTimeout = time.Minute

// ChangedType is the type of the events announcing a collection's
// changes.
func ChangedType(name string) string { return "collection." + name + ".changed" }

// changedEvent announces one change. Its idempotency key is the change's
// seq, so announcing again after a retry does not duplicate it.
func (s *Service) changedEvent(spec *Spec, c *store.Change) event.Event {
	name := spec.Name
	now := s.cfg.Clock.Now()
	data, _ := ChangedData(*c)
	return event.Event{
		ID: event.NewID(event.PrefixEvent, now), TenantID: c.TenantID, Type: ChangedType(name),
		Source: "collection:" + name, Data: data, OccurredAt: c.At,
		// The collection's creation time tells a recreated collection's
		// changes (numbered from 1 again) from the old ones.
		IdempotencyKey: fmt.Sprintf("collection:%s:%d:%d", name, spec.created.UnixMilli(), c.Seq), CreatedAt: now,
	}
}

// ChangedData is the data of the event announcing c: the change as the
// changes feed shows it (apply.ChangeOut; a test there keeps the two the
// same).
func ChangedData(c store.Change) ([]byte, error) {
	return json.Marshal(wire.RecordChange{
		Seq: c.Seq, Collection: c.Collection, Key: c.Key, Op: c.Op, Data: c.Data,
		Version: Display(c.Version), EventID: c.EventID, At: wire.TimeOf(c.At),
	})
}

// FetchError is a failed fetch of the full record; it is retried.
type FetchError struct{ Err error }

func (e *FetchError) Error() string { return "fetch: " + e.Err.Error() }
func (e *FetchError) Unwrap() error { return e.Err }

// fetch loads the full record of key from the source. found is false on
// 404.
func (s *Service) fetch(ctx context.Context, spec *Spec, key string, v eventVars) (any, bool, error) {
	f := spec.fetch
	vars := v.with("key", key).loose
	u, err := f.url.Render(vars)
	if err != nil {
		return nil, false, inputErr("fetch_failed", "fetch.url: %v", err)
	}
	if err := netguard.CheckHTTPURL(u); err != nil {
		return nil, false, inputErr("fetch_failed", "fetch.url %q: %v", u, err)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, inputErr("fetch_failed", "fetch.url: %v", err)
	}
	req.Header.Set("Accept", "application/json")
	if s.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", s.cfg.UserAgent)
	}
	for name, t := range f.headers {
		val, err := t.Render(vars)
		if err != nil {
			return nil, false, inputErr("fetch_failed", "fetch.headers.%s: %v", name, err)
		}
		req.Header.Set(name, val)
	}
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return nil, false, &FetchError{Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBody+1))
	if err != nil {
		return nil, false, &FetchError{Err: fmt.Errorf("read answer: %w", err)}
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, false, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, false, &FetchError{Err: fmt.Errorf("GET %s answered %s", u, resp.Status)}
	case len(body) > maxFetchBody:
		return nil, false, inputErr("fetch_failed", "GET %s: answer is larger than %d bytes", u, maxFetchBody)
	}
	var doc any
	if err := decodeExact(body, &doc); err != nil {
		return nil, false, &FetchError{Err: fmt.Errorf("GET %s: answer is not JSON: %w", u, err)}
	}
	if f.record != nil {
		if doc, err = f.record.Eval(map[string]any{"response": loose(doc)}); err != nil {
			return nil, false, inputErr("fetch_failed", "fetch.record: %v", err)
		}
	}
	return doc, true, nil
}

// prepareRecord turns a directly written record into an upsert.
func (s *Spec) prepareRecord(e *event.Event) (*change, error) {
	v, err := varsOf(e)
	if err != nil {
		return nil, err
	}
	rec, ok := v.exact["data"].(map[string]any)
	if !ok {
		return nil, inputErr("invalid_record", "record is a %s, not an object", jsonKind(v.exact["data"]))
	}
	kv := v.with("record", rec)
	raw, err := s.key.eval(kv.loose, kv.exact)
	if err != nil {
		return nil, inputErr("invalid_key", "key: %v", err)
	}
	c := &change{op: store.OpUpsert, eventID: e.ID, at: e.OccurredAt}
	if c.key, err = keyText(s.key.src, raw); err != nil {
		return nil, err
	}
	if s.version != nil {
		raw, err := s.version.eval(kv.loose, kv.exact)
		if err != nil {
			return nil, inputErr("invalid_version", "version: %v", err)
		}
		if c.version, err = versionOf(raw); err != nil {
			return nil, inputErr("invalid_version", "version: %s %v", s.version.src, err)
		}
	} else {
		c.version = eventVersion(e.OccurredAt, e.ID)
	}
	if c.data, err = s.defaultMap.apply(v, c.key, rec); err != nil {
		return nil, err
	}
	return c, nil
}
