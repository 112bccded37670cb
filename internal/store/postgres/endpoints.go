package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/internal/column"
)

const endpointCols = `id, tenant_id, name, url, description, event_types, filter, format, headers, timeout_ms,
	retry_schedule, enabled, disabled_reason, secrets, created_at, updated_at, max_in_flight, rate_limit, ordered, failing_since,
	sealed_headers, sealed_url_secret`

func (s *Store) scanEndpoint(r pgx.Row) (store.Endpoint, error) {
	var ep store.Endpoint
	var c column.Endpoint
	var failing *time.Time
	err := r.Scan(&ep.ID, &ep.TenantID, &ep.Name, &ep.URL, &ep.Description, &c.Types, &ep.Filter, &ep.Format, &c.Headers,
		&c.TimeoutMS, &c.Schedule, &ep.Enabled, &ep.DisabledReason, &c.Secrets, &ep.CreatedAt, &ep.UpdatedAt, &ep.MaxInFlight,
		&ep.RateLimit, &ep.Ordered, &failing, &c.SealedHeaders, &c.SealedURLSecret)
	if err != nil {
		return ep, err
	}
	ep.CreatedAt, ep.UpdatedAt = fromTS(ep.CreatedAt), fromTS(ep.UpdatedAt)
	if failing != nil {
		ep.FailingSince = failing.UTC()
	}
	return ep, c.Decode(s.box, &ep)
}

// CreateEndpoint inserts an endpoint, sealing its secrets and headers.
func (s *Store) CreateEndpoint(ctx context.Context, ep store.Endpoint) error {
	types, schedule := column.EndpointJSON(ep)
	shownURL, sealedURL := column.EndpointURL(s.box, ep)
	_, err := s.pool.Exec(ctx, `INSERT INTO endpoints (`+endpointCols+`) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
		ep.ID, ep.TenantID, ep.Name, shownURL, ep.Description, types, ep.Filter, ep.Format, []byte(column.SealedPlaceholder), ep.Timeout.Milliseconds(),
		schedule, ep.Enabled, ep.DisabledReason, column.SealJSON(s.box, ep.Secrets), ts(ep.CreatedAt), ts(ep.UpdatedAt),
		ep.MaxInFlight, ep.RateLimit, ep.Ordered, nullTS(ep.FailingSince), column.SealHeaders(s.box, ep.Headers), sealedURL)
	return wrapWrite("create endpoint", err)
}

// GetEndpoint returns one of a tenant's endpoints.
func (s *Store) GetEndpoint(ctx context.Context, tenantID, id string) (store.Endpoint, error) {
	return queryOne(ctx, s.pool, "get endpoint", s.scanEndpoint, `SELECT `+endpointCols+` FROM endpoints WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// ListEndpoints lists a tenant's endpoints, newest first.
func (s *Store) ListEndpoints(ctx context.Context, tenantID string, p store.Page) ([]store.Endpoint, error) {
	return queryAll(ctx, s.pool, "list endpoints", s.scanEndpoint, `SELECT `+endpointCols+` FROM endpoints WHERE tenant_id = $1 AND ($2 = '' OR id < $2)
		ORDER BY id DESC LIMIT $3`, tenantID, p.Cursor, p.Size())
}

// EnabledEndpoints lists every enabled endpoint of a tenant.
func (s *Store) EnabledEndpoints(ctx context.Context, tenantID string) ([]store.Endpoint, error) {
	return queryAll(ctx, s.pool, "list enabled endpoints", s.scanEndpoint,
		`SELECT `+endpointCols+` FROM endpoints WHERE tenant_id = $1 AND enabled ORDER BY id`, tenantID)
}

// UpdateEndpoint replaces an endpoint's mutable fields.
func (s *Store) UpdateEndpoint(ctx context.Context, ep store.Endpoint) error {
	types, schedule := column.EndpointJSON(ep)
	shownURL, sealedURL := column.EndpointURL(s.box, ep)
	return s.change(ctx, "update endpoint", `UPDATE endpoints SET name = $1, url = $2, description = $3, event_types = $4, filter = $5,
		format = $6, headers = $7, timeout_ms = $8, retry_schedule = $9, enabled = $10, disabled_reason = $11, secrets = $12,
		updated_at = $13, max_in_flight = $14, rate_limit = $15, ordered = $16, sealed_headers = $17,
		sealed_url_secret = $18 WHERE tenant_id = $19 AND id = $20`,
		ep.Name, shownURL, ep.Description, types, ep.Filter, ep.Format, []byte(column.SealedPlaceholder), ep.Timeout.Milliseconds(), schedule, ep.Enabled,
		ep.DisabledReason, column.SealJSON(s.box, ep.Secrets), ts(ep.UpdatedAt), ep.MaxInFlight, ep.RateLimit, ep.Ordered,
		column.SealHeaders(s.box, ep.Headers), sealedURL, ep.TenantID, ep.ID)
}

// DisableEndpoint turns an endpoint off with a reason.
func (s *Store) DisableEndpoint(ctx context.Context, tenantID, id, reason string, at time.Time) error {
	return s.change(ctx, "disable endpoint", `UPDATE endpoints SET enabled = false, disabled_reason = $1, updated_at = $2
		WHERE tenant_id = $3 AND id = $4`, reason, ts(at), tenantID, id)
}

// SetEndpointFailing records when an endpoint started failing.
func (s *Store) SetEndpointFailing(ctx context.Context, tenantID, id string, since time.Time) error {
	return s.change(ctx, "set endpoint failing", `UPDATE endpoints SET failing_since = $1 WHERE tenant_id = $2 AND id = $3`, nullTS(since), tenantID, id)
}

// DeleteEndpoint deletes an endpoint.
func (s *Store) DeleteEndpoint(ctx context.Context, tenantID, id string) error {
	return s.change(ctx, "delete endpoint", `DELETE FROM endpoints WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}
