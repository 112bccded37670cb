package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/hookline/hookline/internal/store"
)

// takeSlots applies a save's gates in its transaction (store.RunGate):
// SQLite's one writer makes the count and the insert one step.
func takeSlots(ctx context.Context, tx *sql.Tx, sv store.RunSave) error {
	r := sv.Run
	exec := func(q string, args ...any) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("save run: slots: %w", err)
		}
		return nil
	}
	switch r.Status {
	case store.RunSucceeded, store.RunFailed, store.RunCancelled:
		return exec(`DELETE FROM workflow_slots WHERE tenant_id = ? AND run_id = ? AND kind IN ('concurrency', 'queued')`, r.TenantID, r.ID)
	case store.RunQueued:
		for _, g := range sv.Gates {
			if g.Kind != store.GateConcurrency {
				continue
			}
			if err := exec(`INSERT INTO workflow_slots (tenant_id, workflow, kind, key, run_id, at) VALUES (?, ?, 'queued', ?, ?, ?)
				ON CONFLICT DO NOTHING`, r.TenantID, r.Workflow, g.Key, r.ID, ms(r.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	}
	for _, g := range sv.Gates {
		var (
			n      int
			oldest sql.NullInt64
			err    error
		)
		switch g.Kind {
		case store.GateConcurrency:
			// Runs queued before this one (all, for a run not queued) go
			// first.
			queuedAt := int64(math.MaxInt64)
			err = tx.QueryRowContext(ctx, `SELECT at FROM workflow_slots WHERE tenant_id = ? AND workflow = ? AND kind = 'queued'
				AND key = ? AND run_id = ?`, r.TenantID, r.Workflow, g.Key, r.ID).Scan(&queuedAt)
			if err != nil && err != sql.ErrNoRows {
				return fmt.Errorf("save run: slots: %w", err)
			}
			err = tx.QueryRowContext(ctx, `SELECT count(*) FROM workflow_slots WHERE tenant_id = ? AND workflow = ? AND key = ? AND run_id <> ?
				AND (kind = 'concurrency' OR (kind = 'queued' AND (at < ? OR (at = ? AND run_id < ?))))`,
				r.TenantID, r.Workflow, g.Key, r.ID, queuedAt, queuedAt, r.ID).Scan(&n)
		case store.GateThrottle:
			if err := exec(`DELETE FROM workflow_slots WHERE tenant_id = ? AND workflow = ? AND kind = 'throttle' AND key = ? AND at <= ?`,
				r.TenantID, r.Workflow, g.Key, ms(g.Since)); err != nil {
				return err
			}
			err = tx.QueryRowContext(ctx, `SELECT count(*), min(at) FROM workflow_slots WHERE tenant_id = ? AND workflow = ?
				AND kind = 'throttle' AND key = ? AND run_id <> ?`, r.TenantID, r.Workflow, g.Key, r.ID).Scan(&n, &oldest)
		default:
			return fmt.Errorf("save run: unknown gate kind %q", g.Kind)
		}
		if err != nil {
			return fmt.Errorf("save run: slots: %w", err)
		}
		if n >= g.Limit {
			return &store.LimitError{Kind: g.Kind, Oldest: fromMS(oldest.Int64)}
		}
	}
	for _, g := range sv.Gates {
		if err := exec(`INSERT INTO workflow_slots (tenant_id, workflow, kind, key, run_id, at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, r.TenantID, r.Workflow, g.Kind, g.Key, r.ID, ms(r.UpdatedAt)); err != nil {
			return err
		}
	}
	if len(sv.Gates) == 0 {
		return nil
	}
	return exec(`DELETE FROM workflow_slots WHERE tenant_id = ? AND run_id = ? AND kind = 'queued'`, r.TenantID, r.ID)
}

// pruneLimits deletes up to limit throttle slots taken, and debounce
// records due, before cutoff: long out of any window.
func (s *Store) pruneLimits(ctx context.Context, cutoff time.Time, limit int) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM workflow_slots WHERE rowid IN (SELECT rowid FROM workflow_slots
		WHERE kind = 'throttle' AND at < ? LIMIT ?)`, ms(cutoff), limit); err != nil {
		return fmt.Errorf("prune throttle slots: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM workflow_debounce WHERE rowid IN (SELECT rowid FROM workflow_debounce
		WHERE due_at < ? LIMIT ?)`, ms(cutoff), limit); err != nil {
		return fmt.Errorf("prune debounce records: %w", err)
	}
	return nil
}

// OldestQueued returns the run queued longest for a concurrency key.
func (s *Store) OldestQueued(ctx context.Context, tenantID, workflow, key string) (string, error) {
	var id string
	err := s.r.QueryRowContext(ctx, `SELECT run_id FROM workflow_slots WHERE tenant_id = ? AND workflow = ? AND kind = 'queued' AND key = ?
		ORDER BY at, run_id LIMIT 1`, tenantID, workflow, key).Scan(&id)
	return id, wrapRead("oldest queued run", err)
}

// Debounce records a key's latest event and adds the task that checks it.
func (s *Store) Debounce(ctx context.Context, d store.Debounce, t store.Task) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrapWrite("debounce", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO workflow_debounce (tenant_id, workflow, key, event_id, due_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, workflow, key) DO UPDATE SET event_id = excluded.event_id, due_at = excluded.due_at`,
		d.TenantID, d.Workflow, d.Key, d.EventID, ms(d.DueAt)); err != nil {
		return wrapWrite("debounce", err)
	}
	if err := insertTasks(ctx, tx, s.clock.Now(), []store.Task{t}); err != nil {
		return fmt.Errorf("debounce: %w", err)
	}
	return wrapWrite("debounce", tx.Commit())
}

// GetDebounce returns a key's latest event.
func (s *Store) GetDebounce(ctx context.Context, tenantID, workflow, key string) (store.Debounce, error) {
	d := store.Debounce{TenantID: tenantID, Workflow: workflow, Key: key}
	var due int64
	err := s.r.QueryRowContext(ctx, `SELECT event_id, due_at FROM workflow_debounce WHERE tenant_id = ? AND workflow = ? AND key = ?`,
		tenantID, workflow, key).Scan(&d.EventID, &due)
	d.DueAt = fromMS(due)
	return d, wrapRead("get debounce", err)
}

// ClearDebounce forgets a key's record while it is still d's event.
func (s *Store) ClearDebounce(ctx context.Context, d store.Debounce) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM workflow_debounce WHERE tenant_id = ? AND workflow = ? AND key = ? AND event_id = ?`,
		d.TenantID, d.Workflow, d.Key, d.EventID)
	return wrapWrite("clear debounce", err)
}
