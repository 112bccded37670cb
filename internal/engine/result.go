package engine

import (
	"cmp"
	"context"
	"time"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// resultKey keys, in an attempt's context, the function that makes the
// attempt's result row from its outcome (ResultOf).
type resultKey struct{}

// ResultOf returns the result row the engine writes for out, the outcome
// of the attempt ctx is the context of, timed until now, so that an
// executor may commit it with its own writes in one transaction and
// return it as out.Recorded. ok is false outside an attempt.
func ResultOf(ctx context.Context, out Outcome) (r store.TaskResult, ok bool) {
	f, ok := ctx.Value(resultKey{}).(func(Outcome) store.TaskResult)
	if !ok {
		return r, false
	}
	return f(out), true
}

// resultOf is the result row of an attempt of t begun at start that ended
// now with out.
func (e *Engine) resultOf(t *store.Task, start time.Time, out Outcome) store.TaskResult {
	dur := e.clock.Now().Sub(start)
	a := out.Attempt
	a.ID = event.NewID(event.PrefixAttempt, start)
	a.TaskID, a.TenantID, a.Number, a.StartedAt, a.Duration = t.ID, t.TenantID, t.Attempts+1, start, dur
	r := store.TaskResult{TaskID: t.ID, Token: t.LeaseToken}
	switch {
	case out.Err == nil:
		r.Status = store.StatusSucceeded
		a.Outcome = cmp.Or(a.Outcome, "success")
	default:
		r.LastError = out.Err.Error()
		a.Error = cmp.Or(a.Error, r.LastError)
		a.Outcome = cmp.Or(a.Outcome, "error")
		delay, ok := NextRetry(out.Schedule, a.Number, out.RetryAfter, e.rnd)
		if out.Permanent || !ok {
			r.Status = store.StatusFailed
		} else {
			r.Status = store.StatusRetrying
			r.NextAt = start.Add(dur).Add(delay)
		}
	}
	r.Attempt = a
	return r
}
