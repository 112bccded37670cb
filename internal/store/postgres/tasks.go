package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/internal/column"
)

const taskCols = `t.id, t.tenant_id, t.event_id, t.event_type, t.kind, t.destination_id, t.status, t.attempts,
	t.next_at, t.lease_until, t.lease_owner, t.lease_token, t.last_error, t.created_at, t.updated_at`

func scanTask(r pgx.Row, extra ...any) (store.Task, error) {
	var t store.Task
	err := r.Scan(append([]any{&t.ID, &t.TenantID, &t.EventID, &t.EventType, &t.Kind, &t.DestinationID, &t.Status, &t.Attempts,
		&t.NextAt, &t.LeaseUntil, &t.LeaseOwner, &t.LeaseToken, &t.LastError, &t.CreatedAt, &t.UpdatedAt}, extra...)...)
	t.NextAt, t.LeaseUntil, t.CreatedAt, t.UpdatedAt = fromTS(t.NextAt), fromTS(t.LeaseUntil), fromTS(t.CreatedAt), fromTS(t.UpdatedAt)
	return t, err
}

func scanTaskPlain(r pgx.Row) (store.Task, error) { return scanTask(r) }

func scanTaskWithEvent(r pgx.Row) (store.Task, error) {
	var e event.Event
	t, err := scanTask(r, &e.Source, &e.Data, &e.OccurredAt, &e.IdempotencyKey, &e.CreatedAt, &e.Traceparent)
	if err != nil {
		return t, err
	}
	e.ID, e.TenantID, e.Type = t.EventID, t.TenantID, t.EventType
	e.OccurredAt, e.CreatedAt = fromTS(e.OccurredAt), fromTS(e.CreatedAt)
	t.Event = &e
	return t, nil
}

func tasksWithEvents(ctx context.Context, q querier, ids []string) ([]store.Task, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.Query(ctx, `SELECT `+taskCols+`, e.source, e.data, e.occurred_at, coalesce(e.idempotency_key, ''), e.created_at, e.traceparent
		FROM tasks t JOIN events e ON e.id = t.event_id WHERE t.id = ANY($1) ORDER BY t.next_at, t.id`, ids)
	if err != nil {
		return nil, fmt.Errorf("load tasks: %w", err)
	}
	return collect(rows, scanTaskWithEvent)
}

// claimSet is the SET clause of a claim by the owner in parameter p (a
// constant such as "$1"): a claim by another node than the task's last
// lease owner gives it a new token (see store.TaskLease).
func claimSet(p string) string {
	return `lease_token = CASE WHEN lease_owner = ` + p + ` THEN lease_token ELSE lease_token + 1 END, lease_owner = ` + p
}

// interval is a duration as a query parameter, for `$n * interval '1
// microsecond'`.
func interval(d time.Duration) int64 { return d.Microseconds() }

// ClaimTasks leases due tasks with FOR UPDATE SKIP LOCKED, so concurrent
// nodes never claim the same task. Leases are set and compared with the
// database's clock, so nodes whose clocks disagree still agree on them.
func (s *Store) ClaimTasks(ctx context.Context, c store.Claim) ([]store.Task, error) {
	var buckets []int32
	if c.Buckets != nil {
		buckets = make([]int32, len(c.Buckets))
		for i, b := range c.Buckets {
			buckets[i] = int32(b)
		}
	}
	return queryAll(ctx, s.pool, "claim tasks", scanTaskWithEvent, `WITH claimed AS (
			UPDATE tasks SET lease_until = now() + $2 * interval '1 microsecond', `+claimSet("$1")+` WHERE id IN (
				SELECT id FROM tasks WHERE status IN ('pending', 'retrying') AND next_at <= $3 AND lease_until <= now()
				AND NOT (destination_id = ANY($4))
				AND ($5::int[] IS NULL OR (get_byte(decode(md5(destination_id), 'hex'), 3) & 63) = ANY($5))
				ORDER BY next_at, id LIMIT $6 FOR UPDATE SKIP LOCKED)
			RETURNING *)
		SELECT `+taskCols+`, e.source, e.data, e.occurred_at, coalesce(e.idempotency_key, ''), e.created_at, e.traceparent
		FROM claimed t JOIN events e ON e.id = t.event_id ORDER BY t.next_at, t.id`,
		c.Owner, interval(c.Lease), ts(c.Now), orEmptySlice(c.Exclude), buckets, c.Limit)
}

// leaseArrays splits leases into parallel arrays for unnest, sorted by
// id so rows are locked in one order.
func leaseArrays(ls []store.TaskLease) ([]string, []int64) {
	ls = slices.SortedFunc(slices.Values(ls), func(a, b store.TaskLease) int { return strings.Compare(a.ID, b.ID) })
	ids, tokens := make([]string, len(ls)), make([]int64, len(ls))
	for i, l := range ls {
		ids[i], tokens[i] = l.ID, l.Token
	}
	return ids, tokens
}

// OldestUnfinished returns a destination's oldest unfinished task.
func (s *Store) OldestUnfinished(ctx context.Context, kind, destinationID string) (store.Task, error) {
	return queryOne(ctx, s.pool, "oldest unfinished task", scanTaskPlain, `SELECT `+taskCols+` FROM tasks t
		WHERE t.destination_id = $1 AND t.kind = $2 AND t.status IN ('pending', 'retrying') ORDER BY t.id LIMIT 1`, destinationID, kind)
}

// Prune deletes old events whose tasks are all finished, with their tasks
// and attempts.
func (s *Store) Prune(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return inTx(ctx, s, "prune", func(tx pgx.Tx) (int, error) {
		rows, err := tx.Query(ctx, `SELECT e.id FROM events e WHERE e.created_at < $1 AND NOT EXISTS (
			SELECT 1 FROM tasks t WHERE t.event_id = e.id AND t.status IN ('pending', 'retrying'))
			ORDER BY e.created_at LIMIT $2 FOR UPDATE SKIP LOCKED`, ts(cutoff), limit)
		if err != nil {
			return 0, fmt.Errorf("prune: select: %w", err)
		}
		ids, err := collect(rows, func(r pgx.Row) (id string, err error) { return id, r.Scan(&id) })
		if err != nil || len(ids) == 0 {
			return 0, err
		}
		for _, q := range []string{
			`DELETE FROM attempts WHERE task_id IN (SELECT id FROM tasks WHERE event_id = ANY($1))`,
			`DELETE FROM tasks WHERE event_id = ANY($1)`,
			`DELETE FROM queue_messages WHERE event_id = ANY($1)`,
			`DELETE FROM events WHERE id = ANY($1)`,
		} {
			if _, err := tx.Exec(ctx, q, ids); err != nil {
				return 0, fmt.Errorf("prune: %w", err)
			}
		}
		return len(ids), nil
	})
}

// ResetLeases drops every lease. Never called on a shared database (the
// engine refuses ExclusiveStore with a cluster); kept for the interface.
func (s *Store) ResetLeases(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `UPDATE tasks SET lease_until = 'epoch' WHERE lease_until <> 'epoch'`)
	return wrapWrite("reset leases", err)
}

// ReleaseLeases drops the leases owner holds on unfinished tasks; owner
// and token stay, so a claim by another node still changes the token.
func (s *Store) ReleaseLeases(ctx context.Context, owner string) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE tasks SET lease_until = 'epoch' WHERE id IN (
		SELECT id FROM tasks WHERE lease_owner = $1 AND lease_until > now() AND status IN ('pending', 'retrying')
		ORDER BY id FOR UPDATE)`, owner)
	if err != nil {
		return 0, fmt.Errorf("release leases: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ExtendLeases renews, by the database's clock, the leases of unfinished
// tasks still held under their tokens, and reports those another claim
// took over.
func (s *Store) ExtendLeases(ctx context.Context, ls []store.TaskLease, d time.Duration) ([]string, error) {
	if len(ls) == 0 {
		return nil, nil
	}
	ids, tokens := leaseArrays(ls)
	// Rows locked by a completing attempt are skipped: they are finishing,
	// and waiting on them could deadlock with that transaction.
	if _, err := s.pool.Exec(ctx, `UPDATE tasks t SET lease_until = now() + $3 * interval '1 microsecond'
		FROM (SELECT k.id FROM tasks k JOIN unnest($1::text[], $2::bigint[]) AS h(id, token) ON k.id = h.id AND k.lease_token = h.token
			WHERE k.status IN ('pending', 'retrying') ORDER BY k.id FOR UPDATE OF k SKIP LOCKED) AS l
		WHERE t.id = l.id`, ids, tokens, interval(d)); err != nil {
		return nil, fmt.Errorf("extend leases: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT t.id FROM tasks t JOIN unnest($1::text[], $2::bigint[]) AS h(id, token) ON t.id = h.id
		WHERE t.lease_token <> h.token`, ids, tokens)
	if err != nil {
		return nil, fmt.Errorf("extend leases: find lost: %w", err)
	}
	lost, err := collect(rows, func(r pgx.Row) (id string, err error) { return id, r.Scan(&id) })
	if err != nil {
		return nil, fmt.Errorf("extend leases: find lost: %w", err)
	}
	return lost, nil
}

// ReleaseTasks drops leases still held under their tokens, so the tasks
// can be claimed again at once.
func (s *Store) ReleaseTasks(ctx context.Context, ls []store.TaskLease) error {
	if len(ls) == 0 {
		return nil
	}
	ids, tokens := leaseArrays(ls)
	_, err := s.pool.Exec(ctx, `UPDATE tasks t SET lease_until = 'epoch'
		FROM (SELECT k.id FROM tasks k JOIN unnest($1::text[], $2::bigint[]) AS h(id, token) ON k.id = h.id AND k.lease_token = h.token
			ORDER BY k.id FOR UPDATE OF k) AS l
		WHERE t.id = l.id`, ids, tokens)
	return wrapWrite("release tasks", err)
}

var attemptColumns = []string{"id", "task_id", "tenant_id", "number", "started_at", "duration_us", "outcome", "request_url",
	"request_headers", "request_body", "response_status", "response_headers", "response_body", "error", "kind", "detail"}

// CompleteTasks records, in one transaction, the tasks' next states (one
// UPDATE over arrays, guarded by token, status and attempt number) and
// the attempts of the results that passed the guard (COPY); it reports
// the others as stale.
func (s *Store) CompleteTasks(ctx context.Context, rs []store.TaskResult) ([]string, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	_, stale, err := s.Commit(ctx, nil, rs)
	return stale, err
}

// completeTasks is CompleteTasks inside tx, in one round trip.
func completeTasks(ctx context.Context, tx pgx.Tx, rs []store.TaskResult) (stale []string, err error) {
	var b pgx.Batch
	read := queueComplete(&b, rs)
	err = sendBatch(ctx, tx, &b, "complete tasks", func(br pgx.BatchResults) (err error) {
		stale, err = read(br)
		return err
	})
	return stale, err
}

// queueComplete queues in b the statements of CompleteTasks and returns
// what reads the ids of the stale results: the lock of the tasks (in id
// order, so concurrent writers never deadlock) and one statement that
// updates the tasks whose guard holds and inserts the attempts of those
// it updated.
func queueComplete(b *pgx.Batch, rs []store.TaskResult) func(pgx.BatchResults) ([]string, error) {
	if len(rs) == 0 {
		return func(pgx.BatchResults) ([]string, error) { return nil, nil }
	}
	rs = slices.SortedFunc(slices.Values(rs), func(a, b store.TaskResult) int { return strings.Compare(a.TaskID, b.TaskID) })
	n := len(rs)
	ids, statuses, lastErrs := make([]string, n), make([]string, n), make([]string, n)
	attempts := make([]int32, n)
	tokens := make([]int64, n)
	nexts, updated := make([]time.Time, n), make([]time.Time, n)
	var at attemptArrays
	for i, r := range rs {
		a := r.Attempt
		ids[i], statuses[i], lastErrs[i], attempts[i], tokens[i] = r.TaskID, r.Status, r.LastError, int32(a.Number), r.Token
		nexts[i], updated[i] = ts(r.NextAt), ts(a.StartedAt.Add(a.Duration))
		at.add(r.TaskID, a)
	}
	b.Queue(`SELECT id FROM tasks WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
	b.Queue(`WITH done AS (
			UPDATE tasks t SET status = u.status, attempts = u.attempts, next_at = u.next_at,
				lease_until = 'epoch', last_error = u.last_error, updated_at = u.updated_at
			FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::text[], $6::timestamptz[], $7::bigint[])
				AS u(id, status, attempts, next_at, last_error, updated_at, token)
			WHERE t.id = u.id AND t.lease_token = u.token AND t.attempts = u.attempts - 1 AND t.status IN ('pending', 'retrying')
			RETURNING t.id)
		INSERT INTO attempts (`+strings.Join(attemptColumns, ", ")+`)
		SELECT a.id, a.task_id, a.tenant_id, a.number, a.started_at, a.duration_us, a.outcome, a.request_url, a.request_headers::jsonb,
			a.request_body, a.response_status, a.response_headers::jsonb, a.response_body, a.error, a.kind, a.detail
		FROM unnest($8::text[], $9::text[], $10::text[], $11::int[], $12::timestamptz[], $13::bigint[], $14::text[], $15::text[],
			$16::text[], $17::text[], $18::int[], $19::text[], $20::text[], $21::text[], $22::text[], $23::text[])
			AS a(id, task_id, tenant_id, number, started_at, duration_us, outcome, request_url, request_headers, request_body,
				response_status, response_headers, response_body, error, kind, detail)
		WHERE a.task_id IN (SELECT id FROM done)
		RETURNING task_id`, ids, statuses, attempts, nexts, lastErrs, updated, tokens,
		at.ids, at.tasks, at.tenants, at.numbers, at.started, at.durations, at.outcomes, at.urls, at.reqHeaders, at.reqBodies,
		at.statuses, at.respHeaders, at.respBodies, at.errors, at.kinds, at.details)
	return func(br pgx.BatchResults) ([]string, error) {
		done, err := readComplete(br)
		if err != nil {
			return nil, err
		}
		written := make(map[string]bool, len(done))
		for _, id := range done {
			written[id] = true
		}
		var stale []string
		for _, r := range rs {
			if !written[r.TaskID] {
				stale = append(stale, r.TaskID)
			}
		}
		return stale, nil
	}
}

// readComplete reads queueComplete's answers: the ids of the tasks
// written.
func readComplete(br pgx.BatchResults) ([]string, error) {
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("complete tasks: lock tasks: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, wrapWrite("complete tasks: update tasks", err)
	}
	done, err := collect(rows, func(r pgx.Row) (id string, err error) { return id, r.Scan(&id) })
	if err != nil {
		return nil, wrapWrite("complete tasks: update tasks", err)
	}
	return done, nil
}

// attemptArrays are the columns of attempts to insert, one array each.
type attemptArrays struct {
	ids, tasks, tenants, outcomes, urls, reqHeaders, reqBodies, respHeaders, respBodies, errors, kinds, details []string
	numbers, statuses                                                                                           []int32
	started                                                                                                     []time.Time
	durations                                                                                                   []int64
}

func (w *attemptArrays) add(taskID string, a store.Attempt) {
	w.ids, w.tasks, w.tenants, w.numbers = append(w.ids, a.ID), append(w.tasks, taskID), append(w.tenants, a.TenantID), append(w.numbers, int32(a.Number))
	w.started, w.durations, w.outcomes = append(w.started, ts(a.StartedAt)), append(w.durations, a.Duration.Microseconds()), append(w.outcomes, a.Outcome)
	w.urls, w.reqHeaders, w.reqBodies = append(w.urls, a.RequestURL), append(w.reqHeaders, string(toJSON(orEmpty(a.RequestHeaders)))), append(w.reqBodies, a.RequestBody)
	w.statuses, w.respHeaders = append(w.statuses, int32(a.ResponseStatus)), append(w.respHeaders, string(toJSON(orEmpty(a.ResponseHeaders))))
	w.respBodies, w.errors, w.kinds, w.details = append(w.respBodies, a.ResponseBody), append(w.errors, a.Error), append(w.kinds, a.Kind), append(w.details, string(a.Detail))
}

// RequeueTasks makes a tenant's tasks due now, leased to owner for lease
// by the database's clock or, with a zero lease, unleased.
func (s *Store) RequeueTasks(ctx context.Context, tenantID string, ids []string, now time.Time, lease time.Duration, owner string) ([]store.Task, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return inTx(ctx, s, "requeue tasks", func(tx pgx.Tx) ([]store.Task, error) {
		const pick = `WHERE id IN (SELECT id FROM tasks WHERE tenant_id = $2 AND id = ANY($3) ORDER BY id FOR UPDATE) RETURNING id`
		q, args := `UPDATE tasks SET status = 'pending', next_at = $1, updated_at = $1, lease_until = 'epoch' `+pick,
			[]any{ts(now), tenantID, ids}
		if lease > 0 {
			q = `UPDATE tasks SET status = 'pending', next_at = $1, updated_at = $1,
				lease_until = now() + $5 * interval '1 microsecond', ` + claimSet("$4") + ` ` + pick
			args = append(args, owner, interval(lease))
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("requeue tasks: %w", err)
		}
		found, err := collect(rows, func(r pgx.Row) (id string, err error) { return id, r.Scan(&id) })
		if err != nil {
			return nil, fmt.Errorf("requeue tasks: %w", err)
		}
		ts, err := tasksWithEvents(ctx, tx, found)
		if err != nil {
			return nil, fmt.Errorf("requeue tasks: %w", err)
		}
		return ts, nil
	})
}

// AddTasks inserts tasks for existing events.
func (s *Store) AddTasks(ctx context.Context, tasks []store.Task) error {
	return s.transact(ctx, "add tasks", func(tx pgx.Tx) error {
		if err := insertTasks(ctx, tx, tasks); err != nil {
			return fmt.Errorf("add tasks: %w", err)
		}
		return nil
	})
}

// GetTask returns one of a tenant's tasks.
func (s *Store) GetTask(ctx context.Context, tenantID, id string) (store.Task, error) {
	return queryOne(ctx, s.pool, "get task", scanTaskPlain, `SELECT `+taskCols+` FROM tasks t WHERE t.tenant_id = $1 AND t.id = $2`, tenantID, id)
}

// ListTasks lists a tenant's tasks, newest first (or oldest first).
func (s *Store) ListTasks(ctx context.Context, tenantID string, q store.TaskQuery) ([]store.Task, error) {
	order, cmpOp := "DESC", "<"
	if q.Oldest {
		order, cmpOp = "ASC", ">"
	}
	f := where(`t.tenant_id = $`, tenantID)
	f.and(q.Cursor != "", `t.id `+cmpOp+` $`, q.Cursor)
	f.and(q.Kind != "", `t.kind = $`, q.Kind)
	f.and(q.DestinationID != "", `t.destination_id = $`, q.DestinationID)
	f.and(q.EventID != "", `t.event_id = $`, q.EventID)
	f.and(q.Status != "", `t.status = $`, q.Status)
	f.and(!q.UpdatedSince.IsZero(), `t.updated_at >= $`, ts(q.UpdatedSince))
	if q.Status != "" && q.Status != store.StatusSucceeded {
		f.conds = append(f.conds, `t.status <> 'succeeded'`) // the partial indexes' term
	}
	return queryAll(ctx, s.pool, "list tasks", scanTaskPlain, `SELECT `+taskCols+` FROM tasks t WHERE `+f.String()+
		` ORDER BY t.id `+order+f.limit(q.Page.Size()), f.args...)
}

// Activity counts in SQL, one row a minute: the newest q.Limit events
// and tasks of the tenant from the window's first id on, grouped by
// minute.
func (s *Store) Activity(ctx context.Context, tenantID string, q store.ActivityQuery) (store.Activity, error) {
	limit := max(q.Limit, 1)
	scan := func(r pgx.Row) (store.ActivityCount, error) {
		var c store.ActivityCount
		err := r.Scan(&c.Minute, &c.Accepted, &c.Succeeded, &c.Failed, &c.Rows)
		c.Minute = c.Minute.UTC()
		return c, err
	}
	evs, err := queryAll(ctx, s.pool, "count events per minute", scan, `SELECT date_trunc('minute', created_at), count(*), 0, 0, count(*)
		FROM (SELECT created_at FROM events WHERE tenant_id = $1 AND id >= $2 ORDER BY id DESC LIMIT $3) e GROUP BY 1`,
		tenantID, event.FirstID(event.PrefixEvent, q.Since), limit)
	if err != nil {
		return store.Activity{}, err
	}
	ts, err := queryAll(ctx, s.pool, "count tasks per minute", scan, `SELECT date_trunc('minute', updated_at), 0,
		count(*) FILTER (WHERE status = 'succeeded'), count(*) FILTER (WHERE status = 'failed'), count(*)
		FROM (SELECT updated_at, status FROM tasks WHERE tenant_id = $1 AND id >= $2 ORDER BY id DESC LIMIT $3) t GROUP BY 1`,
		tenantID, event.FirstID(event.PrefixDelivery, q.Since), limit)
	if err != nil {
		return store.Activity{}, err
	}
	return store.MergeActivity(limit, evs, ts), nil
}

func scanAttempt(r pgx.Row) (store.Attempt, error) {
	var a store.Attempt
	var c column.Attempt
	err := r.Scan(&a.ID, &a.TaskID, &a.TenantID, &a.Number, &a.StartedAt, &c.DurationUS, &a.Outcome, &a.RequestURL,
		&c.RequestHeaders, &a.RequestBody, &a.ResponseStatus, &c.ResponseHeaders, &a.ResponseBody, &a.Error, &a.Kind, &c.Detail)
	if err != nil {
		return a, err
	}
	a.StartedAt = fromTS(a.StartedAt)
	return a, c.Decode(&a)
}

// ListAttempts lists a task's attempts, oldest first.
func (s *Store) ListAttempts(ctx context.Context, tenantID, taskID string) ([]store.Attempt, error) {
	return queryAll(ctx, s.pool, "list attempts", scanAttempt, `SELECT id, task_id, tenant_id, number, started_at, duration_us, outcome, request_url,
		request_headers, request_body, response_status, response_headers, response_body, error, kind, detail
		FROM attempts WHERE tenant_id = $1 AND task_id = $2 ORDER BY number, id`, tenantID, taskID)
}

// PendingTasks counts unfinished tasks.
func (s *Store) PendingTasks(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM tasks WHERE status IN ('pending', 'retrying')`).Scan(&n)
	return n, wrapRead("count pending tasks", err)
}
