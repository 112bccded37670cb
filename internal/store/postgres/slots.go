package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store"
)

// takeSlots applies a save's gates in its transaction (store.RunGate).
// Each gate's key is locked for the transaction first, in one order, so
// two nodes counting the same key's slots take turns.
func takeSlots(ctx context.Context, tx pgx.Tx, sv store.RunSave) error {
	r := sv.Run
	exec := func(q string, args ...any) error {
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("save run: slots: %w", err)
		}
		return nil
	}
	switch r.Status {
	case store.RunSucceeded, store.RunFailed, store.RunCancelled:
		return exec(`DELETE FROM workflow_slots WHERE tenant_id = $1 AND run_id = $2 AND kind IN ('concurrency', 'queued')`, r.TenantID, r.ID)
	case store.RunQueued:
		for _, g := range sv.Gates {
			if g.Kind != store.GateConcurrency {
				continue
			}
			if err := exec(`INSERT INTO workflow_slots (tenant_id, workflow, kind, key, run_id, at) VALUES ($1, $2, 'queued', $3, $4, $5)
				ON CONFLICT DO NOTHING`, r.TenantID, r.Workflow, g.Key, r.ID, ts(r.CreatedAt)); err != nil {
				return err
			}
		}
		return nil
	}
	if len(sv.Gates) == 0 {
		return nil
	}
	locks := make([]string, len(sv.Gates))
	for i, g := range sv.Gates {
		locks[i] = r.TenantID + "\x1f" + r.Workflow + "\x1f" + g.Kind + "\x1f" + g.Key
	}
	slices.Sort(locks)
	for _, l := range locks {
		if err := exec(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, l); err != nil {
			return err
		}
	}
	for _, g := range sv.Gates {
		var (
			n      int
			oldest *time.Time
			err    error
		)
		switch g.Kind {
		case store.GateConcurrency:
			// Runs queued before this one (all, for a run not queued) go
			// first.
			queuedAt := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
			err = tx.QueryRow(ctx, `SELECT at FROM workflow_slots WHERE tenant_id = $1 AND workflow = $2 AND kind = 'queued'
				AND key = $3 AND run_id = $4`, r.TenantID, r.Workflow, g.Key, r.ID).Scan(&queuedAt)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("save run: slots: %w", err)
			}
			err = tx.QueryRow(ctx, `SELECT count(*) FROM workflow_slots WHERE tenant_id = $1 AND workflow = $2 AND key = $3 AND run_id <> $4
				AND (kind = 'concurrency' OR (kind = 'queued' AND (at, run_id) < ($5, $4)))`,
				r.TenantID, r.Workflow, g.Key, r.ID, queuedAt).Scan(&n)
		case store.GateThrottle:
			if err := exec(`DELETE FROM workflow_slots WHERE tenant_id = $1 AND workflow = $2 AND kind = 'throttle' AND key = $3 AND at <= $4`,
				r.TenantID, r.Workflow, g.Key, ts(g.Since)); err != nil {
				return err
			}
			err = tx.QueryRow(ctx, `SELECT count(*), min(at) FROM workflow_slots WHERE tenant_id = $1 AND workflow = $2
				AND kind = 'throttle' AND key = $3 AND run_id <> $4`, r.TenantID, r.Workflow, g.Key, r.ID).Scan(&n, &oldest)
		default:
			return fmt.Errorf("save run: unknown gate kind %q", g.Kind)
		}
		if err != nil {
			return fmt.Errorf("save run: slots: %w", err)
		}
		if n >= g.Limit {
			le := &store.LimitError{Kind: g.Kind}
			if oldest != nil {
				le.Oldest = fromTS(*oldest)
			}
			return le
		}
	}
	for _, g := range sv.Gates {
		if err := exec(`INSERT INTO workflow_slots (tenant_id, workflow, kind, key, run_id, at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT DO NOTHING`, r.TenantID, r.Workflow, g.Kind, g.Key, r.ID, ts(r.UpdatedAt)); err != nil {
			return err
		}
	}
	return exec(`DELETE FROM workflow_slots WHERE tenant_id = $1 AND run_id = $2 AND kind = 'queued'`, r.TenantID, r.ID)
}

// pruneLimits deletes up to limit throttle slots taken, and debounce
// records due, before cutoff: long out of any window.
func (s *Store) pruneLimits(ctx context.Context, cutoff time.Time, limit int) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM workflow_slots WHERE ctid IN (SELECT ctid FROM workflow_slots
		WHERE kind = 'throttle' AND at < $1 LIMIT $2)`, cutoff, limit); err != nil {
		return fmt.Errorf("prune throttle slots: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM workflow_debounce WHERE ctid IN (SELECT ctid FROM workflow_debounce
		WHERE due_at < $1 LIMIT $2)`, cutoff, limit); err != nil {
		return fmt.Errorf("prune debounce records: %w", err)
	}
	return nil
}

// OldestQueued returns the run queued longest for a concurrency key.
func (s *Store) OldestQueued(ctx context.Context, tenantID, workflow, key string) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, `SELECT run_id FROM workflow_slots WHERE tenant_id = $1 AND workflow = $2 AND kind = 'queued' AND key = $3
		ORDER BY at, run_id LIMIT 1`, tenantID, workflow, key).Scan(&id)
	return id, wrapRead("oldest queued run", err)
}

// Debounce records a key's latest event and adds the task that checks it.
func (s *Store) Debounce(ctx context.Context, d store.Debounce, t store.Task) error {
	return s.transact(ctx, "debounce", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO workflow_debounce (tenant_id, workflow, key, event_id, due_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant_id, workflow, key) DO UPDATE SET event_id = excluded.event_id, due_at = excluded.due_at`,
			d.TenantID, d.Workflow, d.Key, d.EventID, ts(d.DueAt)); err != nil {
			return wrapWrite("debounce", err)
		}
		if err := insertTasks(ctx, tx, []store.Task{t}); err != nil {
			return fmt.Errorf("debounce: %w", err)
		}
		return nil
	})
}

// GetDebounce returns a key's latest event.
func (s *Store) GetDebounce(ctx context.Context, tenantID, workflow, key string) (store.Debounce, error) {
	d := store.Debounce{TenantID: tenantID, Workflow: workflow, Key: key}
	err := s.pool.QueryRow(ctx, `SELECT event_id, due_at FROM workflow_debounce WHERE tenant_id = $1 AND workflow = $2 AND key = $3`,
		tenantID, workflow, key).Scan(&d.EventID, &d.DueAt)
	d.DueAt = fromTS(d.DueAt)
	return d, wrapRead("get debounce", err)
}

// ClearDebounce forgets a key's record while it is still d's event.
func (s *Store) ClearDebounce(ctx context.Context, d store.Debounce) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM workflow_debounce WHERE tenant_id = $1 AND workflow = $2 AND key = $3 AND event_id = $4`,
		d.TenantID, d.Workflow, d.Key, d.EventID)
	return wrapWrite("clear debounce", err)
}
