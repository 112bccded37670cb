package postgres

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store"
)

const queueCols = `id, tenant_id, name, source, event_types, created_at, updated_at`

func scanQueue(r pgx.Row) (store.Queue, error) {
	var q store.Queue
	var types []byte
	if err := r.Scan(&q.ID, &q.TenantID, &q.Name, &q.Source, &types, &q.CreatedAt, &q.UpdatedAt); err != nil {
		return q, err
	}
	q.CreatedAt, q.UpdatedAt = fromTS(q.CreatedAt), fromTS(q.UpdatedAt)
	return q, json.Unmarshal(types, &q.EventTypes)
}

// PutQueue creates a queue or replaces its filter.
func (s *Store) PutQueue(ctx context.Context, q store.Queue) (store.Queue, error) {
	out, err := queryOne(ctx, s.pool, "put queue", scanQueue, `INSERT INTO queues (`+queueCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (tenant_id, name) DO UPDATE SET source = excluded.source, event_types = excluded.event_types, updated_at = excluded.updated_at
		RETURNING `+queueCols, q.ID, q.TenantID, q.Name, q.Source, toJSON(store.Patterns(q.EventTypes)), ts(q.CreatedAt), ts(q.UpdatedAt))
	if err != nil {
		return out, wrapWrite("put queue", err)
	}
	return out, nil
}

// GetQueue returns one of a tenant's queues by name.
func (s *Store) GetQueue(ctx context.Context, tenantID, name string) (store.Queue, error) {
	return queryOne(ctx, s.pool, "get queue", scanQueue, `SELECT `+queueCols+` FROM queues WHERE tenant_id = $1 AND name = $2`, tenantID, name)
}

// ListQueues lists a tenant's queues by name.
func (s *Store) ListQueues(ctx context.Context, tenantID string) ([]store.Queue, error) {
	return queryAll(ctx, s.pool, "list queues", scanQueue, `SELECT `+queueCols+` FROM queues WHERE tenant_id = $1 ORDER BY name`, tenantID)
}

// DeleteQueue deletes a queue and its messages.
func (s *Store) DeleteQueue(ctx context.Context, tenantID, name string) error {
	return s.transact(ctx, "delete queue", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM queue_messages WHERE queue_id IN
			(SELECT id FROM queues WHERE tenant_id = $1 AND name = $2)`, tenantID, name); err != nil {
			return wrapWrite("delete queue messages", err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM queues WHERE tenant_id = $1 AND name = $2`, tenantID, name)
		return affected("delete queue", tag, err)
	})
}

// EnqueueEvents puts existing events of the tenant on a queue.
func (s *Store) EnqueueEvents(ctx context.Context, tenantID, queueID string, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO queue_messages (queue_id, event_id, tenant_id)
		SELECT $1, e.id, e.tenant_id FROM events e WHERE e.tenant_id = $2 AND e.id = ANY($3)
		AND EXISTS (SELECT 1 FROM queues q WHERE q.id = $1 AND q.tenant_id = e.tenant_id)
		ON CONFLICT DO NOTHING`, queueID, tenantID, ids)
	if err != nil {
		return 0, wrapWrite("enqueue events", err)
	}
	return int(tag.RowsAffected()), nil
}

// LeaseMessages leases visible messages, oldest event first, in one
// statement: FOR UPDATE SKIP LOCKED keeps concurrent leases from picking
// the same message, and the lease is set by the database's clock.
func (s *Store) LeaseMessages(ctx context.Context, tenantID, queueID string, limit int, visibility time.Duration) ([]store.QueueMessage, error) {
	return queryAll(ctx, s.pool, "lease messages", func(r pgx.Row) (store.QueueMessage, error) {
		var m store.QueueMessage
		var err error
		m.Event, err = scanEvent(r, &m.Token, &m.Deliveries)
		return m, err
	}, `WITH c AS (
			SELECT queue_id, event_id FROM queue_messages
			WHERE queue_id = $1 AND tenant_id = $2 AND visible_at <= now()
			ORDER BY event_id LIMIT $3 FOR UPDATE SKIP LOCKED),
		u AS (
			UPDATE queue_messages m SET visible_at = now() + $4 * interval '1 microsecond',
				lease_token = m.lease_token + 1, deliveries = m.deliveries + 1
			FROM c WHERE m.queue_id = c.queue_id AND m.event_id = c.event_id
			RETURNING m.event_id, m.lease_token, m.deliveries)
		SELECT `+eventColsE+`, u.lease_token, u.deliveries FROM u JOIN events e ON e.id = u.event_id ORDER BY e.id`,
		queueID, tenantID, limit, interval(visibility))
}

// AckMessages deletes the messages still leased under their receipts.
func (s *Store) AckMessages(ctx context.Context, tenantID, queueID string, rs []store.QueueReceipt) ([]store.QueueReceipt, error) {
	return s.settle(ctx, "ack messages", `DELETE FROM queue_messages m USING`, nil, tenantID, queueID, rs)
}

// NackMessages makes the messages still leased under their receipts
// visible after delay.
func (s *Store) NackMessages(ctx context.Context, tenantID, queueID string, rs []store.QueueReceipt, delay time.Duration) ([]store.QueueReceipt, error) {
	return s.settle(ctx, "nack messages", `UPDATE queue_messages m SET visible_at = now() + $5 * interval '1 microsecond' FROM`,
		[]any{interval(delay)}, tenantID, queueID, rs)
}

// settle runs head (a DELETE of queue_messages m ending in USING, or an
// UPDATE ending in FROM, whose own parameters, extra, start at $5) on
// each message its receipt still names, in one statement, and returns the
// other receipts.
func (s *Store) settle(ctx context.Context, action, head string, extra []any, tenantID, queueID string, rs []store.QueueReceipt) ([]store.QueueReceipt, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	ids, tokens := make([]string, len(rs)), make([]int64, len(rs))
	for i, r := range rs {
		ids[i], tokens[i] = r.EventID, r.Token
	}
	done, err := queryAll(ctx, s.pool, action, func(r pgx.Row) (rc store.QueueReceipt, err error) { return rc, r.Scan(&rc.EventID, &rc.Token) },
		head+` unnest($3::text[], $4::bigint[]) AS r(event_id, token)
		WHERE m.queue_id = $1 AND m.tenant_id = $2 AND m.event_id = r.event_id AND m.lease_token = r.token
		RETURNING m.event_id, m.lease_token`, append([]any{queueID, tenantID, ids, tokens}, extra...)...)
	if err != nil {
		return nil, err
	}
	var stale []store.QueueReceipt
	for _, r := range rs {
		if !slices.Contains(done, r) {
			stale = append(stale, r)
		}
	}
	return stale, nil
}

// CountMessages counts a queue's messages and those invisible now
// (leased, or rejected with a delay).
func (s *Store) CountMessages(ctx context.Context, tenantID, queueID string) (total, leased int, err error) {
	err = s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE visible_at > now()) FROM queue_messages WHERE queue_id = $1 AND tenant_id = $2`,
		queueID, tenantID).Scan(&total, &leased)
	return total, leased, wrapRead("count messages", err)
}
