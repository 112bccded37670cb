package sqlite

import (
	"context"
	"fmt"

	"github.com/hookline/hookline/internal/store"
)

const subscriptionCols = `id, tenant_id, name, event_types, filter, kind, destination_id, transform, enabled, created_at, updated_at`

func scanSubscription(sc scanner) (store.Subscription, error) {
	var sub store.Subscription
	var types string
	var created, updated int64
	err := sc.Scan(&sub.ID, &sub.TenantID, &sub.Name, &types, &sub.Filter, &sub.Kind, &sub.DestinationID, &sub.Transform,
		&sub.Enabled, &created, &updated)
	if err != nil {
		return sub, err
	}
	sub.CreatedAt, sub.UpdatedAt = fromMS(created), fromMS(updated)
	return sub, unmarshal(types, &sub.EventTypes)
}

func subscriptionTypes(sub store.Subscription) string {
	if sub.EventTypes == nil {
		return "[]"
	}
	return toJSON(sub.EventTypes)
}

// CreateSubscription inserts a subscription.
func (s *Store) CreateSubscription(ctx context.Context, sub store.Subscription) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO subscriptions (`+subscriptionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sub.ID, sub.TenantID, sub.Name, subscriptionTypes(sub), sub.Filter, sub.Kind, sub.DestinationID, sub.Transform,
		sub.Enabled, ms(sub.CreatedAt), ms(sub.UpdatedAt))
	return wrapWrite("create subscription", err)
}

// GetSubscription returns one of a tenant's subscriptions.
func (s *Store) GetSubscription(ctx context.Context, tenantID, id string) (store.Subscription, error) {
	sub, err := scanSubscription(s.r.QueryRowContext(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE tenant_id = ? AND id = ?`,
		tenantID, id))
	return sub, wrapRead("get subscription", err)
}

// ListSubscriptions lists a tenant's subscriptions, newest first.
func (s *Store) ListSubscriptions(ctx context.Context, tenantID string, p store.Page) ([]store.Subscription, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE tenant_id = ? AND (? = '' OR id < ?)
		ORDER BY id DESC LIMIT ?`, tenantID, p.Cursor, p.Cursor, limitOf(p))
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return collect(rows, scanSubscription)
}

// EnabledSubscriptions lists every enabled subscription of a tenant.
func (s *Store) EnabledSubscriptions(ctx context.Context, tenantID string) ([]store.Subscription, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+subscriptionCols+` FROM subscriptions WHERE tenant_id = ? AND enabled = 1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list enabled subscriptions: %w", err)
	}
	return collect(rows, scanSubscription)
}

// UpdateSubscription replaces a subscription's mutable fields.
func (s *Store) UpdateSubscription(ctx context.Context, sub store.Subscription) error {
	res, err := s.w.ExecContext(ctx, `UPDATE subscriptions SET name = ?, event_types = ?, filter = ?, kind = ?, destination_id = ?,
		transform = ?, enabled = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		sub.Name, subscriptionTypes(sub), sub.Filter, sub.Kind, sub.DestinationID, sub.Transform, sub.Enabled, ms(sub.UpdatedAt),
		sub.TenantID, sub.ID)
	if err := wrapWrite("update subscription", err); err != nil {
		return err
	}
	return affected("update subscription", res, nil)
}

// DeleteSubscription deletes a subscription.
func (s *Store) DeleteSubscription(ctx context.Context, tenantID, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM subscriptions WHERE tenant_id = ? AND id = ?`, tenantID, id)
	return affected("delete subscription", res, err)
}
