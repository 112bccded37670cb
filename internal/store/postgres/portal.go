package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store"
)

const portalCols = `id, tenant_id, key_hash, label, event_types, link_hash, session_hash, created_at, expires_at, opened_at`

func scanPortal(r pgx.Row) (store.PortalSession, error) {
	var ps store.PortalSession
	var types []byte
	var opened *time.Time
	if err := r.Scan(&ps.ID, &ps.TenantID, &ps.KeyHash, &ps.Label, &types, &ps.LinkHash, &ps.SessionHash, &ps.CreatedAt, &ps.ExpiresAt,
		&opened); err != nil {
		return ps, err
	}
	ps.CreatedAt, ps.ExpiresAt = fromTS(ps.CreatedAt), fromTS(ps.ExpiresAt)
	if opened != nil {
		ps.OpenedAt = opened.UTC()
	}
	return ps, json.Unmarshal(types, &ps.EventTypes)
}

// CreatePortalSession inserts a portal session and prunes long-expired
// ones.
func (s *Store) CreatePortalSession(ctx context.Context, ps store.PortalSession) error {
	types, err := json.Marshal(store.Patterns(ps.EventTypes))
	if err != nil {
		return fmt.Errorf("create portal session: %w", err)
	}
	return s.transact(ctx, "create portal session", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM portal_sessions WHERE id IN
			(SELECT id FROM portal_sessions WHERE expires_at < $1 LIMIT 100)`, ps.CreatedAt.Add(-store.PortalPruneAfter)); err != nil {
			return wrapWrite("prune portal sessions", err)
		}
		var session []byte
		if len(ps.SessionHash) > 0 {
			session = ps.SessionHash
		}
		_, err := tx.Exec(ctx, `INSERT INTO portal_sessions (`+portalCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			ps.ID, ps.TenantID, ps.KeyHash, ps.Label, types, ps.LinkHash, session, ts(ps.CreatedAt), ts(ps.ExpiresAt), nullTS(ps.OpenedAt))
		return wrapWrite("create portal session", err)
	})
}

// OpenPortalSession opens a link's session once.
func (s *Store) OpenPortalSession(ctx context.Context, linkHash, sessionHash []byte, at time.Time) (store.PortalSession, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE portal_sessions SET opened_at = $1, session_hash = $2
		WHERE link_hash = $3 AND opened_at IS NULL AND expires_at > $1`, at, sessionHash, linkHash)
	opened := affected("open portal session", tag, err)
	if opened != nil && !errors.Is(opened, store.ErrNotFound) {
		return store.PortalSession{}, opened
	}
	ps, err := queryOne(ctx, s.pool, "get portal session", scanPortal, `SELECT `+portalCols+` FROM portal_sessions WHERE link_hash = $1`, linkHash)
	if err == nil && opened != nil {
		err = store.ErrConflict
	}
	return ps, err
}

// PortalSessionByHash returns the session of a session token's hash.
func (s *Store) PortalSessionByHash(ctx context.Context, sessionHash []byte) (store.PortalSession, error) {
	return queryOne(ctx, s.pool, "get portal session", scanPortal, `SELECT `+portalCols+` FROM portal_sessions WHERE session_hash = $1`, sessionHash)
}
