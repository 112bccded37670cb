package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store"
)

var _ store.Coordinator = (*Store)(nil)

// workChannel is the LISTEN/NOTIFY channel of the engine's announcements.
// The payload of new work is empty: listeners claim from the tasks table,
// so no event data ever travels through NOTIFY and its 8,000-byte limit;
// other payloads are short engine messages (destinations whose circuit a
// person closed).
const workChannel = "hookline_work"

// Heartbeat upserts node, alive now by the database's clock, and
// returns the live nodes.
func (s *Store) Heartbeat(ctx context.Context, node store.Node, ttl time.Duration) ([]store.Node, error) {
	if _, err := s.pool.Exec(ctx, `INSERT INTO nodes (id, addr, started_at, heartbeat_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (id) DO UPDATE SET addr = excluded.addr, heartbeat_at = excluded.heartbeat_at`,
		node.ID, node.Addr, ts(node.StartedAt)); err != nil {
		return nil, fmt.Errorf("heartbeat: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT id, addr, started_at, heartbeat_at FROM nodes
		WHERE heartbeat_at > now() - $1 * interval '1 microsecond' ORDER BY id`, interval(ttl))
	if err != nil {
		return nil, fmt.Errorf("heartbeat: list nodes: %w", err)
	}
	return collect(rows, func(r pgx.Row) (store.Node, error) {
		var n store.Node
		err := r.Scan(&n.ID, &n.Addr, &n.StartedAt, &n.HeartbeatAt)
		n.StartedAt, n.HeartbeatAt = n.StartedAt.UTC(), n.HeartbeatAt.UTC()
		return n, err
	})
}

// Reap forgets the nodes silent for longer than ttl and, in the same
// transaction, drops their bucket leases and the leases of the unfinished
// tasks they held (owner and token stay, so the node that claims a task
// next gives it a new token and a late result of the silent node changes
// nothing). Nodes reaping at once each forget a node once: the DELETE
// locks its row.
func (s *Store) Reap(ctx context.Context, ttl time.Duration) ([]string, int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("reap nodes: begin: %w", err)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `DELETE FROM nodes WHERE heartbeat_at <= now() - $1 * interval '1 microsecond' RETURNING id`, interval(ttl))
	if err != nil {
		return nil, 0, fmt.Errorf("reap nodes: %w", err)
	}
	gone, err := collect(rows, func(r pgx.Row) (id string, err error) { return id, r.Scan(&id) })
	if err != nil || len(gone) == 0 {
		return nil, 0, err
	}
	if _, err := tx.Exec(ctx, `UPDATE buckets SET node_id = '', lease_until = 'epoch' WHERE node_id = ANY($1)`, gone); err != nil {
		return nil, 0, fmt.Errorf("reap nodes: release buckets: %w", err)
	}
	// The unfinished tasks are few next to the finished: the partial
	// index tasks_due covers them.
	tag, err := tx.Exec(ctx, `UPDATE tasks SET lease_until = 'epoch' WHERE id IN (
		SELECT id FROM tasks WHERE status IN ('pending', 'retrying') AND lease_owner = ANY($1) AND lease_until > now()
		ORDER BY id FOR UPDATE)`, gone)
	if err != nil {
		return nil, 0, fmt.Errorf("reap nodes: release tasks: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, 0, fmt.Errorf("reap nodes: commit: %w", err)
	}
	return gone, int(tag.RowsAffected()), nil
}

// Leave removes a node from the members.
func (s *Store) Leave(ctx context.Context, nodeID string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM nodes WHERE id = $1`, nodeID)
	return wrapWrite("leave the cluster", err)
}

// Acquire takes or renews bucket leases that are free, expired or already
// this node's, for lease by the database's clock, and returns every
// bucket the node holds afterwards.
func (s *Store) Acquire(ctx context.Context, nodeID string, buckets []int, lease time.Duration) ([]int, error) {
	want := make([]int32, len(buckets))
	for i, b := range buckets {
		want[i] = int32(b)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE buckets SET node_id = $1, lease_until = now() + $2 * interval '1 microsecond'
		WHERE bucket = ANY($3) AND (node_id = $1 OR node_id = '' OR lease_until < now())`, nodeID, interval(lease), want); err != nil {
		return nil, fmt.Errorf("acquire buckets: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT bucket FROM buckets WHERE node_id = $1 AND lease_until > now() ORDER BY bucket`, nodeID)
	if err != nil {
		return nil, fmt.Errorf("acquire buckets: %w", err)
	}
	return collect(rows, func(r pgx.Row) (b int, err error) { return b, r.Scan(&b) })
}

// Release gives buckets up.
func (s *Store) Release(ctx context.Context, nodeID string, buckets []int) error {
	ids := make([]int32, len(buckets))
	for i, b := range buckets {
		ids[i] = int32(b)
	}
	_, err := s.pool.Exec(ctx, `UPDATE buckets SET node_id = '', lease_until = 'epoch' WHERE node_id = $1 AND bucket = ANY($2)`, nodeID, ids)
	return wrapWrite("release buckets", err)
}

// Owners lists every bucket's lease.
func (s *Store) Owners(ctx context.Context) ([]store.Ownership, error) {
	rows, err := s.pool.Query(ctx, `SELECT bucket, node_id, lease_until FROM buckets ORDER BY bucket`)
	if err != nil {
		return nil, fmt.Errorf("list bucket owners: %w", err)
	}
	return collect(rows, func(r pgx.Row) (store.Ownership, error) {
		var o store.Ownership
		err := r.Scan(&o.Bucket, &o.NodeID, &o.LeaseUntil)
		o.LeaseUntil = fromTS(o.LeaseUntil)
		return o, err
	})
}

// Notify sends msg (empty: new work) to every listening node.
func (s *Store) Notify(ctx context.Context, msg string) error {
	_, err := s.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, s.channel(), msg)
	return wrapWrite("notify", err)
}

// channel is the notification channel, per schema so test schemas do not
// wake each other.
func (s *Store) channel() string {
	if s.schema == "" {
		return workChannel
	}
	return workChannel + "_" + s.schema
}

// Listen calls fn with every announcement until ctx ends. A lost
// connection is re-established after a short pause; fn("") is called after
// each reconnect since announcements may have been missed.
func (s *Store) Listen(ctx context.Context, fn func(msg string)) error {
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, fn)
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
		_ = err // reconnect; the poller covers the gap
		fn("")
	}
	return nil
}

func (s *Store) listenOnce(ctx context.Context, fn func(msg string)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{s.channel()}.Sanitize()); err != nil {
		return err
	}
	defer func() {
		// A pooled connection must not keep listening.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if _, err := conn.Exec(uctx, `UNLISTEN *`); err != nil {
			conn.Conn().Close(uctx)
		}
	}()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return nil
			}
			return err
		}
		fn(n.Payload)
	}
}
