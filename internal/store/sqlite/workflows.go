package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/groupcommit"
	"github.com/hookline/hookline/internal/store"
)

const workflowCols = `tenant_id, name, version, spec, enabled, created_at`

func scanWorkflow(sc scanner) (store.Workflow, error) {
	var w store.Workflow
	var spec string
	var created int64
	err := sc.Scan(&w.TenantID, &w.Name, &w.Version, &spec, &w.Enabled, &created)
	w.Spec, w.CreatedAt = []byte(spec), fromMS(created)
	return w, err
}

// CreateWorkflow inserts a workflow version; ErrConflict when the tenant
// has that version of the name.
func (s *Store) CreateWorkflow(ctx context.Context, w store.Workflow) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO workflows (`+workflowCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		w.TenantID, w.Name, w.Version, string(w.Spec), w.Enabled, ms(w.CreatedAt))
	return wrapWrite("create workflow", err)
}

// GetWorkflow returns one version of a workflow, the highest for version 0.
func (s *Store) GetWorkflow(ctx context.Context, tenantID, name string, version int) (store.Workflow, error) {
	return queryOne(ctx, s.r, "get workflow", scanWorkflow, `SELECT `+workflowCols+` FROM workflows
		WHERE tenant_id = ? AND name = ? AND (? = 0 OR version = ?) ORDER BY version DESC LIMIT 1`,
		tenantID, name, version, version)
}

// ListWorkflows lists the highest version of each of a tenant's workflows,
// by name.
func (s *Store) ListWorkflows(ctx context.Context, tenantID string) ([]store.Workflow, error) {
	return queryAll(ctx, s.r, "list workflows", scanWorkflow, `SELECT `+workflowCols+` FROM workflows w WHERE tenant_id = ?
		AND version = (SELECT max(version) FROM workflows WHERE tenant_id = w.tenant_id AND name = w.name) ORDER BY name`, tenantID)
}

// ListWorkflowVersions lists every version of a workflow, newest first.
func (s *Store) ListWorkflowVersions(ctx context.Context, tenantID, name string) ([]store.Workflow, error) {
	return queryAll(ctx, s.r, "list workflow versions", scanWorkflow,
		`SELECT `+workflowCols+` FROM workflows WHERE tenant_id = ? AND name = ? ORDER BY version DESC`,
		tenantID, name)
}

// SetWorkflowEnabled enables or disables every version of a workflow.
func (s *Store) SetWorkflowEnabled(ctx context.Context, tenantID, name string, enabled bool) error {
	return s.change(ctx, "set workflow enabled", `UPDATE workflows SET enabled = ? WHERE tenant_id = ? AND name = ?`, enabled, tenantID, name)
}

// DeleteWorkflow deletes every version of a workflow; its runs stay.
func (s *Store) DeleteWorkflow(ctx context.Context, tenantID, name string) error {
	return s.change(ctx, "delete workflow", `DELETE FROM workflows WHERE tenant_id = ? AND name = ?`, tenantID, name)
}

const runCols = `id, tenant_id, workflow, version, status, event_id, state, error, rev, wait_event, wait_key, wait_value, parent_id, created_at, updated_at`

func scanRun(sc scanner) (store.Run, error) {
	var r store.Run
	var state sql.NullString
	var created, updated int64
	err := sc.Scan(&r.ID, &r.TenantID, &r.Workflow, &r.Version, &r.Status, &r.EventID, &state, &r.Error, &r.Rev, &r.WaitEvent,
		&r.WaitKey, &r.WaitValue, &r.ParentID, &created, &updated)
	if state.Valid {
		r.State = []byte(state.String)
	}
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return r, err
}

// SaveRun writes a run, its step log entries, its new tasks and the
// result of the attempt that made the save in one transaction. The update
// is guarded by the revision the caller read, so of two saves from the
// same revision one fails with ErrConflict. Steps are stored under the
// run's id and tenant, whatever they carry.
func (s *Store) SaveRun(ctx context.Context, sv store.RunSave) error {
	p := &pendingSave{ctx: ctx, sv: sv}
	// Never stopped, so the one error of Do is ctx's, the save taken back
	// unwritten; a save taken into a batch is waited for.
	if err := s.runs.Do(ctx, p, time.Time{}); err != nil {
		return err
	}
	return p.err
}

// pendingSave is one SaveRun waiting in the group commit (s.runs): SQLite
// has one writer, so saves of many runs share one transaction (and one
// fsync). A save that fails is not to undo the others: the transaction is
// rolled back and the batch written again without it (see saveRuns).
type pendingSave struct {
	ctx context.Context
	sv  store.RunSave
	err error
}

// maxRunBatch bounds the saves of one transaction.
const maxRunBatch = 256

func newRunGroup(s *Store) *groupcommit.Group[*pendingSave] {
	return groupcommit.New(groupcommit.Config[*pendingSave]{Commit: s.saveRuns, MaxRows: maxRunBatch})
}

// saveRuns writes a batch of saves in one transaction. A save that fails
// (a stale revision, say) has its error and the batch is written again
// without it, from a rolled-back transaction: no savepoint per save, whose
// statement journal copied every page the save touched. A save's outcome
// depends only on the saves before it, which are the same when the batch
// is written again, so each failing save costs one more pass.
func (s *Store) saveRuns(ctx context.Context, batch []*pendingSave) {
	batch = slices.Clone(batch) // shrunk below; the caller's stays whole
	for len(batch) > 0 {
		failed := s.trySaveRuns(ctx, batch)
		if failed < 0 {
			return
		}
		batch = slices.Delete(batch, failed, failed+1)
	}
}

// trySaveRuns writes batch in one transaction, setting each save's error.
// When a save fails on its own it rolls back and returns the save's index,
// the others' errors unset; otherwise it returns -1, every save's outcome
// set.
func (s *Store) trySaveRuns(ctx context.Context, batch []*pendingSave) int {
	fail := func(err error) {
		for _, it := range batch {
			if it.err == nil {
				it.err = err
			}
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		fail(fmt.Errorf("save run: begin: %w", err))
		return -1
	}
	defer tx.Rollback()
	for i, it := range batch {
		if it.ctx.Err() != nil {
			it.err = it.ctx.Err()
			continue
		}
		if err := s.saveRun(ctx, tx, it.sv); err != nil {
			it.err = err
			if store.Fault(classify(err)) != nil {
				// The database's fault, not the save's: nothing of the
				// batch is written.
				fail(err)
				return -1
			}
			return i
		}
	}
	if err := tx.Commit(); err != nil {
		for _, it := range batch {
			it.err = fmt.Errorf("save run: commit: %w", err)
		}
	}
	return -1
}

// saveRun is one save inside a transaction.
func (s *Store) saveRun(ctx context.Context, tx *sql.Tx, sv store.RunSave) error {
	r := sv.Run
	if sv.Result != nil {
		stale, err := s.completeTasks(ctx, tx, []store.TaskResult{*sv.Result})
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
	if sv.Rev == 0 {
		if err := insertRun(ctx, tx, r); err != nil {
			return err
		}
	} else {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, state = ?, error = ?, wait_event = ?, wait_key = ?, wait_value = ?,
			updated_at = ?, rev = rev + 1 WHERE id = ? AND tenant_id = ? AND rev = ?`,
			r.Status, jsonText(r.State), r.Error, r.WaitEvent, r.WaitKey, r.WaitValue, ms(r.UpdatedAt), r.ID, r.TenantID, sv.Rev)
		if err := affected("save run: update", res, err); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return missingOrStale(ctx, tx, r.TenantID, r.ID)
			}
			return err
		}
	}
	for _, st := range sv.Steps {
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_steps (`+runStepCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (run_id, seq) DO UPDATE SET step_id = excluded.step_id, kind = excluded.kind, status = excluded.status,
			attempts = excluded.attempts, input = excluded.input, output = excluded.output, error = excluded.error,
			started_at = excluded.started_at, duration_us = excluded.duration_us`,
			r.ID, st.Seq, r.TenantID, st.StepID, st.Kind, st.Status, st.Attempts, jsonText(st.Input), jsonText(st.Output), st.Error,
			ms(st.StartedAt), st.Duration.Microseconds()); err != nil {
			return fmt.Errorf("save run: write step %d: %w", st.Seq, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_attempts (`+runAttemptCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (run_id, seq, attempt) DO UPDATE SET step_id = excluded.step_id, kind = excluded.kind, status = excluded.status,
			input = excluded.input, output = excluded.output, error = excluded.error,
			started_at = excluded.started_at, duration_us = excluded.duration_us`,
			r.ID, st.Seq, r.TenantID, st.StepID, st.Kind, st.Status, st.Attempts, jsonText(st.Input), jsonText(st.Output), st.Error,
			ms(st.StartedAt), st.Duration.Microseconds()); err != nil {
			return fmt.Errorf("save run: write attempt %d of step %d: %w", st.Attempts, st.Seq, err)
		}
	}
	for _, c := range sv.Children {
		if err := insertRun(ctx, tx, c); err != nil {
			return err
		}
	}
	for _, l := range sv.Listens {
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_listens (run_id, idx, tenant_id, pattern, wait_key, wait_value)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, r.ID, l.Idx, r.TenantID, l.Pattern, l.Key, l.Value); err != nil {
			return fmt.Errorf("save run: write listen %d: %w", l.Idx, err)
		}
	}
	if err := insertTasks(ctx, tx, s.clock.Now(), sv.Tasks); err != nil {
		return fmt.Errorf("save run: %w", err)
	}
	return nil
}

// insertRun creates a run at revision 1; ErrConflict when its id exists.
func insertRun(ctx context.Context, tx *sql.Tx, r store.Run) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO runs (`+runCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		r.ID, r.TenantID, r.Workflow, r.Version, r.Status, r.EventID, jsonText(r.State), r.Error, r.WaitEvent,
		r.WaitKey, r.WaitValue, r.ParentID, ms(r.CreatedAt), ms(r.UpdatedAt))
	if err := affected("save run: insert", res, err); err != nil {
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
func missingOrStale(ctx context.Context, tx *sql.Tx, tenantID, id string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM runs WHERE tenant_id = ? AND id = ?`, tenantID, id).Scan(&one)
	if err := wrapRead("save run: check run", err); err != nil {
		return err
	}
	return store.ErrConflict
}

// GetRun returns one of a tenant's runs.
func (s *Store) GetRun(ctx context.Context, tenantID, id string) (store.Run, error) {
	return queryOne(ctx, s.r, "get run", scanRun, `SELECT `+runCols+` FROM runs WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// ListRuns lists a tenant's runs, newest first. The WHERE clause names
// only the filters that are set, so a page deep in the list starts at its
// cursor and a workflow or a status reads its own index.
func (s *Store) ListRuns(ctx context.Context, tenantID string, q store.RunQuery) ([]store.Run, error) {
	f := where(`tenant_id = ?`, tenantID)
	f.and(q.Cursor != "", `id < ?`, q.Cursor)
	f.and(q.Workflow != "", `workflow = ?`, q.Workflow)
	f.and(q.Status != "", `status = ?`, q.Status)
	f.and(q.Parent != "", `parent_id = ?`, q.Parent)
	return queryAll(ctx, s.r, "list runs", scanRun, `SELECT `+runCols+` FROM runs WHERE `+f.String()+` ORDER BY id DESC LIMIT ?`,
		append(f.args, q.Page.Size())...)
}

// WaitingRuns lists a tenant's runs waiting for an event, oldest first.
// waitingCols leave out the state: routing needs only ids and patterns,
// and states can be large.
var waitingCols = strings.Replace(runCols, "state", "NULL", 1)

func (s *Store) WaitingRuns(ctx context.Context, tenantID string) ([]store.Run, error) {
	return queryAll(ctx, s.r, "list waiting runs", scanRun, `SELECT `+waitingCols+` FROM runs INDEXED BY runs_waiting
		WHERE tenant_id = ? AND status = 'waiting' AND wait_event <> '' ORDER BY id`, tenantID)
}

// WaitingRunsFor lists a tenant's runs waiting for a key's value, oldest
// first, without their state.
func (s *Store) WaitingRunsFor(ctx context.Context, tenantID, key, value string) ([]store.Run, error) {
	return queryAll(ctx, s.r, "list waiting runs by key", scanRun, `SELECT `+waitingCols+` FROM runs INDEXED BY runs_wait_key
		WHERE tenant_id = ? AND wait_key = ? AND wait_value = ? AND status = 'waiting' AND wait_key <> '' ORDER BY id`,
		tenantID, key, value)
}

// ListeningRuns lists the listens of a tenant's running and waiting
// runs.
func (s *Store) ListeningRuns(ctx context.Context, tenantID string) ([]store.RunListen, error) {
	return queryAll(ctx, s.r, "list listening runs", func(sc scanner) (store.RunListen, error) {
		var l store.RunListen
		err := sc.Scan(&l.RunID, &l.TenantID, &l.Idx, &l.Pattern, &l.Key, &l.Value, &l.EventID)
		return l, err
	}, `SELECT l.run_id, l.tenant_id, l.idx, l.pattern, l.wait_key, l.wait_value, r.event_id FROM run_listens l
		JOIN runs r ON r.id = l.run_id WHERE l.tenant_id = ? AND r.status IN ('running', 'waiting', 'queued') ORDER BY l.run_id, l.idx`, tenantID)
}

// BufferEvent keeps an event for the keyed waits that start later.
func (s *Store) BufferEvent(ctx context.Context, b store.BufferedEvent) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO wait_buffer (tenant_id, wait_key, wait_value, event_id, event_type, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, b.TenantID, b.Key, b.Value, b.EventID, b.EventType, ms(b.CreatedAt))
	return wrapWrite("buffer event", err)
}

// BufferedEvents lists the events kept for a key and value since a time,
// oldest first.
func (s *Store) BufferedEvents(ctx context.Context, tenantID, key, value string, since time.Time) ([]store.BufferedEvent, error) {
	return queryAll(ctx, s.r, "list buffered events", func(sc scanner) (store.BufferedEvent, error) {
		var b store.BufferedEvent
		var created int64
		err := sc.Scan(&b.TenantID, &b.Key, &b.Value, &b.EventID, &b.EventType, &created)
		b.CreatedAt = fromMS(created)
		return b, err
	}, `SELECT tenant_id, wait_key, wait_value, event_id, event_type, created_at FROM wait_buffer
		WHERE tenant_id = ? AND wait_key = ? AND wait_value = ? AND created_at >= ? ORDER BY created_at, event_id LIMIT ?`,
		tenantID, key, value, ms(since), store.MaxBuffered)
}

const runStepCols = `run_id, seq, tenant_id, step_id, kind, status, attempts, input, output, error, started_at, duration_us`

func scanRunStep(sc scanner) (store.RunStep, error) {
	var st store.RunStep
	var input, output sql.NullString
	var started, durUS int64
	err := sc.Scan(&st.RunID, &st.Seq, &st.TenantID, &st.StepID, &st.Kind, &st.Status, &st.Attempts, &input, &output, &st.Error,
		&started, &durUS)
	if input.Valid {
		st.Input = []byte(input.String)
	}
	if output.Valid {
		st.Output = []byte(output.String)
	}
	st.StartedAt, st.Duration = fromMS(started), time.Duration(durUS)*time.Microsecond
	return st, err
}

// ListRunSteps lists a run's step log by seq.
func (s *Store) ListRunSteps(ctx context.Context, tenantID, runID string) ([]store.RunStep, error) {
	return queryAll(ctx, s.r, "list run steps", scanRunStep, `SELECT `+runStepCols+` FROM run_steps WHERE tenant_id = ? AND run_id = ? ORDER BY seq`,
		tenantID, runID)
}

// runAttemptCols are runStepCols with the attempt's number for attempts,
// so scanRunStep reads both.
var runAttemptCols = strings.Replace(runStepCols, "attempts", "attempt", 1)

// ListRunAttempts lists every attempt of a run's steps by seq and attempt.
func (s *Store) ListRunAttempts(ctx context.Context, tenantID, runID string) ([]store.RunStep, error) {
	return queryAll(ctx, s.r, "list run attempts", scanRunStep, `SELECT `+runAttemptCols+` FROM run_attempts
		WHERE tenant_id = ? AND run_id = ? ORDER BY seq, attempt`, tenantID, runID)
}

// PruneRuns deletes the oldest runs that ended before cutoff; their step
// logs go with them (ON DELETE CASCADE).
func (s *Store) PruneRuns(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM runs WHERE id IN (SELECT id FROM runs INDEXED BY runs_ended
		WHERE status IN ('succeeded', 'failed', 'cancelled') AND updated_at < ? ORDER BY updated_at, id LIMIT ?)`, ms(cutoff), limit)
	if err != nil {
		return 0, fmt.Errorf("prune runs: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune runs: %w", err)
	}
	res, err = s.w.ExecContext(ctx, `DELETE FROM wait_buffer WHERE rowid IN (SELECT rowid FROM wait_buffer INDEXED BY wait_buffer_created
		WHERE created_at < ? ORDER BY created_at LIMIT ?)`, ms(cutoff), limit)
	if err != nil {
		return int(n), fmt.Errorf("prune buffered events: %w", err)
	}
	if err := s.pruneLimits(ctx, cutoff, limit); err != nil {
		return int(n), err
	}
	m, err := res.RowsAffected()
	return int(n + m), err
}
