package workflow

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/route"
	"github.com/hookline/hookline/internal/store"
)

// Buffered correlation. An event that a keyed wait_for could take but no
// waiting run took is routed to a buffer task (bufferPrefix and the key),
// which keeps it (store.BufferEvent) and then offers it to the runs that
// wait for its value by now. A run that begins a keyed wait, once that is
// committed, is offered the events kept for its value within its step's
// buffer. Each side writes before it reads, so of an event and a wait
// that cross, at least one sees the other; an event offered twice is
// taken once (state.Taken, and a run that moved on skips it).

// bufferEvent runs a buffer task.
func (r *Runner) bufferEvent(ctx context.Context, t *store.Task) engine.Outcome {
	url := "workflow:" + t.DestinationID
	key := strings.TrimPrefix(t.DestinationID, bufferPrefix)
	if t.Event == nil {
		return internal(url, errors.New("task has no event loaded"))
	}
	value, ok := route.NewEvent(t.Event).Key(key)
	if !ok {
		return outcome("skipped", url, skipped{Reason: "the event has no value at " + key, EventID: t.EventID})
	}
	at := t.Event.CreatedAt
	if at.IsZero() {
		at = r.cfg.Clock.Now()
	}
	err := r.cfg.Store.BufferEvent(ctx, store.BufferedEvent{TenantID: t.TenantID, Key: key, Value: value, EventID: t.EventID,
		EventType: t.EventType, CreatedAt: at})
	if err != nil {
		return internal(url, err)
	}
	runs, err := r.cfg.Store.WaitingRunsFor(ctx, t.TenantID, key, value)
	if err != nil {
		return internal(url, err)
	}
	var offers []store.Task
	now := r.cfg.Clock.Now()
	for i := range runs {
		if run := &runs[i]; run.EventID != t.EventID && event.Match(run.WaitEvent, t.EventType) {
			offers = append(offers, r.offerTask(run, t.EventID, t.EventType, now))
		}
	}
	if err := r.addTasks(ctx, offers); err != nil {
		return internal(url, err)
	}
	return outcome("buffered", url, kept{Key: key, Value: value, Offered: len(offers)})
}

// offerTask is a task offering event eventID to a waiting run.
func (r *Runner) offerTask(run *store.Run, eventID, typ string, now time.Time) store.Task {
	t := r.newTask(run, typ, now, now)
	t.EventID = eventID
	return t
}

// addTasks writes tasks and hands them to the engine.
func (r *Runner) addTasks(ctx context.Context, ts []store.Task) error {
	if len(ts) == 0 {
		return nil
	}
	r.lease(ts)
	if err := r.cfg.Store.AddTasks(ctx, ts); err != nil {
		return err
	}
	r.cfg.Schedule(ctx, ts)
	return nil
}

// offerBuffered offers a run that just began a keyed wait (committed) the
// events kept for its value within the step's buffer.
func (p *progress) offerBuffered(ctx context.Context) error {
	wt := p.st.Wait
	if p.run.Status != store.RunWaiting || wt == nil || wt.Kind != KindWaitFor || wt.Key == "" {
		return nil
	}
	s, _, ok := p.w.step(wt.Step)
	if !ok || s.buffer <= 0 {
		return nil
	}
	kept, err := p.r.cfg.Store.BufferedEvents(ctx, p.run.TenantID, wt.Key, wt.Value, p.now.Add(-s.buffer))
	if err != nil {
		return err
	}
	var offers []store.Task
	for _, b := range kept {
		if b.EventID != p.run.EventID && event.Match(s.waitEvent, b.EventType) && !slices.Contains(p.st.Taken, b.EventID) {
			offers = append(offers, p.r.offerTask(&p.run, b.EventID, b.EventType, p.now))
		}
	}
	return p.r.addTasks(ctx, offers)
}
