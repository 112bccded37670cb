package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/store"
)

const endpointCols = `id, tenant_id, name, url, description, event_types, filter, format, headers, timeout_ms,
	retry_schedule, enabled, disabled_reason, secrets, created_at, updated_at, max_in_flight, rate_limit, ordered, failing_since,
	sealed_headers`

func (s *Store) sealSecrets(secrets []store.Secret) []byte {
	return s.box.Seal([]byte(toJSON(secrets)))
}

func (s *Store) scanEndpoint(sc scanner) (store.Endpoint, error) {
	var (
		ep                         store.Endpoint
		types, headers, schedule   string
		timeoutMS, created, update int64
		failing                    int64
		sealed, sealedHeaders      []byte
	)
	err := sc.Scan(&ep.ID, &ep.TenantID, &ep.Name, &ep.URL, &ep.Description, &types, &ep.Filter, &ep.Format, &headers,
		&timeoutMS, &schedule, &ep.Enabled, &ep.DisabledReason, &sealed, &created, &update, &ep.MaxInFlight, &ep.RateLimit,
		&ep.Ordered, &failing, &sealedHeaders)
	ep.FailingSince = fromMS(failing)
	if err != nil {
		return ep, err
	}
	ep.Timeout = time.Duration(timeoutMS) * time.Millisecond
	ep.CreatedAt, ep.UpdatedAt = fromMS(created), fromMS(update)
	var scheduleMS []int64
	if err := errorsJoinUnmarshal(
		unmarshal(types, &ep.EventTypes),
		unmarshal(schedule, &scheduleMS),
	); err != nil {
		return ep, fmt.Errorf("decode endpoint %s: %w", ep.ID, err)
	}
	if sealedHeaders != nil {
		plain, err := s.box.Open(sealedHeaders)
		if err != nil {
			return ep, fmt.Errorf("decrypt headers of endpoint %s: %w", ep.ID, err)
		}
		headers = string(plain)
	}
	if err := unmarshal(headers, &ep.Headers); err != nil {
		return ep, fmt.Errorf("decode headers of endpoint %s: %w", ep.ID, err)
	}
	for _, d := range scheduleMS {
		ep.RetrySchedule = append(ep.RetrySchedule, time.Duration(d)*time.Millisecond)
	}
	plain, err := s.box.Open(sealed)
	if err != nil {
		return ep, fmt.Errorf("decrypt secrets of endpoint %s: %w", ep.ID, err)
	}
	if err := json.Unmarshal(plain, &ep.Secrets); err != nil {
		return ep, fmt.Errorf("decode secrets of endpoint %s: %w", ep.ID, err)
	}
	return ep, nil
}

func unmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func errorsJoinUnmarshal(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func endpointArgs(ep store.Endpoint) (types, schedule string) {
	scheduleMS := make([]int64, 0, len(ep.RetrySchedule))
	for _, d := range ep.RetrySchedule {
		scheduleMS = append(scheduleMS, d.Milliseconds())
	}
	if ep.EventTypes == nil {
		ep.EventTypes = []string{}
	}
	return toJSON(ep.EventTypes), toJSON(scheduleMS)
}

// sealHeaders seals an endpoint's custom headers: they are the user's and
// may be credentials. The plain headers column keeps sealedPlaceholder.
func (s *Store) sealHeaders(h map[string]string) []byte {
	return s.box.Seal([]byte(toJSON(orEmpty(h))))
}

// CreateEndpoint inserts an endpoint, sealing its secrets and headers.
func (s *Store) CreateEndpoint(ctx context.Context, ep store.Endpoint) error {
	types, schedule := endpointArgs(ep)
	_, err := s.w.ExecContext(ctx, `INSERT INTO endpoints (`+endpointCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ep.ID, ep.TenantID, ep.Name, ep.URL, ep.Description, types, ep.Filter, ep.Format, sealedPlaceholder, ep.Timeout.Milliseconds(),
		schedule, ep.Enabled, ep.DisabledReason, s.sealSecrets(ep.Secrets), ms(ep.CreatedAt), ms(ep.UpdatedAt),
		ep.MaxInFlight, ep.RateLimit, ep.Ordered, ms(ep.FailingSince), s.sealHeaders(ep.Headers))
	return wrapWrite("create endpoint", err)
}

// GetEndpoint returns one of a tenant's endpoints.
func (s *Store) GetEndpoint(ctx context.Context, tenantID, id string) (store.Endpoint, error) {
	return queryOne(ctx, s.r, "get endpoint", s.scanEndpoint, `SELECT `+endpointCols+` FROM endpoints WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// ListEndpoints lists a tenant's endpoints, newest first.
func (s *Store) ListEndpoints(ctx context.Context, tenantID string, p store.Page) ([]store.Endpoint, error) {
	return queryAll(ctx, s.r, "list endpoints", s.scanEndpoint, `SELECT `+endpointCols+` FROM endpoints
		WHERE tenant_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`, tenantID, p.Cursor, p.Cursor, limitOf(p))
}

// EnabledEndpoints lists every enabled endpoint of a tenant.
func (s *Store) EnabledEndpoints(ctx context.Context, tenantID string) ([]store.Endpoint, error) {
	return queryAll(ctx, s.r, "list enabled endpoints", s.scanEndpoint, `SELECT `+endpointCols+` FROM endpoints WHERE tenant_id = ? AND enabled = 1 ORDER BY id`, tenantID)
}

// UpdateEndpoint replaces an endpoint's mutable fields.
func (s *Store) UpdateEndpoint(ctx context.Context, ep store.Endpoint) error {
	types, schedule := endpointArgs(ep)
	return s.change(ctx, "update endpoint", `UPDATE endpoints SET name = ?, url = ?, description = ?, event_types = ?, filter = ?, format = ?,
		headers = ?, timeout_ms = ?, retry_schedule = ?, enabled = ?, disabled_reason = ?, secrets = ?, updated_at = ?,
		max_in_flight = ?, rate_limit = ?, ordered = ?, sealed_headers = ?
		WHERE tenant_id = ? AND id = ?`,
		ep.Name, ep.URL, ep.Description, types, ep.Filter, ep.Format, sealedPlaceholder, ep.Timeout.Milliseconds(), schedule,
		ep.Enabled, ep.DisabledReason, s.sealSecrets(ep.Secrets), ms(ep.UpdatedAt), ep.MaxInFlight, ep.RateLimit, ep.Ordered,
		s.sealHeaders(ep.Headers), ep.TenantID, ep.ID)
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
