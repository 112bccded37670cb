package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store"
)

const sourceCols = `id, tenant_id, name, description, verification, config, enabled, created_at, updated_at`

func (s *Store) scanSource(r pgx.Row) (store.Source, error) {
	var src store.Source
	var sealed, config []byte
	err := r.Scan(&src.ID, &src.TenantID, &src.Name, &src.Description, &sealed, &config, &src.Enabled, &src.CreatedAt, &src.UpdatedAt)
	if err != nil {
		return src, err
	}
	src.CreatedAt, src.UpdatedAt = fromTS(src.CreatedAt), fromTS(src.UpdatedAt)
	src.Config = config
	if src.Verification, err = s.box.Open(sealed); err != nil {
		return src, fmt.Errorf("decrypt verification of source %s: %w", src.ID, err)
	}
	return src, nil
}

func configJSON(b []byte) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return b
}

// CreateSource inserts a source.
func (s *Store) CreateSource(ctx context.Context, src store.Source) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sources (`+sourceCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		src.ID, src.TenantID, src.Name, src.Description, s.box.Seal(src.Verification), configJSON(src.Config), src.Enabled,
		ts(src.CreatedAt), ts(src.UpdatedAt))
	return wrapWrite("create source", err)
}

// GetSource returns one of a tenant's sources.
func (s *Store) GetSource(ctx context.Context, tenantID, id string) (store.Source, error) {
	return queryOne(ctx, s.pool, "get source", s.scanSource, `SELECT `+sourceCols+` FROM sources WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// SourceByName finds a source by its global name.
func (s *Store) SourceByName(ctx context.Context, name string) (store.Source, error) {
	return queryOne(ctx, s.pool, "get source by name", s.scanSource, `SELECT `+sourceCols+` FROM sources WHERE name = $1`, name)
}

// ListSources lists a tenant's sources, newest first.
func (s *Store) ListSources(ctx context.Context, tenantID string, p store.Page) ([]store.Source, error) {
	return queryAll(ctx, s.pool, "list sources", s.scanSource, `SELECT `+sourceCols+` FROM sources WHERE tenant_id = $1 AND ($2 = '' OR id < $2)
		ORDER BY id DESC LIMIT $3`, tenantID, p.Cursor, p.Size())
}

// UpdateSource replaces a source's mutable fields.
func (s *Store) UpdateSource(ctx context.Context, src store.Source) error {
	return s.change(ctx, "update source", `UPDATE sources SET name = $1, description = $2, verification = $3, config = $4, enabled = $5,
		updated_at = $6 WHERE tenant_id = $7 AND id = $8`, src.Name, src.Description, s.box.Seal(src.Verification),
		configJSON(src.Config), src.Enabled, ts(src.UpdatedAt), src.TenantID, src.ID)
}

// DeleteSource deletes a source and its rejection log.
func (s *Store) DeleteSource(ctx context.Context, tenantID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sources WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err := affected("delete source", tag, err); err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `DELETE FROM rejections WHERE source_id = $1`, id)
	return wrapWrite("delete rejections", err)
}

// AddRejection records a refused request, keeping the newest keep per source.
func (s *Store) AddRejection(ctx context.Context, r store.Rejection, keep int) error {
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO rejections (id, tenant_id, source_id, created_at, reason, method, remote_addr, headers, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, r.ID, r.TenantID, r.SourceID, ts(r.CreatedAt), r.Reason, r.Method,
		r.RemoteAddr, toJSON(orEmpty(r.Headers)), r.Body)
	batch.Queue(`DELETE FROM rejections WHERE source_id = $1 AND id NOT IN (
		SELECT id FROM rejections WHERE source_id = $1 ORDER BY id DESC LIMIT $2)`, r.SourceID, keep)
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("add rejection: %w", err)
	}
	return nil
}

func scanRejection(r pgx.Row) (store.Rejection, error) {
	var rj store.Rejection
	var headers []byte
	err := r.Scan(&rj.ID, &rj.TenantID, &rj.SourceID, &rj.CreatedAt, &rj.Reason, &rj.Method, &rj.RemoteAddr, &headers, &rj.Body)
	rj.CreatedAt = fromTS(rj.CreatedAt)
	if err == nil {
		err = json.Unmarshal(headers, &rj.Headers)
	}
	return rj, err
}

// ListRejections lists a source's rejections, newest first.
func (s *Store) ListRejections(ctx context.Context, tenantID, sourceID string, p store.Page) ([]store.Rejection, error) {
	return queryAll(ctx, s.pool, "list rejections", scanRejection, `SELECT id, tenant_id, source_id, created_at, reason, method, remote_addr, headers, body
		FROM rejections WHERE tenant_id = $1 AND source_id = $2 AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4`,
		tenantID, sourceID, p.Cursor, p.Size())
}

const subscriptionCols = `id, tenant_id, name, event_types, filter, kind, destination_id, transform, enabled, created_at, updated_at`

func scanSubscription(r pgx.Row) (store.Subscription, error) {
	var sub store.Subscription
	var types []byte
	err := r.Scan(&sub.ID, &sub.TenantID, &sub.Name, &types, &sub.Filter, &sub.Kind, &sub.DestinationID, &sub.Transform,
		&sub.Enabled, &sub.CreatedAt, &sub.UpdatedAt)
	if err != nil {
		return sub, err
	}
	sub.CreatedAt, sub.UpdatedAt = fromTS(sub.CreatedAt), fromTS(sub.UpdatedAt)
	return sub, json.Unmarshal(types, &sub.EventTypes)
}

// CreateSubscription inserts a subscription.
func (s *Store) CreateSubscription(ctx context.Context, sub store.Subscription) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO subscriptions (`+subscriptionCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		sub.ID, sub.TenantID, sub.Name, toJSON(orEmptySlice(sub.EventTypes)), sub.Filter, sub.Kind, sub.DestinationID, sub.Transform,
		sub.Enabled, ts(sub.CreatedAt), ts(sub.UpdatedAt))
	return wrapWrite("create subscription", err)
}

// GetSubscription returns one of a tenant's subscriptions.
func (s *Store) GetSubscription(ctx context.Context, tenantID, id string) (store.Subscription, error) {
	return queryOne(ctx, s.pool, "get subscription", scanSubscription, `SELECT `+subscriptionCols+` FROM subscriptions WHERE tenant_id = $1 AND id = $2`,
		tenantID, id)
}

// ListSubscriptions lists a tenant's subscriptions, newest first.
func (s *Store) ListSubscriptions(ctx context.Context, tenantID string, p store.Page) ([]store.Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE tenant_id = $1 AND ($2 = '' OR id < $2)
		ORDER BY id DESC LIMIT $3`, tenantID, p.Cursor, p.Size())
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return collect(rows, scanSubscription)
}

// EnabledSubscriptions lists every enabled subscription of a tenant.
func (s *Store) EnabledSubscriptions(ctx context.Context, tenantID string) ([]store.Subscription, error) {
	return queryAll(ctx, s.pool, "list enabled subscriptions", scanSubscription,
		`SELECT `+subscriptionCols+` FROM subscriptions WHERE tenant_id = $1 AND enabled ORDER BY id`, tenantID)
}

// UpdateSubscription replaces a subscription's mutable fields.
func (s *Store) UpdateSubscription(ctx context.Context, sub store.Subscription) error {
	tag, err := s.pool.Exec(ctx, `UPDATE subscriptions SET name = $1, event_types = $2, filter = $3, kind = $4, destination_id = $5,
		transform = $6, enabled = $7, updated_at = $8 WHERE tenant_id = $9 AND id = $10`,
		sub.Name, toJSON(orEmptySlice(sub.EventTypes)), sub.Filter, sub.Kind, sub.DestinationID, sub.Transform, sub.Enabled,
		ts(sub.UpdatedAt), sub.TenantID, sub.ID)
	return affected("update subscription", tag, err)
}

// DeleteSubscription deletes a subscription.
func (s *Store) DeleteSubscription(ctx context.Context, tenantID, id string) error {
	return s.change(ctx, "delete subscription", `DELETE FROM subscriptions WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}
