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

const queueCols = `id, tenant_id, name, source, event_types, created_at, updated_at`

func scanQueue(sc scanner) (store.Queue, error) {
	var q store.Queue
	var types string
	var created, updated int64
	if err := sc.Scan(&q.ID, &q.TenantID, &q.Name, &q.Source, &types, &created, &updated); err != nil {
		return q, err
	}
	q.CreatedAt, q.UpdatedAt = fromMS(created), fromMS(updated)
	return q, unmarshal(types, &q.EventTypes)
}

// PutQueue creates a queue or replaces its filter.
func (s *Store) PutQueue(ctx context.Context, q store.Queue) (store.Queue, error) {
	return inTx(ctx, s, "put queue", func(tx *sql.Tx) (store.Queue, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO queues (`+queueCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, name) DO UPDATE SET source = excluded.source, event_types = excluded.event_types, updated_at = excluded.updated_at`,
			q.ID, q.TenantID, q.Name, q.Source, toJSON(store.Patterns(q.EventTypes)), ms(q.CreatedAt), ms(q.UpdatedAt)); err != nil {
			return store.Queue{}, wrapWrite("put queue", err)
		}
		return queryOne(ctx, tx, "put queue", scanQueue, `SELECT `+queueCols+` FROM queues WHERE tenant_id = ? AND name = ?`, q.TenantID, q.Name)
	})
}

// GetQueue returns one of a tenant's queues by name.
func (s *Store) GetQueue(ctx context.Context, tenantID, name string) (store.Queue, error) {
	return queryOne(ctx, s.r, "get queue", scanQueue, `SELECT `+queueCols+` FROM queues WHERE tenant_id = ? AND name = ?`, tenantID, name)
}

// ListQueues lists a tenant's queues by name.
func (s *Store) ListQueues(ctx context.Context, tenantID string) ([]store.Queue, error) {
	return queryAll(ctx, s.r, "list queues", scanQueue, `SELECT `+queueCols+` FROM queues WHERE tenant_id = ? ORDER BY name`, tenantID)
}

// DeleteQueue deletes a queue and its messages.
func (s *Store) DeleteQueue(ctx context.Context, tenantID, name string) error {
	return s.transact(ctx, "delete queue", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM queue_messages WHERE queue_id IN
			(SELECT id FROM queues WHERE tenant_id = ? AND name = ?)`, tenantID, name); err != nil {
			return wrapWrite("delete queue messages", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM queues WHERE tenant_id = ? AND name = ?`, tenantID, name)
		return affected("delete queue", res, err)
	})
}

// EnqueueEvents puts existing events of the tenant on a queue.
func (s *Store) EnqueueEvents(ctx context.Context, tenantID, queueID string, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := s.w.ExecContext(ctx, `INSERT INTO queue_messages (queue_id, event_id, tenant_id)
		SELECT ?, e.id, e.tenant_id FROM events e WHERE e.tenant_id = ? AND e.id IN (SELECT value FROM json_each(?))
		AND EXISTS (SELECT 1 FROM queues q WHERE q.id = ? AND q.tenant_id = e.tenant_id)
		ON CONFLICT DO NOTHING`, queueID, tenantID, toJSON(ids), queueID)
	if err != nil {
		return 0, wrapWrite("enqueue events", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// LeaseMessages leases visible messages, oldest event first. SQLite has
// one writer, so two leases never pick the same message.
func (s *Store) LeaseMessages(ctx context.Context, tenantID, queueID string, limit int, visibility time.Duration) ([]store.QueueMessage, error) {
	now := s.clock.Now()
	return inTx(ctx, s, "lease messages", func(tx *sql.Tx) ([]store.QueueMessage, error) {
		rows, err := tx.QueryContext(ctx, `UPDATE queue_messages SET visible_at = ?, lease_token = lease_token + 1, deliveries = deliveries + 1
			WHERE queue_id = ? AND event_id IN (SELECT event_id FROM queue_messages
				WHERE queue_id = ? AND tenant_id = ? AND visible_at <= ? ORDER BY event_id LIMIT ?)
			RETURNING event_id, lease_token, deliveries`,
			ms(now.Add(visibility)), queueID, queueID, tenantID, ms(now), limit)
		if err != nil {
			return nil, fmt.Errorf("lease messages: %w", err)
		}
		leased, err := collect(rows, func(sc scanner) (m store.QueueMessage, err error) {
			return m, sc.Scan(&m.Event.ID, &m.Token, &m.Deliveries)
		})
		if err != nil || len(leased) == 0 {
			return nil, err
		}
		ids := make([]string, len(leased))
		for i, m := range leased {
			ids[i] = m.Event.ID
		}
		evs, err := queryAll(ctx, tx, "lease messages: load events", scanEvent, `SELECT `+eventCols+` FROM events
			WHERE tenant_id = ? AND id IN (SELECT value FROM json_each(?)) ORDER BY id`, tenantID, toJSON(ids))
		if err != nil {
			return nil, err
		}
		return joinLeased(leased, evs), nil
	})
}

// joinLeased pairs leased messages with their events, in event order; a
// message whose event is gone (pruned meanwhile) is left out.
func joinLeased(leased []store.QueueMessage, evs []event.Event) []store.QueueMessage {
	byID := make(map[string]store.QueueMessage, len(leased))
	for _, m := range leased {
		byID[m.Event.ID] = m
	}
	out := make([]store.QueueMessage, 0, len(evs))
	for _, e := range evs {
		m := byID[e.ID]
		m.Event = e
		out = append(out, m)
	}
	return out
}

// AckMessages deletes the messages still leased under their receipts.
func (s *Store) AckMessages(ctx context.Context, tenantID, queueID string, rs []store.QueueReceipt) ([]store.QueueReceipt, error) {
	return s.settle(ctx, "ack messages", `DELETE FROM queue_messages`, nil, tenantID, queueID, rs)
}

// NackMessages makes the messages still leased under their receipts
// visible after delay.
func (s *Store) NackMessages(ctx context.Context, tenantID, queueID string, rs []store.QueueReceipt, delay time.Duration) ([]store.QueueReceipt, error) {
	return s.settle(ctx, "nack messages", `UPDATE queue_messages SET visible_at = ?`, []any{ms(s.clock.Now().Add(delay))}, tenantID, queueID, rs)
}

// settle runs head with its args (a DELETE or an UPDATE of
// queue_messages) on each message its receipt still names and returns the
// other receipts.
func (s *Store) settle(ctx context.Context, action, head string, args []any, tenantID, queueID string, rs []store.QueueReceipt) ([]store.QueueReceipt, error) {
	return inTx(ctx, s, action, func(tx *sql.Tx) ([]store.QueueReceipt, error) {
		var stale []store.QueueReceipt
		for _, r := range rs {
			res, err := tx.ExecContext(ctx, head+` WHERE queue_id = ? AND tenant_id = ? AND event_id = ? AND lease_token = ?`,
				append(args, queueID, tenantID, r.EventID, r.Token)...)
			if err := affected(action, res, err); errors.Is(err, store.ErrNotFound) {
				stale = append(stale, r)
			} else if err != nil {
				return nil, err
			}
		}
		return stale, nil
	})
}

// CountMessages counts a queue's messages and those invisible now
// (leased, or rejected with a delay).
func (s *Store) CountMessages(ctx context.Context, tenantID, queueID string) (total, leased int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(visible_at > ?), 0) FROM queue_messages WHERE queue_id = ? AND tenant_id = ?`,
		ms(s.clock.Now()), queueID, tenantID).Scan(&total, &leased)
	return total, leased, wrapRead("count messages", err)
}
