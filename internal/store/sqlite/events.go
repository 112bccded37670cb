package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

const eventCols = `id, tenant_id, type, source, data, occurred_at, coalesce(idempotency_key, ''), created_at, raw, headers, traceparent, request_headers`

func scanEvent(sc scanner) (event.Event, error) {
	var e event.Event
	var occurred, created int64
	var headers, request string
	err := sc.Scan(&e.ID, &e.TenantID, &e.Type, &e.Source, &e.Data, &occurred, &e.IdempotencyKey, &created, &e.Raw, &headers, &e.Traceparent, &request)
	e.OccurredAt, e.CreatedAt = fromMS(occurred), fromMS(created)
	if err == nil && headers != "{}" {
		err = unmarshal(headers, &e.Headers)
	}
	if err == nil && request != "{}" {
		err = unmarshal(request, &e.RequestHeaders)
	}
	return e, err
}

// AcceptEvents writes events and their tasks in one transaction. A
// failure is always a rollback: SQLite's COMMIT is local, and an
// interrupted one (ctx done) does not take effect.
func (s *Store) AcceptEvents(ctx context.Context, evs []store.NewEvent) ([]store.Accepted, error) {
	res, _, err := s.Commit(ctx, evs, nil)
	return res, err
}

// Commit writes, in one transaction, evs as AcceptEvents does and rs as
// CompleteTasks does. A failure is always a rollback.
func (s *Store) Commit(ctx context.Context, evs []store.NewEvent, rs []store.TaskResult) (accepted []store.Accepted, stale []string, err error) {
	defer func() { err = classify(err) }()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("commit: begin: %w", err)
	}
	defer tx.Rollback()
	if accepted, err = s.acceptEvents(ctx, tx, evs); err != nil {
		return nil, nil, err
	}
	if stale, err = s.completeTasks(ctx, tx, rs); err != nil {
		return nil, nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, fmt.Errorf("commit: %w", err)
	}
	return accepted, stale, nil
}

// acceptEvents is AcceptEvents inside tx.
func (s *Store) acceptEvents(ctx context.Context, tx *sql.Tx, evs []store.NewEvent) ([]store.Accepted, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	out := make([]store.Accepted, len(evs))
	type idemKey struct{ tenant, key string }
	inBatch := make(map[idemKey]int)
	now := s.clock.Now()
	for i, ne := range evs {
		e := ne.Event
		if e.IdempotencyKey != "" {
			k := idemKey{e.TenantID, e.IdempotencyKey}
			if j, ok := inBatch[k]; ok {
				out[i] = store.Accepted{Event: out[j].Event, Duplicate: true}
				continue
			}
			prev, err := scanEvent(tx.QueryRowContext(ctx, sqlIdemCheck,
				e.TenantID, e.IdempotencyKey, ms(ne.IdempotentSince)))
			switch {
			case err == nil:
				out[i] = store.Accepted{Event: prev, Duplicate: true}
				inBatch[k] = i
				continue
			case !errors.Is(err, sql.ErrNoRows):
				return nil, fmt.Errorf("accept events: check idempotency key: %w", err)
			}
			inBatch[k] = i
		}
		var idem any
		if e.IdempotencyKey != "" {
			idem = e.IdempotencyKey
		}
		if _, err := tx.ExecContext(ctx, sqlInsertEvent, e.ID, e.TenantID, e.Type, e.Source, []byte(e.Data), ms(e.OccurredAt), idem,
			ms(e.CreatedAt), e.Raw, headersJSON(e.Headers), e.Traceparent, headersJSON(e.RequestHeaders)); err != nil {
			return nil, fmt.Errorf("accept events: insert event: %w", err)
		}
		for _, q := range ne.Queues {
			if _, err := tx.ExecContext(ctx, `INSERT INTO queue_messages (queue_id, event_id, tenant_id) VALUES (?, ?, ?)`, q, e.ID, e.TenantID); err != nil {
				return nil, fmt.Errorf("accept events: put on queue: %w", err)
			}
		}
		if err := insertTasks(ctx, tx, now, ne.Tasks); err != nil {
			return nil, fmt.Errorf("accept events: %w", err)
		}
		out[i] = store.Accepted{Event: e, Tasks: ne.Tasks}
	}
	return out, nil
}

// insertTasks inserts tasks inside tx; one
// with a LeaseFor is leased from now, the database's clock.
func insertTasks(ctx context.Context, tx *sql.Tx, now time.Time, ts []store.Task) error {
	for _, t := range ts {
		var lease int64
		var owner string
		if t.LeaseFor > 0 {
			lease, owner = ms(now.Add(t.LeaseFor)), t.LeaseOwner
		}
		if _, err := tx.ExecContext(ctx, sqlInsertTask,
			t.ID, t.TenantID, t.EventID, t.EventType, t.Kind, t.DestinationID, t.Status, t.Attempts, ms(t.NextAt),
			lease, owner, t.LastError, ms(t.CreatedAt), ms(t.UpdatedAt)); err != nil {
			return fmt.Errorf("insert task: %w", err)
		}
	}
	return nil
}

// GetEvent returns one of a tenant's events.
func (s *Store) GetEvent(ctx context.Context, tenantID, id string) (event.Event, error) {
	return queryOne(ctx, s.r, "get event", scanEvent, `SELECT `+eventCols+` FROM events WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// ListEvents lists a tenant's events, newest first.
func (s *Store) ListEvents(ctx context.Context, tenantID string, q store.EventQuery) ([]event.Event, error) {
	before := ms(q.Before)
	if q.Source != "" {
		// A source's events by events_source: the planner cannot see that
		// the source term of the query below is set, and walks every
		// event of the tenant for a source that received few.
		return queryAll(ctx, s.r, "list events", scanEvent, `SELECT `+eventCols+` FROM events INDEXED BY events_source
			WHERE tenant_id = ? AND source = ? AND (? = '' OR id < ?) AND (? = '' OR type = ?)
			AND created_at >= ? AND (? = 0 OR created_at < ?)
			ORDER BY id DESC LIMIT ?`,
			tenantID, q.Source, q.Cursor, q.Cursor, q.Type, q.Type, ms(q.After), before, before, q.Page.Size())
	}
	return queryAll(ctx, s.r, "list events", scanEvent, `SELECT `+eventCols+` FROM events
		WHERE tenant_id = ? AND (? = '' OR id < ?) AND (? = '' OR type = ?)
		AND created_at >= ? AND (? = 0 OR created_at < ?)
		ORDER BY id DESC LIMIT ?`,
		tenantID, q.Cursor, q.Cursor, q.Type, q.Type, ms(q.After), before, before, q.Page.Size())
}
