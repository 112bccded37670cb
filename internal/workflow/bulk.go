package workflow

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// Bounds of one bulk change: the runs it changes by default and at most.
const (
	DefaultBulk = 100
	MaxBulk     = 1000
)

// Filter selects a tenant's runs for CancelAll and RetryAll: of a
// workflow, in a status, created in [Since, Until) (zero: unbounded),
// at most Limit (1 to MaxBulk), newest first.
type Filter struct {
	Workflow     string
	Status       string
	Since, Until time.Time
	Limit        int
}

// Bulk is what a bulk change did: the runs it matched, those it changed,
// those it skipped (changed meanwhile, or no longer in a state the change
// applies to), and whether more runs match than Limit took.
type Bulk struct {
	Matched, Changed, Skipped int
	More                      bool
}

// CancelAll cancels the runs f selects among the running and waiting
// ones (f.Status, when set, is one of them).
func (r *Runner) CancelAll(ctx context.Context, tenantID string, f Filter) (Bulk, error) {
	return r.bulk(ctx, tenantID, f, []string{store.RunRunning, store.RunWaiting}, r.Cancel, ErrFinished)
}

// RetryAll retries the failed runs f selects.
func (r *Runner) RetryAll(ctx context.Context, tenantID string, f Filter) (Bulk, error) {
	return r.bulk(ctx, tenantID, f, []string{store.RunFailed}, r.Retry, ErrNotRetryable)
}

// bulk applies change to the runs of statuses (or f.Status) that f
// selects; refused, a conflict and a child run (retried with its parent)
// count as skipped.
func (r *Runner) bulk(ctx context.Context, tenantID string, f Filter, statuses []string,
	change func(ctx context.Context, tenantID, id string) (store.Run, error), refused error) (Bulk, error) {
	var out Bulk
	if f.Status != "" {
		statuses = []string{f.Status}
	}
	limit := min(max(f.Limit, 1), MaxBulk)
	if f.Limit == 0 {
		limit = DefaultBulk
	}
	var ids []string
	for _, status := range statuses {
		more, err := r.selectRuns(ctx, tenantID, f, status, limit+1, func(id string) { ids = append(ids, id) })
		if err != nil {
			return out, err
		}
		out.More = out.More || more
	}
	// Newest first across the statuses.
	slices.Sort(ids)
	slices.Reverse(ids)
	if len(ids) > limit {
		ids, out.More = ids[:limit], true
	}
	for _, id := range ids {
		out.Matched++
		_, err := change(ctx, tenantID, id)
		// A step of the run saved meanwhile: change the run as it is now.
		for try := 0; errors.Is(err, store.ErrConflict) && try < maxCancelTries; try++ {
			_, err = change(ctx, tenantID, id)
		}
		switch {
		case err == nil:
			out.Changed++
		case errors.Is(err, refused), errors.Is(err, store.ErrConflict), errors.Is(err, ErrChildRun):
			// A child run is retried with its parent.
			out.Skipped++
		default:
			return out, err
		}
	}
	return out, nil
}

// selectRuns passes the ids of up to n runs in status that f selects,
// newest first, to add, a page at a time; more says there were others.
func (r *Runner) selectRuns(ctx context.Context, tenantID string, f Filter, status string, n int, add func(id string)) (more bool, err error) {
	q := store.RunQuery{Workflow: f.Workflow, Status: status, Page: store.Page{Limit: min(n, 500)}}
	if !f.Until.IsZero() {
		q.Cursor = event.FirstID("run", f.Until)
	}
	since := ""
	if !f.Since.IsZero() {
		since = event.FirstID("run", f.Since)
	}
	for n > 0 {
		runs, err := r.cfg.Store.ListRuns(ctx, tenantID, q)
		if err != nil {
			return false, err
		}
		for _, run := range runs {
			if run.ID < since {
				return false, nil
			}
			if n == 0 {
				return true, nil
			}
			add(run.ID)
			n--
		}
		if len(runs) < q.Page.Size() {
			return false, nil
		}
		q.Cursor = runs[len(runs)-1].ID
	}
	return false, nil
}
