package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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

// insertTasks inserts tasks in tx, leased as their LeaseFor asks (see
// queueInsertTasks): one round trip. A task id that exists fails it with
// store.ErrConflict.
func insertTasks(ctx context.Context, tx pgx.Tx, tasks []store.Task) error {
	if len(tasks) == 0 {
		return nil
	}
	var b pgx.Batch
	queueInsertTasks(&b, tasks, false)
	return wrapWrite("insert tasks", tx.SendBatch(ctx, &b).Close())
}

// AcceptEvents writes events and their tasks in one transaction: the
// idempotency check is one query, and events and tasks are inserted over
// arrays (queueAccept). Events with idempotency keys take a transaction-scoped advisory
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
//
// It takes two round trips: one batch of BEGIN (with the deadline, as
// beginBounded sets it) and every statement, then COMMIT on its own, so
// that a link that fails before COMMIT was sent gives a definite failure.
func (s *Store) Commit(ctx context.Context, evs []store.NewEvent, rs []store.TaskResult) (accepted []store.Accepted, stale []string, err error) {
	defer func() { err = classify(err) }()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("commit: begin: %w", err)
	}
	// A connection still in its transaction (a failure below) is closed
	// on release rather than pooled, which rolls the transaction back.
	defer conn.Release()
	var b pgx.Batch
	begun := queueBegin(ctx, &b)
	readAccepted, readStale := queueAccept(&b, evs), queueComplete(&b, rs)
	if err := sendBatch(ctx, conn, &b, "commit", func(br pgx.BatchResults) (err error) {
		for range begun {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("commit: begin: %w", err)
			}
		}
		if accepted, err = readAccepted(br); err != nil {
			return err
		}
		stale, err = readStale(br)
		return err
	}); err != nil {
		return nil, nil, err
	}
	tag, err := conn.Exec(ctx, "COMMIT")
	if err == nil && tag.String() == "ROLLBACK" {
		err = pgx.ErrTxCommitRollback
	}
	if err != nil {
		return nil, nil, commitError("commit", err)
	}
	return accepted, stale, nil
}

// queueBegin queues BEGIN and, under a deadline, the session limits of
// beginBounded; it returns how many statements it queued.
func queueBegin(ctx context.Context, b *pgx.Batch) int {
	b.Queue("BEGIN")
	d, ok := ctx.Deadline()
	if !ok {
		return 1
	}
	ms := max(time.Until(d).Milliseconds(), 1)
	b.Queue(fmt.Sprintf("SET LOCAL statement_timeout = %d", ms))
	b.Queue(fmt.Sprintf("SET LOCAL idle_in_transaction_session_timeout = %d", ms))
	return 3
}

// batchSender is a transaction or a connection.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// sendBatch sends b, when it holds anything, and reads its answers with
// read.
func sendBatch(ctx context.Context, to batchSender, b *pgx.Batch, action string, read func(pgx.BatchResults) error) error {
	if b.Len() == 0 {
		return nil
	}
	br := to.SendBatch(ctx, b)
	err := read(br)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = wrapWrite(action, cerr)
	}
	return err
}

// queueAccept queues in b the statements of AcceptEvents and returns what
// reads their answers: the key locks and the check of stored events when
// some event has an idempotency key, then one INSERT each for events,
// tasks and queue messages over arrays. The INSERTs skip what the check
// finds, by the same condition in SQL, so they need not wait for its
// answer: the key locks make both see the same stored events.
func queueAccept(b *pgx.Batch, evs []store.NewEvent) func(pgx.BatchResults) ([]store.Accepted, error) {
	if len(evs) == 0 {
		return func(pgx.BatchResults) ([]store.Accepted, error) { return nil, nil }
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

	if len(lockIDs) > 0 {
		// Locks are taken in hash order (volatile select-list calls run
		// after ORDER BY), so concurrent batches never wait on each other
		// in a cycle, even when two keys share a hash.
		b.Queue(`SELECT pg_advisory_xact_lock(h)
			FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS u(k)) AS l ORDER BY h`, lockIDs)
		// A new statement, so a new snapshot: it sees every event committed
		// by whoever held a key's lock before us.
		b.Queue(`SELECT `+eventColsE+`, k.i FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::int[])
			AS k(tenant, key, since, i)
			JOIN LATERAL (SELECT * FROM events e WHERE e.tenant_id = k.tenant AND e.idempotency_key = k.key AND e.created_at >= k.since
				ORDER BY e.id DESC LIMIT 1) e ON true`, tenants, names, sinces, index)
	}
	var w eventArrays
	var tasks []store.Task
	var queueIDs, queueEvents, queueTenants []string
	for i, ne := range evs {
		e := ne.Event
		if e.IdempotencyKey != "" && first[key{e.TenantID, e.IdempotencyKey}] != i {
			continue // shares the outcome of the batch's first event with its key
		}
		w.add(ne)
		tasks = append(tasks, ne.Tasks...)
		for _, q := range ne.Queues {
			queueIDs, queueEvents, queueTenants = append(queueIDs, q), append(queueEvents, e.ID), append(queueTenants, e.TenantID)
		}
	}
	// An event a stored one duplicates is not inserted, nor its tasks and
	// queue messages (whose event then does not exist).
	b.Queue(`INSERT INTO events (`+strings.Join(eventColumns, ", ")+`)
		SELECT u.id, u.tenant_id, u.type, u.source, u.data, u.occurred_at, u.idempotency_key, u.created_at, u.raw,
			u.headers::jsonb, u.traceparent, u.request_headers::jsonb
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::timestamptz[], $7::text[], $8::timestamptz[],
			$9::bytea[], $10::text[], $11::text[], $12::text[], $13::timestamptz[])
			AS u(id, tenant_id, type, source, data, occurred_at, idempotency_key, created_at, raw, headers, traceparent, request_headers, since)
		WHERE u.idempotency_key IS NULL OR NOT EXISTS (SELECT 1 FROM events e
			WHERE e.tenant_id = u.tenant_id AND e.idempotency_key = u.idempotency_key AND e.created_at >= u.since)`,
		w.ids, w.tenants, w.types, w.sources, w.data, w.occurred, w.keys, w.created, w.raw, w.headers, w.traceparents, w.requestHeaders, w.sinces)
	guard := len(lockIDs) > 0
	if len(tasks) > 0 {
		queueInsertTasks(b, tasks, guard)
	}
	if len(queueIDs) > 0 {
		q := `INSERT INTO queue_messages (queue_id, event_id, tenant_id)
			SELECT u.q, u.e, u.t FROM unnest($1::text[], $2::text[], $3::text[]) AS u(q, e, t)`
		if guard {
			q += ` WHERE EXISTS (SELECT 1 FROM events e WHERE e.id = u.e)`
		}
		b.Queue(q, queueIDs, queueEvents, queueTenants)
	}

	keys, withTasks, queued := len(lockIDs) > 0, len(tasks) > 0, len(queueIDs) > 0
	return func(br pgx.BatchResults) ([]store.Accepted, error) {
		prev, err := readAccept(br, keys, withTasks, queued)
		if err != nil {
			return nil, err
		}
		out := make([]store.Accepted, len(evs))
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
			out[i] = store.Accepted{Event: e, Tasks: ne.Tasks}
		}
		return out, nil
	}
}

// readAccept reads the answers of queueAccept's statements in order: the
// stored events its keys found, by the index of the batch's event each
// duplicates, and whether the INSERTs went through.
func readAccept(br pgx.BatchResults, keys, tasks, queued bool) (map[int]event.Event, error) {
	prev := map[int]event.Event{}
	if keys {
		if _, err := br.Exec(); err != nil {
			return nil, fmt.Errorf("accept events: lock idempotency keys: %w", err)
		}
		rows, err := br.Query()
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
	if _, err := br.Exec(); err != nil {
		return nil, wrapWrite("accept events: insert events", err)
	}
	if tasks {
		if _, err := br.Exec(); err != nil {
			return nil, wrapWrite("accept events: insert tasks", err)
		}
	}
	if queued {
		if _, err := br.Exec(); err != nil {
			return nil, wrapWrite("accept events: put on queues", err)
		}
	}
	return prev, nil
}

// eventArrays are the columns of events to insert, one array each.
type eventArrays struct {
	ids, tenants, types, sources, traceparents, headers, requestHeaders []string
	keys                                                                []*string
	data, raw                                                           [][]byte
	occurred, created, sinces                                           []time.Time
}

func (w *eventArrays) add(ne store.NewEvent) {
	e := ne.Event
	var key *string
	if e.IdempotencyKey != "" {
		key = &e.IdempotencyKey
	}
	w.ids, w.tenants, w.types, w.sources = append(w.ids, e.ID), append(w.tenants, e.TenantID), append(w.types, e.Type), append(w.sources, e.Source)
	w.data, w.raw, w.keys = append(w.data, []byte(e.Data)), append(w.raw, e.Raw), append(w.keys, key)
	w.occurred, w.created, w.sinces = append(w.occurred, ts(e.OccurredAt)), append(w.created, ts(e.CreatedAt)), append(w.sinces, ts(ne.IdempotentSince))
	w.headers, w.traceparents = append(w.headers, string(toJSON(orEmpty(e.Headers)))), append(w.traceparents, e.Traceparent)
	w.requestHeaders = append(w.requestHeaders, string(toJSON(orEmpty(e.RequestHeaders))))
}

// queueInsertTasks queues one INSERT of tasks over arrays, leased from the
// database's now() as their LeaseFor asks; with guard, a task whose event
// was not inserted (a duplicate) is skipped.
func queueInsertTasks(b *pgx.Batch, tasks []store.Task, guard bool) {
	n := len(tasks)
	ids, tenants, events, types, kinds, dests, statuses := make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	owners, lastErrs := make([]string, n), make([]string, n)
	attempts := make([]int32, n)
	leaseUS := make([]int64, n)
	nexts, created, updated := make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	for i, t := range tasks {
		ids[i], tenants[i], events[i], types[i], kinds[i], dests[i], statuses[i] = t.ID, t.TenantID, t.EventID, t.EventType, t.Kind, t.DestinationID, t.Status
		attempts[i], lastErrs[i], nexts[i], created[i], updated[i] = int32(t.Attempts), t.LastError, ts(t.NextAt), ts(t.CreatedAt), ts(t.UpdatedAt)
		if t.LeaseFor > 0 {
			leaseUS[i], owners[i] = t.LeaseFor.Microseconds(), t.LeaseOwner
		}
	}
	q := `INSERT INTO tasks (` + strings.Join(taskColumns, ", ") + `)
		SELECT u.id, u.tenant_id, u.event_id, u.event_type, u.kind, u.destination_id, u.status, u.attempts, u.next_at,
			CASE WHEN u.lease_us > 0 THEN now() + u.lease_us * interval '1 microsecond' ELSE 'epoch' END,
			u.lease_owner, u.last_error, u.created_at, u.updated_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::timestamptz[],
			$10::bigint[], $11::text[], $12::text[], $13::timestamptz[], $14::timestamptz[])
			AS u(id, tenant_id, event_id, event_type, kind, destination_id, status, attempts, next_at, lease_us, lease_owner, last_error,
				created_at, updated_at)`
	if guard {
		q += ` WHERE EXISTS (SELECT 1 FROM events e WHERE e.id = u.event_id)`
	}
	b.Queue(q, ids, tenants, events, types, kinds, dests, statuses, attempts, nexts, leaseUS, owners, lastErrs, created, updated)
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
