package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/internal/column"
)

const taskCols = `t.id, t.tenant_id, t.event_id, t.event_type, t.kind, t.destination_id, t.status, t.attempts,
	t.next_at, t.lease_until, t.lease_owner, t.lease_token, t.last_error, t.created_at, t.updated_at`

func scanTask(sc scanner, extra ...any) (store.Task, error) {
	var t store.Task
	var next, lease, created, updated int64
	dest := append([]any{&t.ID, &t.TenantID, &t.EventID, &t.EventType, &t.Kind, &t.DestinationID, &t.Status, &t.Attempts,
		&next, &lease, &t.LeaseOwner, &t.LeaseToken, &t.LastError, &created, &updated}, extra...)
	err := sc.Scan(dest...)
	t.NextAt, t.LeaseUntil, t.CreatedAt, t.UpdatedAt = fromMS(next), fromMS(lease), fromMS(created), fromMS(updated)
	return t, err
}

func scanTaskPlain(sc scanner) (store.Task, error) { return scanTask(sc) }

// scanTaskWithEvent scans taskCols followed by the event's columns.
func scanTaskWithEvent(sc scanner) (store.Task, error) {
	var e event.Event
	var occurred, created int64
	t, err := scanTask(sc, &e.Source, &e.Data, &occurred, &e.IdempotencyKey, &created, &e.Traceparent)
	if err != nil {
		return t, err
	}
	e.ID, e.TenantID, e.Type = t.EventID, t.TenantID, t.EventType
	e.OccurredAt, e.CreatedAt = fromMS(occurred), fromMS(created)
	t.Event = &e
	return t, nil
}

// tasksWithEvents loads tasks by id, each with its event, in next_at order.
func tasksWithEvents(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, ids []string) ([]store.Task, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT `+taskCols+`, e.source, e.data, e.occurred_at, coalesce(e.idempotency_key, ''), e.created_at, e.traceparent
		FROM tasks t JOIN events e ON e.id = t.event_id WHERE t.id IN (`+placeholders(len(ids))+`) ORDER BY t.next_at, t.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("load tasks: %w", err)
	}
	return collect(rows, scanTaskWithEvent)
}

// claimSet is the SET clause of a claim by owner (the first parameter
// twice): a claim by another holder than the task's last gives it a new
// token (see store.TaskLease).
const claimSet = `lease_token = CASE WHEN lease_owner = ? THEN lease_token ELSE lease_token + 1 END, lease_owner = ?`

// ClaimTasks leases due tasks to c.Owner. Lease times are the store's
// clock: SQLite serves one process, whose clock is the database's.
func (s *Store) ClaimTasks(ctx context.Context, c store.Claim) ([]store.Task, error) {
	return inTx(ctx, s, "claim tasks", func(tx *sql.Tx) ([]store.Task, error) {
		now := s.clock.Now()
		rows, err := tx.QueryContext(ctx, `UPDATE tasks SET lease_until = ?, `+claimSet+` WHERE id IN (
				SELECT id FROM tasks WHERE status IN ('pending', 'retrying') AND next_at <= ? AND lease_until <= ?
				AND destination_id NOT IN (SELECT value FROM json_each(?))
				ORDER BY next_at LIMIT ?)
			RETURNING id`, ms(now.Add(c.Lease)), c.Owner, c.Owner, ms(c.Now), ms(now), toJSON(orEmptySlice(c.Exclude)), c.Limit)
		if err != nil {
			return nil, fmt.Errorf("claim tasks: %w", err)
		}
		ids, err := collect(rows, func(sc scanner) (id string, err error) { return id, sc.Scan(&id) })
		if err != nil {
			return nil, fmt.Errorf("claim tasks: %w", err)
		}
		ts, err := tasksWithEvents(ctx, tx, ids)
		if err != nil {
			return nil, fmt.Errorf("claim tasks: %w", err)
		}
		return ts, nil
	})
}

// leaseJSON encodes leases as one JSON object, task id → token, for
// json_each: one bound parameter however many leases.
func leaseJSON(ls []store.TaskLease) string {
	m := make(map[string]int64, len(ls))
	for _, l := range ls {
		m[l.ID] = l.Token
	}
	return toJSON(m)
}

func orEmptySlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// OldestUnfinished returns a destination's oldest unfinished task.
func (s *Store) OldestUnfinished(ctx context.Context, kind, destinationID string) (store.Task, error) {
	return queryOne(ctx, s.r, "oldest unfinished task", scanTaskPlain, `SELECT `+taskCols+` FROM tasks t
		WHERE t.destination_id = ? AND t.kind = ? AND t.status IN ('pending', 'retrying') ORDER BY t.id LIMIT 1`, destinationID, kind)
}

// Prune deletes old events whose tasks are all finished, with their tasks
// and attempts, at most limit events per call.
func (s *Store) Prune(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return inTx(ctx, s, "prune", func(tx *sql.Tx) (int, error) {
		rows, err := tx.QueryContext(ctx, `SELECT e.id FROM events e WHERE e.created_at < ? AND NOT EXISTS (
			SELECT 1 FROM tasks t WHERE t.event_id = e.id AND t.status IN ('pending', 'retrying')) ORDER BY e.created_at LIMIT ?`,
			ms(cutoff), limit)
		if err != nil {
			return 0, fmt.Errorf("prune: select: %w", err)
		}
		ids, err := collect(rows, func(sc scanner) (id string, err error) { return id, sc.Scan(&id) })
		if err != nil || len(ids) == 0 {
			return 0, err
		}
		list := toJSON(ids)
		for _, q := range []string{
			`DELETE FROM attempts WHERE task_id IN (SELECT id FROM tasks WHERE event_id IN (SELECT value FROM json_each(?)))`,
			`DELETE FROM tasks WHERE event_id IN (SELECT value FROM json_each(?))`,
			`DELETE FROM queue_messages WHERE event_id IN (SELECT value FROM json_each(?))`,
			`DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))`,
		} {
			if _, err := tx.ExecContext(ctx, q, list); err != nil {
				return 0, fmt.Errorf("prune: %w", err)
			}
		}
		return len(ids), nil
	})
}

// ExtendLeases renews the leases still held under their tokens and
// reports those another claim took over.
func (s *Store) ExtendLeases(ctx context.Context, ls []store.TaskLease, d time.Duration) ([]string, error) {
	if len(ls) == 0 {
		return nil, nil
	}
	return inTx(ctx, s, "extend leases", func(tx *sql.Tx) ([]string, error) {
		held := leaseJSON(ls)
		if _, err := tx.ExecContext(ctx, `UPDATE tasks SET lease_until = ? FROM json_each(?) AS l
			WHERE tasks.id = l.key AND tasks.lease_token = l.value AND tasks.status IN ('pending', 'retrying')`,
			ms(s.clock.Now().Add(d)), held); err != nil {
			return nil, fmt.Errorf("extend leases: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT t.id FROM tasks t JOIN json_each(?) AS l ON t.id = l.key WHERE t.lease_token <> l.value`, held)
		if err != nil {
			return nil, fmt.Errorf("extend leases: find lost: %w", err)
		}
		lost, err := collect(rows, func(sc scanner) (id string, err error) { return id, sc.Scan(&id) })
		if err != nil {
			return nil, fmt.Errorf("extend leases: find lost: %w", err)
		}
		return lost, nil
	})
}

// ResetLeases drops every lease.
func (s *Store) ResetLeases(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE tasks SET lease_until = 0 WHERE lease_until <> 0`); err != nil {
		return fmt.Errorf("reset leases: %w", err)
	}
	return nil
}

// ReleaseLeases drops the leases owner holds on unfinished tasks.
func (s *Store) ReleaseLeases(ctx context.Context, owner string) (int, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE tasks SET lease_until = 0
		WHERE lease_owner = ? AND lease_until <> 0 AND status IN ('pending', 'retrying')`, owner)
	if err != nil {
		return 0, fmt.Errorf("release leases: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ReleaseTasks drops leases still held under their tokens, so the tasks
// can be claimed again at once.
func (s *Store) ReleaseTasks(ctx context.Context, ls []store.TaskLease) error {
	if len(ls) == 0 {
		return nil
	}
	_, err := s.w.ExecContext(ctx, `UPDATE tasks SET lease_until = 0 FROM json_each(?) AS l
		WHERE tasks.id = l.key AND tasks.lease_token = l.value`, leaseJSON(ls))
	return wrapWrite("release tasks", err)
}

// CompleteTasks records, in one transaction, the results whose task is
// still held under their token and waits for exactly their attempt; it
// reports the others as stale.
func (s *Store) CompleteTasks(ctx context.Context, rs []store.TaskResult) ([]string, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	_, stale, err := s.Commit(ctx, nil, rs)
	return stale, err
}

// completeTasks is CompleteTasks inside tx.
func (s *Store) completeTasks(ctx context.Context, tx *sql.Tx, rs []store.TaskResult) ([]string, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	var stale []string
	for _, r := range rs {
		a := r.Attempt
		res, err := tx.ExecContext(ctx, sqlCompleteTask,
			r.Status, a.Number, ms(r.NextAt), r.LastError, ms(a.StartedAt.Add(a.Duration)), r.TaskID, r.Token, a.Number-1)
		if err != nil {
			return nil, fmt.Errorf("complete tasks: update task: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("complete tasks: update task: %w", err)
		} else if n == 0 {
			stale = append(stale, r.TaskID)
			continue
		}
		if _, err := tx.ExecContext(ctx, sqlInsertAttempt,
			a.ID, r.TaskID, a.TenantID, a.Number, ms(a.StartedAt), a.Duration.Microseconds(), a.Outcome, a.RequestURL,
			headersJSON(a.RequestHeaders), a.RequestBody, a.ResponseStatus, headersJSON(a.ResponseHeaders),
			a.ResponseBody, a.Error, a.Kind, string(a.Detail)); err != nil {
			return nil, fmt.Errorf("complete tasks: insert attempt: %w", err)
		}
	}
	return stale, nil
}

// headersJSON encodes a map of headers as a JSON object: {} for none,
// without encoding anything.
func headersJSON(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	return toJSON(m)
}

// RequeueTasks makes a tenant's tasks due now, leased to owner for lease
// or, with a zero lease, unleased.
func (s *Store) RequeueTasks(ctx context.Context, tenantID string, ids []string, now time.Time, lease time.Duration, owner string) ([]store.Task, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return inTx(ctx, s, "requeue tasks", func(tx *sql.Tx) ([]store.Task, error) {
		q, args := `UPDATE tasks SET status = 'pending', next_at = ?, updated_at = ?, lease_until = 0 WHERE tenant_id = ? AND id = ?`,
			[]any{ms(now), ms(now)}
		if lease > 0 {
			q = `UPDATE tasks SET status = 'pending', next_at = ?, updated_at = ?, lease_until = ?, ` + claimSet + `
				WHERE tenant_id = ? AND id = ?`
			args = append(args, ms(s.clock.Now().Add(lease)), owner, owner)
		}
		var found []string
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, q, append(args[:len(args):len(args)], tenantID, id)...)
			if err != nil {
				return nil, fmt.Errorf("requeue tasks: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				found = append(found, id)
			}
		}
		ts, err := tasksWithEvents(ctx, tx, found)
		if err != nil {
			return nil, fmt.Errorf("requeue tasks: %w", err)
		}
		return ts, nil
	})
}

// AddTasks inserts tasks for existing events.
func (s *Store) AddTasks(ctx context.Context, ts []store.Task) error {
	return s.transact(ctx, "add tasks", func(tx *sql.Tx) error {
		if err := insertTasks(ctx, tx, s.clock.Now(), ts); err != nil {
			return fmt.Errorf("add tasks: %w", err)
		}
		return nil
	})
}

// GetTask returns one of a tenant's tasks.
func (s *Store) GetTask(ctx context.Context, tenantID, id string) (store.Task, error) {
	return queryOne(ctx, s.r, "get task", scanTaskPlain, `SELECT `+taskCols+` FROM tasks t WHERE t.tenant_id = ? AND t.id = ?`, tenantID, id)
}

// ListTasks lists a tenant's tasks, newest first.
func (s *Store) ListTasks(ctx context.Context, tenantID string, q store.TaskQuery) ([]store.Task, error) {
	order, cmpOp := "DESC", "<"
	if q.Oldest {
		order, cmpOp = "ASC", ">"
	}
	// Only the filters given are in the query, so SQLite plans for them:
	// a "? = '' OR t.id < ?" term hides the cursor's range, and a page
	// deep in a long list read every row before it. A status other than
	// succeeded reads tasks_tenant_status, or tasks_destination_status
	// with a destination: partial indexes whose term the query must hold
	// as written. With a destination or an event the tenant is checked on
	// their rows (+ keeps SQLite off the tenant's indexes, which would
	// read the tenant's tasks to find theirs).
	rare := q.Status != "" && q.Status != store.StatusSucceeded
	tenant := "t.tenant_id = ?"
	if q.DestinationID != "" || q.EventID != "" {
		tenant = "+t.tenant_id = ?"
	}
	f := where(tenant, tenantID)
	f.and(q.Cursor != "", "t.id "+cmpOp+" ?", q.Cursor)
	f.and(q.Kind != "", "t.kind = ?", q.Kind)
	f.and(q.DestinationID != "", "t.destination_id = ?", q.DestinationID)
	f.and(q.EventID != "", "t.event_id = ?", q.EventID)
	f.and(q.Status != "", "t.status = ?", q.Status)
	if rare {
		f.conds = append(f.conds, "t.status <> 'succeeded'")
	}
	f.and(!q.UpdatedSince.IsZero(), "t.updated_at >= ?", ms(q.UpdatedSince))
	return queryAll(ctx, s.r, "list tasks", scanTaskPlain, `SELECT `+taskCols+` FROM tasks t
		WHERE `+f.String()+` ORDER BY t.id `+order+` LIMIT ?`, append(f.args, q.Page.Size())...)
}

func scanAttempt(sc scanner) (store.Attempt, error) {
	var a store.Attempt
	var c column.Attempt
	var started int64
	err := sc.Scan(&a.ID, &a.TaskID, &a.TenantID, &a.Number, &started, &c.DurationUS, &a.Outcome, &a.RequestURL,
		&c.RequestHeaders, &a.RequestBody, &a.ResponseStatus, &c.ResponseHeaders, &a.ResponseBody, &a.Error, &a.Kind, &c.Detail)
	if err != nil {
		return a, err
	}
	a.StartedAt = fromMS(started)
	return a, c.Decode(&a)
}

// ListAttempts lists a task's attempts, oldest first.
func (s *Store) ListAttempts(ctx context.Context, tenantID, taskID string) ([]store.Attempt, error) {
	return queryAll(ctx, s.r, "list attempts", scanAttempt, `SELECT id, task_id, tenant_id, number, started_at, duration_us, outcome, request_url,
		request_headers, request_body, response_status, response_headers, response_body, error, kind, detail
		FROM attempts WHERE tenant_id = ? AND task_id = ? ORDER BY number, id`, tenantID, taskID)
}

// PendingTasks counts unfinished tasks.
func (s *Store) PendingTasks(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM tasks WHERE status IN ('pending', 'retrying')`).Scan(&n)
	return n, wrapRead("count pending tasks", err)
}

// Activity counts in SQL, so the dashboard reads one row a minute
// instead of every row of the window: the newest q.Limit events and
// tasks of the tenant from the window's first id on (the tenant's id
// indexes hold the range), grouped by minute.
func (s *Store) Activity(ctx context.Context, tenantID string, q store.ActivityQuery) (store.Activity, error) {
	limit := max(q.Limit, 1)
	scan := func(sc scanner) (store.ActivityCount, error) {
		var c store.ActivityCount
		var minute int64
		err := sc.Scan(&minute, &c.Accepted, &c.Succeeded, &c.Failed, &c.Rows)
		c.Minute = fromMS(minute * 60_000)
		return c, err
	}
	evs, err := queryAll(ctx, s.r, "count events per minute", scan, `SELECT created_at / 60000, count(*), 0, 0, count(*) FROM (
		SELECT created_at FROM events WHERE tenant_id = ? AND id >= ? ORDER BY id DESC LIMIT ?) GROUP BY 1`,
		tenantID, event.FirstID(event.PrefixEvent, q.Since), limit)
	if err != nil {
		return store.Activity{}, err
	}
	ts, err := queryAll(ctx, s.r, "count tasks per minute", scan, `SELECT updated_at / 60000, 0,
		sum(status = 'succeeded'), sum(status = 'failed'), count(*) FROM (
		SELECT updated_at, status FROM tasks WHERE tenant_id = ? AND id >= ? ORDER BY id DESC LIMIT ?) GROUP BY 1`,
		tenantID, event.FirstID(event.PrefixDelivery, q.Since), limit)
	if err != nil {
		return store.Activity{}, err
	}
	return store.MergeActivity(limit, evs, ts), nil
}
