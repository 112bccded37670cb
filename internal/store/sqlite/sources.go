package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hookline/hookline/internal/store"
)

const sourceCols = `id, tenant_id, name, description, verification, config, enabled, created_at, updated_at`

func (s *Store) scanSource(sc scanner) (store.Source, error) {
	var src store.Source
	var sealed []byte
	var config string
	var created, updated int64
	err := sc.Scan(&src.ID, &src.TenantID, &src.Name, &src.Description, &sealed, &config, &src.Enabled, &created, &updated)
	if err != nil {
		return src, err
	}
	src.Config = []byte(config)
	src.CreatedAt, src.UpdatedAt = fromMS(created), fromMS(updated)
	if src.Verification, err = s.box.Open(sealed); err != nil {
		return src, fmt.Errorf("decrypt verification of source %s: %w", src.ID, err)
	}
	return src, nil
}

// CreateSource inserts a source; ErrConflict when its name is taken.
func (s *Store) CreateSource(ctx context.Context, src store.Source) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO sources (`+sourceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		src.ID, src.TenantID, src.Name, src.Description, s.box.Seal(src.Verification), string(src.Config), src.Enabled,
		ms(src.CreatedAt), ms(src.UpdatedAt))
	return wrapWrite("create source", err)
}

// GetSource returns one of a tenant's sources.
func (s *Store) GetSource(ctx context.Context, tenantID, id string) (store.Source, error) {
	return queryOne(ctx, s.r, "get source", s.scanSource, `SELECT `+sourceCols+` FROM sources WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// SourceByName finds a source by its global name.
func (s *Store) SourceByName(ctx context.Context, name string) (store.Source, error) {
	return queryOne(ctx, s.r, "get source by name", s.scanSource, `SELECT `+sourceCols+` FROM sources WHERE name = ?`, name)
}

// ListSources lists a tenant's sources, newest first.
func (s *Store) ListSources(ctx context.Context, tenantID string, p store.Page) ([]store.Source, error) {
	return queryAll(ctx, s.r, "list sources", s.scanSource, `SELECT `+sourceCols+` FROM sources WHERE tenant_id = ? AND (? = '' OR id < ?)
		ORDER BY id DESC LIMIT ?`, tenantID, p.Cursor, p.Cursor, p.Size())
}

// UpdateSource replaces a source's mutable fields.
func (s *Store) UpdateSource(ctx context.Context, src store.Source) error {
	return s.change(ctx, "update source", `UPDATE sources SET name = ?, description = ?, verification = ?, config = ?, enabled = ?,
		updated_at = ? WHERE tenant_id = ? AND id = ?`,
		src.Name, src.Description, s.box.Seal(src.Verification), string(src.Config), src.Enabled, ms(src.UpdatedAt), src.TenantID, src.ID)
}

// DeleteSource deletes a source and its rejection log.
func (s *Store) DeleteSource(ctx context.Context, tenantID, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sources WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err := affected("delete source", res, err); err != nil {
		return err
	}
	_, err = s.w.ExecContext(ctx, `DELETE FROM rejections WHERE source_id = ?`, id)
	return wrapWrite("delete rejections", err)
}

// AddRejection records a refused request, keeping the newest keep per source.
func (s *Store) AddRejection(ctx context.Context, r store.Rejection, keep int) error {
	return s.transact(ctx, "add rejection", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO rejections (id, tenant_id, source_id, created_at, reason, method, remote_addr, headers, body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.TenantID, r.SourceID, ms(r.CreatedAt), r.Reason, r.Method, r.RemoteAddr,
			headersJSON(r.Headers), r.Body); err != nil {
			return fmt.Errorf("add rejection: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM rejections WHERE source_id = ? AND id NOT IN (
			SELECT id FROM rejections WHERE source_id = ? ORDER BY id DESC LIMIT ?)`, r.SourceID, r.SourceID, keep); err != nil {
			return fmt.Errorf("prune rejections: %w", err)
		}
		return nil
	})
}

func scanRejection(sc scanner) (store.Rejection, error) {
	var r store.Rejection
	var created int64
	var headers string
	err := sc.Scan(&r.ID, &r.TenantID, &r.SourceID, &created, &r.Reason, &r.Method, &r.RemoteAddr, &headers, &r.Body)
	r.CreatedAt = fromMS(created)
	if err == nil {
		err = unmarshal(headers, &r.Headers)
	}
	return r, err
}

// ListRejections lists a source's rejections, newest first.
func (s *Store) ListRejections(ctx context.Context, tenantID, sourceID string, p store.Page) ([]store.Rejection, error) {
	return queryAll(ctx, s.r, "list rejections", scanRejection, `SELECT id, tenant_id, source_id, created_at, reason, method, remote_addr, headers, body
		FROM rejections WHERE tenant_id = ? AND source_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`,
		tenantID, sourceID, p.Cursor, p.Cursor, p.Size())
}
