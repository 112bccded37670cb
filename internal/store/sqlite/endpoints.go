package sqlite

import (
	"context"
	"time"

	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/internal/column"
)

const endpointCols = `id, tenant_id, name, url, description, event_types, filter, format, headers, timeout_ms,
	retry_schedule, enabled, disabled_reason, secrets, created_at, updated_at, max_in_flight, rate_limit, ordered, failing_since,
	sealed_headers, sealed_url_secret`

func (s *Store) scanEndpoint(sc scanner) (store.Endpoint, error) {
	var ep store.Endpoint
	var c column.Endpoint
	var created, updated, failing int64
	err := sc.Scan(&ep.ID, &ep.TenantID, &ep.Name, &ep.URL, &ep.Description, &c.Types, &ep.Filter, &ep.Format, &c.Headers,
		&c.TimeoutMS, &c.Schedule, &ep.Enabled, &ep.DisabledReason, &c.Secrets, &created, &updated, &ep.MaxInFlight, &ep.RateLimit,
		&ep.Ordered, &failing, &c.SealedHeaders, &c.SealedURLSecret)
	ep.FailingSince = fromMS(failing)
	if err != nil {
		return ep, err
	}
	ep.CreatedAt, ep.UpdatedAt = fromMS(created), fromMS(updated)
	return ep, c.Decode(s.box, &ep)
}

// CreateEndpoint inserts an endpoint, sealing its secrets and headers.
func (s *Store) CreateEndpoint(ctx context.Context, ep store.Endpoint) error {
	types, schedule := column.EndpointJSON(ep)
	shownURL, sealedURL := column.EndpointURL(s.box, ep)
	_, err := s.w.ExecContext(ctx, `INSERT INTO endpoints (`+endpointCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ep.ID, ep.TenantID, ep.Name, shownURL, ep.Description, types, ep.Filter, ep.Format, column.SealedPlaceholder, ep.Timeout.Milliseconds(),
		schedule, ep.Enabled, ep.DisabledReason, column.SealJSON(s.box, ep.Secrets), ms(ep.CreatedAt), ms(ep.UpdatedAt),
		ep.MaxInFlight, ep.RateLimit, ep.Ordered, ms(ep.FailingSince), column.SealHeaders(s.box, ep.Headers), sealedURL)
	return wrapWrite("create endpoint", err)
}

// GetEndpoint returns one of a tenant's endpoints.
func (s *Store) GetEndpoint(ctx context.Context, tenantID, id string) (store.Endpoint, error) {
	return queryOne(ctx, s.r, "get endpoint", s.scanEndpoint, `SELECT `+endpointCols+` FROM endpoints WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// ListEndpoints lists a tenant's endpoints, newest first.
func (s *Store) ListEndpoints(ctx context.Context, tenantID string, p store.Page) ([]store.Endpoint, error) {
	return queryAll(ctx, s.r, "list endpoints", s.scanEndpoint, `SELECT `+endpointCols+` FROM endpoints
		WHERE tenant_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`, tenantID, p.Cursor, p.Cursor, p.Size())
}

// EnabledEndpoints lists every enabled endpoint of a tenant.
func (s *Store) EnabledEndpoints(ctx context.Context, tenantID string) ([]store.Endpoint, error) {
	return queryAll(ctx, s.r, "list enabled endpoints", s.scanEndpoint,
		`SELECT `+endpointCols+` FROM endpoints WHERE tenant_id = ? AND enabled = 1 ORDER BY id`, tenantID)
}

// UpdateEndpoint replaces an endpoint's mutable fields.
func (s *Store) UpdateEndpoint(ctx context.Context, ep store.Endpoint) error {
	types, schedule := column.EndpointJSON(ep)
	shownURL, sealedURL := column.EndpointURL(s.box, ep)
	return s.change(ctx, "update endpoint", `UPDATE endpoints SET name = ?, url = ?, description = ?, event_types = ?, filter = ?, format = ?,
		headers = ?, timeout_ms = ?, retry_schedule = ?, enabled = ?, disabled_reason = ?, secrets = ?, updated_at = ?,
		max_in_flight = ?, rate_limit = ?, ordered = ?, sealed_headers = ?, sealed_url_secret = ?
		WHERE tenant_id = ? AND id = ?`,
		ep.Name, shownURL, ep.Description, types, ep.Filter, ep.Format, column.SealedPlaceholder, ep.Timeout.Milliseconds(), schedule,
		ep.Enabled, ep.DisabledReason, column.SealJSON(s.box, ep.Secrets), ms(ep.UpdatedAt), ep.MaxInFlight, ep.RateLimit, ep.Ordered,
		column.SealHeaders(s.box, ep.Headers), sealedURL, ep.TenantID, ep.ID)
}

// DisableEndpoint turns an endpoint off with a reason.
func (s *Store) DisableEndpoint(ctx context.Context, tenantID, id, reason string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE endpoints SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		reason, ms(at), tenantID, id)
	return affected("disable endpoint", res, err)
}

// SetEndpointFailing records when an endpoint started failing.
func (s *Store) SetEndpointFailing(ctx context.Context, tenantID, id string, since time.Time) error {
	return s.change(ctx, "set endpoint failing", `UPDATE endpoints SET failing_since = ? WHERE tenant_id = ? AND id = ?`, ms(since), tenantID, id)
}

// DeleteEndpoint deletes an endpoint. Its unfinished tasks fail when they
// next run.
func (s *Store) DeleteEndpoint(ctx context.Context, tenantID, id string) error {
	return s.change(ctx, "delete endpoint", `DELETE FROM endpoints WHERE tenant_id = ? AND id = ?`, tenantID, id)
}
