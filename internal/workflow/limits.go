package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/store"
)

// Limits of concurrency, throttle and debounce.
const (
	maxConcurrency   = 10_000
	maxThrottle      = 100_000
	minPeriod        = time.Second
	maxThrottlePer   = 24 * time.Hour
	maxDebouncePer   = 7 * 24 * time.Hour
	maxKeyLength     = 256
	queuePollInitial = 5 * time.Second
	queuePollMax     = 5 * time.Minute
	// debounceSuffix marks the destination of the task that checks a
	// debounced key when its period ends (not a workflow name: names
	// have no '#').
	debounceSuffix = "#debounce"
)

// limits are a workflow's compiled concurrency, throttle and debounce.
type limits struct {
	concurrency *keyLimit
	throttle    *keyLimit
	debounce    *keyLimit
}

// keyLimit is one of them: a key expression (nil: one key), a limit and
// a period, as the kind has them.
type keyLimit struct {
	key    *expr.Program
	limit  int
	period time.Duration
}

func compileLimits(in Def) (limits, error) {
	var out limits
	var errs []error
	key := func(path, src string) *expr.Program {
		if src == "" {
			return nil
		}
		p, err := expr.Compile(src, "event")
		if err != nil {
			errs = append(errs, &Error{Path: path + ".key", Err: err})
		}
		return p
	}
	period := func(path, src string, most time.Duration) time.Duration {
		d, err := time.ParseDuration(src)
		if err != nil || d < minPeriod || d > most {
			errs = append(errs, errAt(path+".period", "must be a duration from %s to %s, e.g. \"1m\"", minPeriod, most))
		}
		return d
	}
	count := func(path string, n, most int) int {
		if n < 1 || n > most {
			errs = append(errs, errAt(path+".limit", "must be 1 to %d", most))
		}
		return n
	}
	if c := in.Concurrency; c != nil {
		out.concurrency = &keyLimit{key: key("concurrency", c.Key), limit: count("concurrency", c.Limit, maxConcurrency)}
	}
	if t := in.Throttle; t != nil {
		out.throttle = &keyLimit{key: key("throttle", t.Key), limit: count("throttle", t.Limit, maxThrottle),
			period: period("throttle", t.Period, maxThrottlePer)}
	}
	if d := in.Debounce; d != nil {
		out.debounce = &keyLimit{key: key("debounce", d.Key), period: period("debounce", d.Period, maxDebouncePer)}
	}
	return out, errors.Join(errs...)
}

// keyOf is the key of a run's event: the key expression's value as text
// (null, or one that fails, is the empty key; a long one is cut).
func (l *keyLimit) keyOf(ev eventSnap) string {
	if l.key == nil {
		return ""
	}
	v, err := l.key.Eval(map[string]any{"event": ev.value()})
	if err != nil || v == nil {
		return ""
	}
	k, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		k = string(b)
	}
	if len(k) > maxKeyLength {
		k = k[:maxKeyLength]
	}
	return k
}

// gates are the slots a run of w for ev takes when it starts its work.
func (w *Workflow) gates(ev eventSnap, now time.Time) []store.RunGate {
	var out []store.RunGate
	if c := w.limits.concurrency; c != nil {
		out = append(out, store.RunGate{Kind: store.GateConcurrency, Key: c.keyOf(ev), Limit: c.limit})
	}
	if t := w.limits.throttle; t != nil {
		out = append(out, store.RunGate{Kind: store.GateThrottle, Key: t.keyOf(ev), Limit: t.limit, Since: now.Add(-t.period)})
	}
	return out
}

// wakeAt is when a run refused a slot by le tries again, after tries
// refusals: when the oldest throttle slot ages out, or (concurrency) on a
// backoff; a run ending pokes the oldest queued run sooner.
func (w *Workflow) wakeAt(le *store.LimitError, tries int, now time.Time) time.Time {
	if t := w.limits.throttle; le.Kind == store.GateThrottle && t != nil {
		if at := le.Oldest.Add(t.period); at.After(now) {
			return at
		}
	}
	d := queuePollInitial << min(tries, 10)
	return now.Add(min(d, queuePollMax))
}

// queue saves a run refused a slot as queued, with the task that tries
// again at its wakeAt (and, for a new run, its listens).
func (r *Runner) queue(ctx context.Context, w *Workflow, run store.Run, rev int, st state, le *store.LimitError, now time.Time,
	listens ...store.RunListen) (store.Run, error) {
	wake := r.newTask(&run, st.Event.Type, now, w.wakeAt(le, st.Attempt, now))
	st.Next = wake.ID
	run.Status, run.UpdatedAt = store.RunQueued, now
	var err error
	if run.State, err = json.Marshal(st); err != nil {
		return run, err
	}
	r.lease([]store.Task{wake})
	if err := r.cfg.Store.SaveRun(ctx, store.RunSave{Run: run, Rev: rev, Tasks: []store.Task{wake},
		Gates: w.gates(st.Event, now), Listens: listens}); err != nil {
		return run, err
	}
	r.cfg.Schedule(ctx, []store.Task{wake})
	return run, nil
}

// admit tries to let a queued run start its work: it takes its slots and
// runs its first step, or stays queued until its next try.
func (r *Runner) admit(ctx context.Context, p *progress, url string) engine.Outcome {
	now := p.now
	run := p.run
	next := r.newTask(&run, p.st.Event.Type, now, now)
	st := p.st
	st.Next = next.ID
	run.Status, run.UpdatedAt = store.RunRunning, now
	var err error
	if run.State, err = json.Marshal(st); err != nil {
		return internal(url, err)
	}
	r.lease([]store.Task{next})
	err = r.cfg.Store.SaveRun(ctx, store.RunSave{Run: run, Rev: p.rev, Tasks: []store.Task{next}, Gates: p.w.gates(st.Event, now)})
	var le *store.LimitError
	switch {
	case errors.As(err, &le):
		st.Attempt++
		if _, err := r.queue(ctx, p.w, p.run, p.rev, st, le, now); err != nil && !errors.Is(err, store.ErrConflict) {
			return internal(url, err)
		}
		return outcome("queued", url, progressed{RunID: run.ID, Status: store.RunQueued, CurrentStep: st.Current})
	case errors.Is(err, store.ErrConflict):
		return outcome("skipped", url, skipped{Reason: "the run was changed meanwhile"})
	case err != nil:
		return internal(url, err)
	}
	r.cfg.Schedule(ctx, []store.Task{next})
	return outcome("admitted", url, progressed{RunID: run.ID, Status: store.RunRunning, CurrentStep: st.Current})
}

// pokeQueued has the run queued longest for the concurrency key of a run
// that ended try for its slot now, rather than at its next try.
func (r *Runner) pokeQueued(ctx context.Context, w *Workflow, ended store.Run, ev eventSnap) {
	c := w.limits.concurrency
	if c == nil || ended.ParentID != "" {
		return
	}
	id, err := r.cfg.Store.OldestQueued(ctx, ended.TenantID, ended.Workflow, c.keyOf(ev))
	if err != nil {
		return
	}
	run, err := r.cfg.Store.GetRun(ctx, ended.TenantID, id)
	if err != nil || run.Status != store.RunQueued {
		return
	}
	var st state
	if json.Unmarshal(run.State, &st) != nil {
		return
	}
	now := r.cfg.Clock.Now()
	next := r.newTask(&run, st.Event.Type, now, now)
	st.Next = next.ID
	run.UpdatedAt = now
	if run.State, err = json.Marshal(st); err != nil {
		return
	}
	r.lease([]store.Task{next})
	// Still queued: the save keeps its place in the queue.
	if err := r.cfg.Store.SaveRun(ctx, store.RunSave{Run: run, Rev: run.Rev, Tasks: []store.Task{next}, Gates: w.gates(st.Event, now)}); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			r.cfg.Logger.WarnContext(ctx, "queued run not woken; it tries again at its next time", "run_id", id, "error", err)
		}
		return
	}
	r.cfg.Schedule(ctx, []store.Task{next})
}

func isDebounce(dest string) bool { return strings.HasSuffix(dest, debounceSuffix) }

// debounce records the task's event as the latest of its key, with the
// task that checks it when the period ends; it starts no run.
func (r *Runner) debounce(ctx context.Context, w *Workflow, t *store.Task, url string) engine.Outcome {
	d := w.limits.debounce
	now := r.cfg.Clock.Now()
	rec := store.Debounce{TenantID: t.TenantID, Workflow: w.Name, Key: d.keyOf(snapOf(t.Event)), EventID: t.EventID,
		DueAt: now.Add(d.period)}
	check := store.Task{
		ID: event.NewID(event.PrefixDelivery, now), TenantID: t.TenantID, EventID: t.EventID, EventType: t.EventType,
		Kind: Kind, DestinationID: w.Name + debounceSuffix, Status: store.StatusPending, NextAt: rec.DueAt, CreatedAt: now, UpdatedAt: now,
	}
	if err := r.cfg.Store.Debounce(ctx, rec, check); err != nil {
		return internal(url, err)
	}
	r.cfg.Schedule(ctx, []store.Task{check})
	return outcome("debounced", url, debouncedDetail{Key: rec.Key, Until: rec.DueAt.UTC().Format(time.RFC3339Nano)})
}

// debounced checks a debounced key when its period ended: the run starts
// only if the task's event is still the latest.
func (r *Runner) debounced(ctx context.Context, t *store.Task) engine.Outcome {
	name := strings.TrimSuffix(t.DestinationID, debounceSuffix)
	url := "workflow:" + name
	w, refused, ok := r.startFor(ctx, t, name, url)
	if !ok {
		return refused
	}
	key := ""
	if d := w.limits.debounce; d != nil {
		key = d.keyOf(snapOf(t.Event))
	}
	rec, err := r.cfg.Store.GetDebounce(ctx, t.TenantID, name, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return outcome("skipped", url, skipped{Reason: "debounced: no event waits for this key"})
	case err != nil:
		return internal(url, err)
	case rec.EventID != t.EventID:
		return outcome("skipped", url, skipped{Reason: "debounced: a later event " + rec.EventID + " replaced this one", EventID: t.EventID})
	}
	run, _, err := r.begin(ctx, w, runID(t.ID), t.Event, nil)
	if err != nil {
		return internal(url, err)
	}
	// A later event recorded meanwhile stays, and starts its own run.
	if err := r.cfg.Store.ClearDebounce(ctx, rec); err != nil {
		return internal(url, err)
	}
	return outcome("started", url, started{RunID: run.ID, Version: w.Version})
}
