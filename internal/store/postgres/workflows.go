package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookline/hookline/internal/store"
)

const workflowCols = `tenant_id, name, version, spec, enabled, created_at`

func scanWorkflow(r pgx.Row) (store.Workflow, error) {
	var w store.Workflow
	err := r.Scan(&w.TenantID, &w.Name, &w.Version, &w.Spec, &w.Enabled, &w.CreatedAt)
	w.CreatedAt = fromTS(w.CreatedAt)
	return w, err
}

// CreateWorkflow inserts a workflow version; ErrConflict when the tenant
// has that version of the name.
func (s *Store) CreateWorkflow(ctx context.Context, w store.Workflow) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO workflows (`+workflowCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		w.TenantID, w.Name, w.Version, configJSON(w.Spec), w.Enabled, ts(w.CreatedAt))
	return wrapWrite("create workflow", err)
}

// GetWorkflow returns one version of a workflow, the highest for version 0.
func (s *Store) GetWorkflow(ctx context.Context, tenantID, name string, version int) (store.Workflow, error) {
	return queryOne(ctx, s.pool, "get workflow", scanWorkflow, `SELECT `+workflowCols+` FROM workflows
		WHERE tenant_id = $1 AND name = $2 AND ($3 = 0 OR version = $3) ORDER BY version DESC LIMIT 1`, tenantID, name, version)
}

// ListWorkflows lists the highest version of each of a tenant's workflows,
// by name.
func (s *Store) ListWorkflows(ctx context.Context, tenantID string) ([]store.Workflow, error) {
	return queryAll(ctx, s.pool, "list workflows", scanWorkflow, `SELECT DISTINCT ON (name) `+workflowCols+` FROM workflows WHERE tenant_id = $1
		ORDER BY name, version DESC`, tenantID)
}

// ListWorkflowVersions lists every version of a workflow, newest first.
func (s *Store) ListWorkflowVersions(ctx context.Context, tenantID, name string) ([]store.Workflow, error) {
	return queryAll(ctx, s.pool, "list workflow versions", scanWorkflow,
		`SELECT `+workflowCols+` FROM workflows WHERE tenant_id = $1 AND name = $2 ORDER BY version DESC`,
		tenantID, name)
}

// SetWorkflowEnabled enables or disables every version of a workflow.
func (s *Store) SetWorkflowEnabled(ctx context.Context, tenantID, name string, enabled bool) error {
	return s.change(ctx, "set workflow enabled", `UPDATE workflows SET enabled = $1 WHERE tenant_id = $2 AND name = $3`, enabled, tenantID, name)
}

// DeleteWorkflow deletes every version of a workflow; its runs stay.
func (s *Store) DeleteWorkflow(ctx context.Context, tenantID, name string) error {
	return s.change(ctx, "delete workflow", `DELETE FROM workflows WHERE tenant_id = $1 AND name = $2`, tenantID, name)
}

const runCols = `id, tenant_id, workflow, version, status, event_id, state, error, rev, wait_event, wait_key, wait_value, parent_id, created_at, updated_at`

func scanRun(r pgx.Row) (store.Run, error) {
	var run store.Run
	err := r.Scan(&run.ID, &run.TenantID, &run.Workflow, &run.Version, &run.Status, &run.EventID, &run.State, &run.Error, &run.Rev,
		&run.WaitEvent, &run.WaitKey, &run.WaitValue, &run.ParentID, &run.CreatedAt, &run.UpdatedAt)
	run.CreatedAt, run.UpdatedAt = fromTS(run.CreatedAt), fromTS(run.UpdatedAt)
	return run, err
}

// SaveRun writes a run, its step log entries, its new tasks and the result
// of the attempt that made the save in one transaction, in one batch
// (writeRun) but for a run under gates, whose slots are counted first. The
// update is guarded by the revision the caller read; under READ COMMITTED
// a save that waited on a concurrent one re-checks the revision it
// committed and matches no row, so of two saves from the same revision one
// fails with ErrConflict. Steps are stored under the run's id and tenant,
// whatever they carry.
func (s *Store) SaveRun(ctx context.Context, sv store.RunSave) error {
	return s.transact(ctx, "save run", func(tx pgx.Tx) error {
		if len(sv.Gates) == 0 {
			return writeRun(ctx, tx, sv, true)
		}
		if sv.Result != nil {
			// The task before the slots: the writer's Commit locks tasks
			// alone, in id order.
			stale, err := completeTasks(ctx, tx, []store.TaskResult{*sv.Result})
			if err != nil {
				return fmt.Errorf("save run: %w", err)
			}
			if len(stale) > 0 {
				return store.ErrStale
			}
		}
		if err := takeSlots(ctx, tx, sv); err != nil {
			return err
		}
		rest := sv
		rest.Result = nil // written above
		return writeRun(ctx, tx, rest, false)
	})
}

// writeRun is SaveRun inside tx once slots under gates are taken: every
// statement in one batch, one round trip, its answers read in order. With
// slots it also frees the slots of a run that ended (a run under no gate
// holds none but those).
func writeRun(ctx context.Context, tx pgx.Tx, sv store.RunSave, slots bool) error {
	r := sv.Run
	var b pgx.Batch
	var readStale func(pgx.BatchResults) ([]string, error)
	if sv.Result != nil {
		// The task before the run: the writer's Commit locks tasks
		// alone, in id order.
		readStale = queueComplete(&b, []store.TaskResult{*sv.Result})
	}
	terminal := slots && (r.Status == store.RunSucceeded || r.Status == store.RunFailed || r.Status == store.RunCancelled)
	if terminal {
		b.Queue(`DELETE FROM workflow_slots WHERE tenant_id = $1 AND run_id = $2 AND kind IN ('concurrency', 'queued')`, r.TenantID, r.ID)
	}
	if sv.Rev == 0 {
		queueInsertRun(&b, r)
	} else {
		b.Queue(`UPDATE runs SET status = $1, state = $2, error = $3, wait_event = $4, wait_key = $5, wait_value = $6,
			updated_at = $7, rev = rev + 1 WHERE id = $8 AND tenant_id = $9 AND rev = $10`,
			r.Status, r.State, r.Error, r.WaitEvent, r.WaitKey, r.WaitValue, ts(r.UpdatedAt), r.ID, r.TenantID, sv.Rev)
	}
	queueSteps(&b, r, sv.Steps)
	for _, c := range sv.Children {
		queueInsertRun(&b, c)
	}
	for _, l := range sv.Listens {
		b.Queue(`INSERT INTO run_listens (run_id, idx, tenant_id, pattern, wait_key, wait_value)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, r.ID, l.Idx, r.TenantID, l.Pattern, l.Key, l.Value)
	}
	if len(sv.Tasks) > 0 {
		queueInsertTasks(&b, sv.Tasks, false)
	}
	stale := false // the run's revision moved on: known once the batch is read
	err := sendBatch(ctx, tx, &b, "save run", func(br pgx.BatchResults) error {
		if readStale != nil {
			ids, err := readStale(br)
			if err != nil {
				return fmt.Errorf("save run: %w", err)
			}
			if len(ids) > 0 {
				return store.ErrStale
			}
		}
		if terminal {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("save run: slots: %w", err)
			}
		}
		tag, err := br.Exec()
		if sv.Rev == 0 {
			if err := insertedRun(tag, err); err != nil {
				return err
			}
		} else if err := affected("save run: update", tag, err); err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			// The rest of the batch ran on a stale save: its answers are
			// read and dropped, and the transaction is rolled back.
			stale = true
			rest := 2*len(sv.Steps) + len(sv.Children) + len(sv.Listens)
			if len(sv.Tasks) > 0 {
				rest++
			}
			for range rest {
				_, _ = br.Exec()
			}
			return nil
		}
		for range 2 * len(sv.Steps) {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("save run: write steps: %w", err)
			}
		}
		for range sv.Children {
			if err := insertedRun(br.Exec()); err != nil {
				return err
			}
		}
		for i := range sv.Listens {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("save run: write listen %d: %w", sv.Listens[i].Idx, err)
			}
		}
		if len(sv.Tasks) > 0 {
			if _, err := br.Exec(); err != nil {
				return wrapWrite("save run: insert tasks", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if stale {
		return missingOrStale(ctx, tx, r.TenantID, r.ID)
	}
	return nil
}

// queueSteps queues the step log entries of a save: each step's row and
// its attempt's.
func queueSteps(b *pgx.Batch, r store.Run, steps []store.RunStep) {
	for _, st := range steps {
		b.Queue(`INSERT INTO run_steps (`+runStepCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (run_id, seq) DO UPDATE SET step_id = excluded.step_id, kind = excluded.kind, status = excluded.status,
			attempts = excluded.attempts, input = excluded.input, output = excluded.output, error = excluded.error,
			started_at = excluded.started_at, duration_us = excluded.duration_us`,
			r.ID, st.Seq, r.TenantID, st.StepID, st.Kind, st.Status, st.Attempts, st.Input, st.Output, st.Error,
			ts(st.StartedAt), st.Duration.Microseconds())
		b.Queue(`INSERT INTO run_attempts (`+runAttemptCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (run_id, seq, attempt) DO UPDATE SET step_id = excluded.step_id, kind = excluded.kind, status = excluded.status,
			input = excluded.input, output = excluded.output, error = excluded.error,
			started_at = excluded.started_at, duration_us = excluded.duration_us`,
			r.ID, st.Seq, r.TenantID, st.StepID, st.Kind, st.Status, st.Attempts, st.Input, st.Output, st.Error,
			ts(st.StartedAt), st.Duration.Microseconds())
	}
}

// queueInsertRun queues the insert of a run at revision 1; insertedRun
// reads it.
func queueInsertRun(b *pgx.Batch, r store.Run) {
	b.Queue(`INSERT INTO runs (`+runCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (id) DO NOTHING`,
		r.ID, r.TenantID, r.Workflow, r.Version, r.Status, r.EventID, r.State, r.Error, r.WaitEvent, r.WaitKey, r.WaitValue,
		r.ParentID, ts(r.CreatedAt), ts(r.UpdatedAt))
}

// insertedRun is the outcome of a run's insert: ErrConflict when its id
// existed.
func insertedRun(tag pgconn.CommandTag, err error) error {
	if err := affected("save run: insert", tag, err); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.ErrConflict
		}
		return err
	}
	return nil
}

// missingOrStale tells why a guarded run update matched no row: ErrNotFound
// when the tenant has no such run, ErrConflict when another save moved its
// revision on.
func missingOrStale(ctx context.Context, tx pgx.Tx, tenantID, id string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM runs WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&one)
	if err := wrapRead("save run: check run", err); err != nil {
		return err
	}
	return store.ErrConflict
}

// GetRun returns one of a tenant's runs.
func (s *Store) GetRun(ctx context.Context, tenantID, id string) (store.Run, error) {
	return queryOne(ctx, s.pool, "get run", scanRun, `SELECT `+runCols+` FROM runs WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// ListRuns lists a tenant's runs, newest first.
func (s *Store) ListRuns(ctx context.Context, tenantID string, q store.RunQuery) ([]store.Run, error) {
	f := where(`tenant_id = $`, tenantID)
	f.and(q.Cursor != "", `id < $`, q.Cursor)
	f.and(q.Workflow != "", `workflow = $`, q.Workflow)
	f.and(q.Status != "", `status = $`, q.Status)
	f.and(q.Parent != "", `parent_id = $`, q.Parent)
	return queryAll(ctx, s.pool, "list runs", scanRun, `SELECT `+runCols+` FROM runs WHERE `+f.String()+
		` ORDER BY id DESC`+f.limit(q.Page.Size()), f.args...)
}

// WaitingRuns lists a tenant's runs waiting for an event, oldest first.
// waitingCols leave out the state: routing needs only ids and patterns,
// and states can be large.
var waitingCols = strings.Replace(runCols, "state", "NULL", 1)

func (s *Store) WaitingRuns(ctx context.Context, tenantID string) ([]store.Run, error) {
	return queryAll(ctx, s.pool, "list waiting runs", scanRun, `SELECT `+waitingCols+` FROM runs
		WHERE tenant_id = $1 AND status = 'waiting' AND wait_event <> '' ORDER BY id`, tenantID)
}

// WaitingRunsFor lists a tenant's runs waiting for a key's value, oldest
// first, without their state.
func (s *Store) WaitingRunsFor(ctx context.Context, tenantID, key, value string) ([]store.Run, error) {
	return queryAll(ctx, s.pool, "list waiting runs by key", scanRun, `SELECT `+waitingCols+` FROM runs
		WHERE tenant_id = $1 AND wait_key = $2 AND wait_value = $3 AND status = 'waiting' AND wait_key <> '' ORDER BY id`,
		tenantID, key, value)
}

// ListeningRuns lists the listens of a tenant's running and waiting
// runs.
func (s *Store) ListeningRuns(ctx context.Context, tenantID string) ([]store.RunListen, error) {
	return queryAll(ctx, s.pool, "list listening runs", func(r pgx.Row) (store.RunListen, error) {
		var l store.RunListen
		err := r.Scan(&l.RunID, &l.TenantID, &l.Idx, &l.Pattern, &l.Key, &l.Value, &l.EventID)
		return l, err
	}, `SELECT l.run_id, l.tenant_id, l.idx, l.pattern, l.wait_key, l.wait_value, r.event_id FROM run_listens l
		JOIN runs r ON r.id = l.run_id WHERE l.tenant_id = $1 AND r.status IN ('running', 'waiting', 'queued') ORDER BY l.run_id, l.idx`, tenantID)
}

// BufferEvent keeps an event for the keyed waits that start later.
func (s *Store) BufferEvent(ctx context.Context, b store.BufferedEvent) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO wait_buffer (tenant_id, wait_key, wait_value, event_id, event_type, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, b.TenantID, b.Key, b.Value, b.EventID, b.EventType, ts(b.CreatedAt))
	return wrapWrite("buffer event", err)
}

// BufferedEvents lists the events kept for a key and value since a time,
// oldest first.
func (s *Store) BufferedEvents(ctx context.Context, tenantID, key, value string, since time.Time) ([]store.BufferedEvent, error) {
	return queryAll(ctx, s.pool, "list buffered events", func(r pgx.Row) (store.BufferedEvent, error) {
		var b store.BufferedEvent
		err := r.Scan(&b.TenantID, &b.Key, &b.Value, &b.EventID, &b.EventType, &b.CreatedAt)
		b.CreatedAt = fromTS(b.CreatedAt)
		return b, err
	}, `SELECT tenant_id, wait_key, wait_value, event_id, event_type, created_at FROM wait_buffer
		WHERE tenant_id = $1 AND wait_key = $2 AND wait_value = $3 AND created_at >= $4 ORDER BY created_at, event_id LIMIT $5`,
		tenantID, key, value, ts(since), store.MaxBuffered)
}

const runStepCols = `run_id, seq, tenant_id, step_id, kind, status, attempts, input, output, error, started_at, duration_us`

func scanRunStep(r pgx.Row) (store.RunStep, error) {
	var st store.RunStep
	var durUS int64
	err := r.Scan(&st.RunID, &st.Seq, &st.TenantID, &st.StepID, &st.Kind, &st.Status, &st.Attempts, &st.Input, &st.Output,
		&st.Error, &st.StartedAt, &durUS)
	st.StartedAt, st.Duration = fromTS(st.StartedAt), time.Duration(durUS)*time.Microsecond
	return st, err
}

// ListRunSteps lists a run's step log by seq.
func (s *Store) ListRunSteps(ctx context.Context, tenantID, runID string) ([]store.RunStep, error) {
	return queryAll(ctx, s.pool, "list run steps", scanRunStep, `SELECT `+runStepCols+` FROM run_steps WHERE tenant_id = $1 AND run_id = $2 ORDER BY seq`,
		tenantID, runID)
}

// runAttemptCols are runStepCols with the attempt's number for attempts,
// so scanRunStep reads both.
var runAttemptCols = strings.Replace(runStepCols, "attempts", "attempt", 1)

// ListRunAttempts lists every attempt of a run's steps by seq and attempt.
func (s *Store) ListRunAttempts(ctx context.Context, tenantID, runID string) ([]store.RunStep, error) {
	return queryAll(ctx, s.pool, "list run attempts", scanRunStep, `SELECT `+runAttemptCols+` FROM run_attempts
		WHERE tenant_id = $1 AND run_id = $2 ORDER BY seq, attempt`, tenantID, runID)
}

// PruneRuns deletes the oldest runs that ended before cutoff; their step
// logs go with them (ON DELETE CASCADE).
func (s *Store) PruneRuns(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM runs WHERE id IN (SELECT id FROM runs
		WHERE status IN ('succeeded', 'failed', 'cancelled') AND updated_at < $1 ORDER BY updated_at, id LIMIT $2)`, cutoff, limit)
	if err != nil {
		return 0, fmt.Errorf("prune runs: %w", err)
	}
	buf, err := s.pool.Exec(ctx, `DELETE FROM wait_buffer WHERE ctid IN (SELECT ctid FROM wait_buffer
		WHERE created_at < $1 ORDER BY created_at LIMIT $2)`, cutoff, limit)
	if err != nil {
		return int(tag.RowsAffected()), fmt.Errorf("prune buffered events: %w", err)
	}
	if err := s.pruneLimits(ctx, cutoff, limit); err != nil {
		return int(tag.RowsAffected() + buf.RowsAffected()), err
	}
	return int(tag.RowsAffected() + buf.RowsAffected()), nil
}
