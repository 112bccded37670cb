package collection

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hookline/hookline/internal/backoff"
	"github.com/hookline/hookline/internal/store"
)

// A collection's mirror follows the collection's changes on its own. The
// collection commits a change (record, change log, changed event) without
// waiting for the mirror; a follower per collection then reads the changes
// after the mirror's cursor, writes them to the table and moves the cursor,
// which the store keeps. So a mirror table that is locked, missing or out
// of reach holds up only its mirror: the collection and its changes feed
// keep going, the mirror falls behind (lag), retries on its own schedule,
// and catches up from its cursor when the table is back — after a restart
// too. Since the change numbers of a collection have no gaps, following
// them loses and reorders nothing.
//
// Every node runs a follower for every mirror; the advisory lock of
// mirrors.write lets one at a time write a table, so on a cluster the
// others find it busy and look again later, and one takes over when the
// writer's node stops.

const (
	// mirrorBatch is how many changes one mirror transaction reads and
	// writes.
	mirrorBatch = 500
	// mirrorPoll is how often a follower that is caught up looks for
	// changes applied on other nodes (changes applied here wake it at
	// once), and how long it waits when another node holds the table.
	mirrorPoll = time.Second
	// mirrorRescan is how often the collections are listed to start
	// followers: for mirrors saved on other nodes, and for changes left
	// unmirrored when the server stopped.
	mirrorRescan = 30 * time.Second
	// mirrorWriteTimeout bounds one mirror transaction: a table locked
	// longer, or a database that does not answer, fails the write.
	mirrorWriteTimeout = 15 * time.Second
)

// mirrorBackoff is the delay before each retry of a failing mirror: 250
// ms doubling up to 5 s (250 ms, 500 ms, 1 s, 2 s, 4 s, then 5 s), each
// spread ±20 %. A mirror never gives up: it only falls behind, and short
// delays bring it back within seconds of its table.
var mirrorBackoff = backoff.Exponential{Initial: 250 * time.Millisecond, Max: 5 * time.Second}

// mirrorRetry is the delay after attempts consecutive failures.
func mirrorRetry(attempts int, rnd func() float64) time.Duration {
	return mirrorBackoff.Delay(attempts, rnd)
}

// followers runs one follower per collection with a mirror.
type followers struct {
	s *Service

	mu      sync.Mutex
	ctx     context.Context // nil until Start; done after Close
	stop    context.CancelFunc
	wg      sync.WaitGroup
	running map[string]*follower // by tenant and collection
}

type follower struct {
	tenantID, name string
	// wake asks the follower to look for changes now.
	wake chan struct{}
}

// Start runs the mirror followers until Close.
func (s *Service) Start(ctx context.Context) {
	f := s.follow
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctx != nil {
		return
	}
	f.ctx, f.stop = context.WithCancel(context.WithoutCancel(ctx))
	f.wg.Add(1)
	go f.scanLoop(f.ctx)
}

// close stops the followers and waits for them; a write in progress is
// rolled back and done again by the next follower.
func (f *followers) close() {
	f.mu.Lock()
	if f.ctx == nil {
		f.ctx, f.stop = context.WithCancel(context.Background())
	}
	f.stop()
	f.mu.Unlock()
	f.wg.Wait()
}

func (f *followers) scanLoop(ctx context.Context) {
	defer f.wg.Done()
	t := time.NewTicker(mirrorRescan)
	defer t.Stop()
	for {
		if err := f.scan(ctx); err != nil && ctx.Err() == nil {
			f.s.cfg.Logger.ErrorContext(ctx, "mirrors: list collections", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// scan wakes (and so starts) a follower for every collection with a
// mirror.
func (f *followers) scan(ctx context.Context) error {
	st := f.s.cfg.Store
	tenants, err := st.ListTenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range tenants {
		cs, err := st.ListCollections(ctx, t.ID)
		if err != nil {
			return err
		}
		for _, c := range cs {
			spec, err := f.s.compiled(c)
			if err == nil && spec.mirror != nil {
				f.kick(t.ID, c.Name)
			}
		}
	}
	return nil
}

// kick wakes the follower of a collection, starting it when none runs.
// Before Start and after Close it does nothing.
func (f *followers) kick(tenantID, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctx == nil || f.ctx.Err() != nil {
		return
	}
	k := tenantID + "\x00" + name
	fl := f.running[k]
	if fl == nil {
		fl = &follower{tenantID: tenantID, name: name, wake: make(chan struct{}, 1)}
		f.running[k] = fl
		f.wg.Add(1)
		go f.run(f.ctx, fl)
	}
	select {
	case fl.wake <- struct{}{}:
	default:
	}
}

// outcome is what one round of a follower did.
type outcome int

const (
	caughtUp outcome = iota // nothing left to write: wait for a change
	progress                // wrote some: look again at once
	busy                    // another writer holds the table
	failed                  // the write failed: retry after a delay
	gone                    // the collection or its mirror is gone
)

func (f *followers) run(ctx context.Context, fl *follower) {
	defer f.wg.Done()
	attempts := 0
	for {
		var wait time.Duration
		switch f.round(ctx, fl, &attempts) {
		case progress:
			continue
		case caughtUp, busy:
			wait = mirrorPoll
		case failed:
			wait = mirrorRetry(attempts, f.s.rand)
		case gone:
			f.mu.Lock()
			if f.running[fl.tenantID+"\x00"+fl.name] == fl {
				delete(f.running, fl.tenantID+"\x00"+fl.name)
			}
			f.mu.Unlock()
			return
		}
		t := time.NewTimer(wait)
		if attempts > 0 {
			// Failing: new changes do not cut the delay short, or every
			// change would be another try at a table that is down.
			select {
			case <-fl.wake:
			default:
			}
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		} else {
			select {
			case <-ctx.Done():
			case <-t.C:
			case <-fl.wake:
			}
		}
		t.Stop()
		if ctx.Err() != nil {
			return
		}
	}
}

// loaded sorts out err, from loading what a round needs: ok when it is
// nil; gone when what was loaded or the service went away; failed (logged
// as what, counted in attempts) otherwise: the store or the spec, nothing
// the mirror can fix, so the round looks again.
func loaded(ctx context.Context, log *slog.Logger, err error, what string, attempts *int) (out outcome, ok bool) {
	switch {
	case errors.Is(err, store.ErrNotFound), ctx.Err() != nil:
		return gone, false
	case err != nil:
		log.WarnContext(ctx, what, "error", err)
		*attempts++
		return failed, false
	}
	return 0, true
}

// round writes the next batch of changes to the mirror and records how it
// went. attempts counts the consecutive failures.
func (f *followers) round(ctx context.Context, fl *follower, attempts *int) outcome {
	s := f.s
	log := s.cfg.Logger.With("tenant_id", fl.tenantID, "collection", fl.name)
	spec, err := s.Spec(ctx, fl.tenantID, fl.name)
	if out, ok := loaded(ctx, log, err, "mirror: load collection", attempts); !ok {
		return out
	}
	if spec.mirror == nil {
		return gone
	}
	st, err := s.cfg.Store.GetMirrorState(ctx, fl.tenantID, fl.name)
	if out, ok := loaded(ctx, log, err, "mirror: load its state", attempts); !ok {
		return out
	}
	m := spec.mirror
	if st.Target != m.target {
		// A new mirror, or one pointed at another table: from the start.
		st = store.MirrorState{TenantID: fl.tenantID, Collection: fl.name, Target: m.target, LastSeq: st.LastSeq}
	}
	if st.Seq >= st.LastSeq && st.Error == "" && !st.UpdatedAt.IsZero() {
		*attempts = 0
		return caughtUp
	}
	wctx, cancel := context.WithTimeout(ctx, mirrorWriteTimeout)
	w, err := s.mirrors.write(wctx, spec, func(ctx context.Context) ([]store.Change, error) {
		return s.cfg.Store.ListChanges(ctx, fl.tenantID, fl.name, st.Seq, mirrorBatch)
	})
	cancel()
	if ctx.Err() != nil {
		return gone // stopping: the next start writes it again
	}
	now := s.cfg.Clock.Now()
	if errors.Is(err, errBusy) {
		return busy
	}
	table := m.table.Sanitize()
	if err != nil {
		*attempts++
		delay := mirrorRetry(*attempts, s.rand)
		msg := redactErr(err, m.dsn)
		if st.FailingSince.IsZero() {
			st.FailingSince = now
			log.WarnContext(ctx, "mirror failing; the collection goes on, the mirror retries and catches up",
				"table", table, "error", msg, "lag", st.LastSeq-st.Seq)
		}
		st.Error, st.RetryAt, st.UpdatedAt = msg, now.Add(delay), now
		if err := s.cfg.Store.SaveMirrorState(ctx, st); err != nil && !errors.Is(err, store.ErrNotFound) {
			log.WarnContext(ctx, "mirror: save its state", "error", err)
		}
		return failed
	}
	if !st.FailingSince.IsZero() {
		log.InfoContext(ctx, "mirror recovered", "table", table, "failed_for", now.Sub(st.FailingSince).Round(time.Millisecond),
			"lag", st.LastSeq-max(st.Seq, w.last))
	}
	*attempts = 0
	for _, rf := range w.failed {
		log.WarnContext(ctx, "mirror: row passed over", "table", table, "key", rf.key, "seq", rf.seq, "error", rf.err)
		st.RowsFailed++
		st.RowError = rf.String()
	}
	st.Seq = max(st.Seq, w.last)
	st.Error, st.FailingSince, st.RetryAt, st.UpdatedAt = "", time.Time{}, time.Time{}, now
	if err := s.cfg.Store.SaveMirrorState(ctx, st); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return gone
		}
		log.WarnContext(ctx, "mirror: save its state", "error", err)
		*attempts++
		return failed
	}
	if w.last == 0 {
		return caughtUp
	}
	return progress
}

// MirrorStatus is how a collection's mirror follows the collection.
type MirrorStatus struct {
	// State is MirrorOK, MirrorCatchingUp or MirrorFailing.
	State string
	// Seq is the last change written to the table; Lag how many changes
	// of the collection are not yet in it.
	Seq, Lag int64
	// LastError, FailingSince and RetryAt describe a failing mirror.
	LastError    string
	FailingSince time.Time
	RetryAt      time.Time
	// RowsFailed counts changes whose row the table refused; RowError
	// names the last.
	RowsFailed int64
	RowError   string
	// UpdatedAt is when a follower last wrote or failed; zero before the
	// first write.
	UpdatedAt time.Time
}

// States of a mirror.
const (
	MirrorOK         = "ok"          // every change is in the table
	MirrorCatchingUp = "catching_up" // changes wait, and the last write succeeded (or none was tried yet)
	MirrorFailing    = "failing"     // the last write failed; it is retried at RetryAt
)

// MirrorStatus reports how the mirror of a collection is doing; ok is
// false when the collection has no mirror.
func (s *Service) MirrorStatus(ctx context.Context, c store.Collection) (MirrorStatus, bool, error) {
	spec, err := s.compiled(c)
	if err != nil || spec.mirror == nil {
		return MirrorStatus{}, false, err
	}
	st, err := s.cfg.Store.GetMirrorState(ctx, c.TenantID, c.Name)
	if err != nil {
		return MirrorStatus{}, false, err
	}
	if st.Target != spec.mirror.target {
		st = store.MirrorState{LastSeq: st.LastSeq}
	}
	out := MirrorStatus{Seq: st.Seq, Lag: max(st.LastSeq-st.Seq, 0), LastError: st.Error, FailingSince: st.FailingSince,
		RetryAt: st.RetryAt, RowsFailed: st.RowsFailed, RowError: st.RowError, UpdatedAt: st.UpdatedAt}
	switch {
	case !st.FailingSince.IsZero():
		out.State = MirrorFailing
	case out.Lag > 0:
		out.State = MirrorCatchingUp
	default:
		out.State = MirrorOK
	}
	return out, true, nil
}

// defaultRand is the jitter source when Config.Rand is nil.
func defaultRand() float64 { return rand.Float64() }
