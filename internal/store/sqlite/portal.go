package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/store"
)

const portalCols = `id, tenant_id, key_hash, label, event_types, link_hash, session_hash, created_at, expires_at, opened_at`

func scanPortal(sc scanner) (store.PortalSession, error) {
	var ps store.PortalSession
	var types string
	var created, expires, opened int64
	if err := sc.Scan(&ps.ID, &ps.TenantID, &ps.KeyHash, &ps.Label, &types, &ps.LinkHash, &ps.SessionHash, &created, &expires, &opened); err != nil {
		return ps, err
	}
	ps.CreatedAt, ps.ExpiresAt, ps.OpenedAt = fromMS(created), fromMS(expires), fromMS(opened)
	return ps, json.Unmarshal([]byte(types), &ps.EventTypes)
}

// CreatePortalSession inserts a portal session and prunes long-expired
// ones.
func (s *Store) CreatePortalSession(ctx context.Context, ps store.PortalSession) error {
	types, err := json.Marshal(store.Patterns(ps.EventTypes))
	if err != nil {
		return fmt.Errorf("create portal session: %w", err)
	}
	return s.transact(ctx, "create portal session", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM portal_sessions WHERE id IN
			(SELECT id FROM portal_sessions WHERE expires_at < ? LIMIT 100)`, ms(ps.CreatedAt.Add(-store.PortalPruneAfter))); err != nil {
			return wrapWrite("prune portal sessions", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO portal_sessions (`+portalCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ps.ID, ps.TenantID, ps.KeyHash, ps.Label, string(types), ps.LinkHash, hashOrNull(ps.SessionHash),
			ms(ps.CreatedAt), ms(ps.ExpiresAt), ms(ps.OpenedAt))
		return wrapWrite("create portal session", err)
	})
}

// OpenPortalSession opens a link's session once.
func (s *Store) OpenPortalSession(ctx context.Context, linkHash, sessionHash []byte, at time.Time) (store.PortalSession, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE portal_sessions SET opened_at = ?, session_hash = ?
		WHERE link_hash = ? AND opened_at = 0 AND expires_at > ?`, ms(at), sessionHash, linkHash, ms(at))
	opened := affected("open portal session", res, err)
	if opened != nil && !errors.Is(opened, store.ErrNotFound) {
		return store.PortalSession{}, opened
	}
	ps, err := queryOne(ctx, s.w, "get portal session", scanPortal, `SELECT `+portalCols+` FROM portal_sessions WHERE link_hash = ?`, linkHash)
	if err == nil && opened != nil {
		err = store.ErrConflict
	}
	return ps, err
}

// PortalSessionByHash returns the session of a session token's hash.
func (s *Store) PortalSessionByHash(ctx context.Context, sessionHash []byte) (store.PortalSession, error) {
	return queryOne(ctx, s.r, "get portal session", scanPortal, `SELECT `+portalCols+` FROM portal_sessions WHERE session_hash = ?`, sessionHash)
}

// hashOrNull is a hash column's value: NULL for none, so the unique
// index holds only set hashes.
func hashOrNull(h []byte) any {
	if len(h) == 0 {
		return nil
	}
	return h
}
