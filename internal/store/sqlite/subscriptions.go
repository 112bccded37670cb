package sqlite

import (
	"context"

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
	return queryOne(ctx, s.r, "get subscription", scanSubscription, `SELECT `+subscriptionCols+` FROM subscriptions WHERE tenant_id = ? AND id = ?`,
		tenantID, id)
}

// ListSubscriptions lists a tenant's subscriptions, newest first.
func (s *Store) ListSubscriptions(ctx context.Context, tenantID string, p store.Page) ([]store.Subscription, error) {
	return queryAll(ctx, s.r, "list subscriptions", scanSubscription, `SELECT `+subscriptionCols+` FROM subscriptions WHERE tenant_id = ? AND (? = '' OR id < ?)
		ORDER BY id DESC LIMIT ?`, tenantID, p.Cursor, p.Cursor, p.Size())
}

// EnabledSubscriptions lists every enabled subscription of a tenant.
func (s *Store) EnabledSubscriptions(ctx context.Context, tenantID string) ([]store.Subscription, error) {
	return queryAll(ctx, s.r, "list enabled subscriptions", scanSubscription,
		`SELECT `+subscriptionCols+` FROM subscriptions WHERE tenant_id = ? AND enabled = 1 ORDER BY id`, tenantID)
}

// UpdateSubscription replaces a subscription's mutable fields.
func (s *Store) UpdateSubscription(ctx context.Context, sub store.Subscription) error {
	return s.change(ctx, "update subscription", `UPDATE subscriptions SET name = ?, event_types = ?, filter = ?, kind = ?, destination_id = ?,
		transform = ?, enabled = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		sub.Name, subscriptionTypes(sub), sub.Filter, sub.Kind, sub.DestinationID, sub.Transform, sub.Enabled, ms(sub.UpdatedAt),
		sub.TenantID, sub.ID)
}

// DeleteSubscription deletes a subscription.
func (s *Store) DeleteSubscription(ctx context.Context, tenantID, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM subscriptions WHERE tenant_id = ? AND id = ?`, tenantID, id)
	return affected("delete subscription", res, err)
}
