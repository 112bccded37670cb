package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/store"
)

// recoverBatch is how many failed tasks Recover reads and requeues at once.
const recoverBatch = 1000

// Recover runs again, oldest first, every failed task of a tenant's
// destination last updated at or after since, and closes the
// destination's circuit (on every node of a cluster) even when no task
// failed for good: tasks still retrying wait behind it. It returns the
// ids of the tasks it requeued.
func (e *Engine) Recover(ctx context.Context, tenantID, kind, destinationID string, since time.Time) ([]string, error) {
	ids := []string{}
	q := store.TaskQuery{Page: store.Page{Limit: recoverBatch}, Kind: kind, DestinationID: destinationID,
		Status: store.StatusFailed, UpdatedSince: since, Oldest: true}
	for {
		page, err := e.store.ListTasks(ctx, tenantID, q)
		if err != nil {
			return nil, fmt.Errorf("recover: %w", err)
		}
		for _, t := range page {
			ids = append(ids, t.ID)
		}
		if len(page) < q.Limit {
			break
		}
		q.Cursor = page[len(page)-1].ID
	}
	if len(ids) == 0 {
		// Retry closes the circuits of the tasks it requeues.
		e.CloseCircuit(ctx, kind, destinationID)
	}
	for start := 0; start < len(ids); start += recoverBatch {
		if _, err := e.Retry(ctx, tenantID, ids[start:min(start+recoverBatch, len(ids))]); err != nil {
			return nil, err
		}
	}
	return ids, nil
}
