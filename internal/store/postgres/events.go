package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

const eventCols = `id, tenant_id, type, source, data, occurred_at, coalesce(idempotency_key, ''), created_at, raw, headers, traceparent, request_headers`

func scanEvent(r pgx.Row, extra ...any) (event.Event, error) {
	var e event.Event
	var headers, request []byte
	err := r.Scan(append([]any{&e.ID, &e.TenantID, &e.Type, &e.Source, &e.Data, &e.OccurredAt, &e.IdempotencyKey, &e.CreatedAt,
		&e.Raw, &headers, &e.Traceparent, &request}, extra...)...)
	if err != nil {
		return e, err
	}
	e.OccurredAt, e.CreatedAt = fromTS(e.OccurredAt), fromTS(e.CreatedAt)
	if string(headers) != "{}" {
		if err := json.Unmarshal(headers, &e.Headers); err != nil {
			return e, fmt.Errorf("decode headers of event %s: %w", e.ID, err)
		}
	}
	if string(request) != "{}" {
		if err := json.Unmarshal(request, &e.RequestHeaders); err != nil {
			return e, fmt.Errorf("decode request headers of event %s: %w", e.ID, err)
		}
	}
	return e, nil
}

// eventColsE is eventCols qualified with the alias e.
const eventColsE = `e.id, e.tenant_id, e.type, e.source, e.data, e.occurred_at, coalesce(e.idempotency_key, ''), e.created_at, e.raw, e.headers, e.traceparent, e.request_headers`

var eventColumns = []string{"id", "tenant_id", "type", "source", "data", "occurred_at", "idempotency_key", "created_at", "raw", "headers", "traceparent", "request_headers"}

var taskColumns = []string{"id", "tenant_id", "event_id", "event_type", "kind", "destination_id", "status", "attempts", "next_at",
	"lease_until", "lease_owner", "last_error", "created_at", "updated_at"}

// taskRows are the COPY rows of tasks to insert. Tasks with a LeaseFor
// are leased from the database's now() in tx: COPY cannot call now()
// itself, so it is read first, once, when some task needs it.
func taskRows(ctx context.Context, tx pgx.Tx, tasks []store.Task) ([][]any, error) {
	var now time.Time
	for _, t := range tasks {
		if t.LeaseFor > 0 {
			if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
				return nil, fmt.Errorf("read the database clock: %w", err)
			}
			break
		}
	}
	rows := make([][]any, len(tasks))
	for i, t := range tasks {
		lease, owner := epoch, ""
		if t.LeaseFor > 0 {
			lease, owner = now.Add(t.LeaseFor), t.LeaseOwner
		}
		rows[i] = []any{t.ID, t.TenantID, t.EventID, t.EventType, t.Kind, t.DestinationID, t.Status, t.Attempts, ts(t.NextAt),
			lease, owner, t.LastError, ts(t.CreatedAt), ts(t.UpdatedAt)}
	}
	return rows, nil
}

// copyTasks copies tasks in with COPY, leased as their LeaseFor asks (see
// taskRows); a task id that exists fails it with store.ErrConflict.
func copyTasks(ctx context.Context, tx pgx.Tx, tasks []store.Task) error {
	if len(tasks) == 0 {
		return nil
	}
	rows, err := taskRows(ctx, tx, tasks)
	if err != nil {
		return err
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"tasks"}, taskColumns, pgx.CopyFromRows(rows))
	return wrapWrite("copy tasks", err)
}

// AcceptEvents writes events and their tasks in one transaction: the
// idempotency check is one query, and events and tasks are copied in with
// COPY. Events with idempotency keys take a transaction-scoped advisory
// lock per key first, so nodes accepting the same key at once make one
// event. As in the SQLite driver, only the first event of the batch with a
// given key is checked against stored events; later ones share its
// outcome (the earlier event it duplicates, or itself).
//
// Under a deadline the server ends the transaction by itself once it has
// passed (beginBounded). A failure is a rollback — nothing was committed —
// except store.ErrCommitUnknown: COMMIT was sent and its answer did not
// come back.
func (s *Store) AcceptEvents(ctx context.Context, evs []store.NewEvent) ([]store.Accepted, error) {
	res, _, err := s.Commit(ctx, evs, nil)
	return res, err
}

// Commit writes, in one transaction, evs as AcceptEvents does and rs as
// CompleteTasks does, bounded as AcceptEvents is. The events come first:
// their idempotency-key locks are taken before any task row is locked, so
// two such transactions never wait on each other in a cycle.
func (s *Store) Commit(ctx context.Context, evs []store.NewEvent, rs []store.TaskResult) (accepted []store.Accepted, stale []string, err error) {
	defer func() { err = classify(err) }()
	tx, err := s.beginBounded(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("commit: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	if accepted, err = acceptEvents(ctx, tx, evs); err != nil {
		return nil, nil, err
	}
	if stale, err = completeTasks(ctx, tx, rs); err != nil {
		return nil, nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, nil, commitError("commit", err)
	}
	return accepted, stale, nil
}

// acceptEvents is AcceptEvents inside tx.
func acceptEvents(ctx context.Context, tx pgx.Tx, evs []store.NewEvent) ([]store.Accepted, error) {
	if len(evs) == 0 {
		return nil, nil
	}

	type key struct{ tenant, key string }
	// first maps each key to the index of its first event in the batch;
	// the arrays describe those first events for the stored-event check.
	first := map[key]int{}
	var (
		lockIDs, tenants, names []string
		sinces                  []time.Time
		index                   []int32
	)
	for i, ne := range evs {
		k := key{ne.Event.TenantID, ne.Event.IdempotencyKey}
		if k.key == "" {
			continue
		}
		if _, ok := first[k]; ok {
			continue
		}
		first[k] = i
		lockIDs = append(lockIDs, k.tenant+":"+k.key)
		tenants, names = append(tenants, k.tenant), append(names, k.key)
		sinces, index = append(sinces, ts(ne.IdempotentSince)), append(index, int32(i))
	}
	prev := map[int]event.Event{}
	if len(lockIDs) > 0 {
		// Locks are taken in hash order (volatile select-list calls run
		// after ORDER BY), so concurrent batches never wait on each other
		// in a cycle, even when two keys share a hash.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(h)
			FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS u(k)) AS l ORDER BY h`, lockIDs); err != nil {
			return nil, fmt.Errorf("accept events: lock idempotency keys: %w", err)
		}
		// A new statement, so a new snapshot: it sees every event committed
		// by whoever held a key's lock before us.
		rows, err := tx.Query(ctx, `SELECT `+eventColsE+`, k.i FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int[])
			AS k(tenant, key, since, i)
			JOIN LATERAL (SELECT * FROM events e WHERE e.tenant_id = k.tenant AND e.idempotency_key = k.key AND e.created_at >= k.since
				ORDER BY e.id DESC LIMIT 1) e ON true`, tenants, names, sinces, index)
		if err != nil {
			return nil, fmt.Errorf("accept events: check idempotency keys: %w", err)
		}
		type found struct {
			e event.Event
			i int32
		}
		fs, err := collect(rows, func(r pgx.Row) (found, error) {
			var f found
			var err error
			f.e, err = scanEvent(r, &f.i)
			return f, err
		})
		if err != nil {
			return nil, fmt.Errorf("accept events: %w", err)
		}
		for _, f := range fs {
			prev[int(f.i)] = f.e
		}
	}

	out := make([]store.Accepted, len(evs))
	var eventRows [][]any
	var tasks []store.Task
	var queued [][]any
	for i, ne := range evs {
		e := ne.Event
		if e.IdempotencyKey != "" {
			if j := first[key{e.TenantID, e.IdempotencyKey}]; j != i {
				out[i] = store.Accepted{Event: out[j].Event, Duplicate: true}
				continue
			}
			if p, ok := prev[i]; ok {
				out[i] = store.Accepted{Event: p, Duplicate: true}
				continue
			}
		}
		var idem any
		if e.IdempotencyKey != "" {
			idem = e.IdempotencyKey
		}
		eventRows = append(eventRows, []any{e.ID, e.TenantID, e.Type, e.Source, []byte(e.Data), ts(e.OccurredAt), idem,
			ts(e.CreatedAt), e.Raw, toJSON(orEmpty(e.Headers)), e.Traceparent, toJSON(orEmpty(e.RequestHeaders))})
		tasks = append(tasks, ne.Tasks...)
		for _, q := range ne.Queues {
			queued = append(queued, []any{q, e.ID, e.TenantID})
		}
		out[i] = store.Accepted{Event: e, Tasks: ne.Tasks}
	}
	if len(eventRows) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, eventColumns, pgx.CopyFromRows(eventRows)); err != nil {
			return nil, wrapWrite("accept events: copy events", err)
		}
	}
	if err := copyTasks(ctx, tx, tasks); err != nil {
		return nil, fmt.Errorf("accept events: %w", err)
	}
	if len(queued) > 0 {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"queue_messages"}, []string{"queue_id", "event_id", "tenant_id"}, pgx.CopyFromRows(queued)); err != nil {
			return nil, wrapWrite("accept events: put on queues", err)
		}
	}
	return out, nil
}

// GetEvent returns one of a tenant's events.
func (s *Store) GetEvent(ctx context.Context, tenantID, id string) (event.Event, error) {
	e, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventCols+` FROM events WHERE tenant_id = $1 AND id = $2`, tenantID, id))
	return e, wrapRead("get event", err)
}

// ListEvents lists a tenant's events, newest first.
func (s *Store) ListEvents(ctx context.Context, tenantID string, q store.EventQuery) ([]event.Event, error) {
	f := where(`tenant_id = $`, tenantID)
	f.and(q.Cursor != "", `id < $`, q.Cursor)
	f.and(q.Type != "", `type = $`, q.Type)
	f.and(q.Source != "", `source = $`, q.Source)
	f.and(!q.After.IsZero(), `created_at >= $`, ts(q.After))
	f.and(!q.Before.IsZero(), `created_at < $`, ts(q.Before))
	rows, err := s.pool.Query(ctx, `SELECT `+eventCols+` FROM events WHERE `+f.String()+` ORDER BY id DESC`+f.limit(q.Page.Size()), f.args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return collect(rows, func(r pgx.Row) (event.Event, error) { return scanEvent(r) })
}
