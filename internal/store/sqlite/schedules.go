package sqlite

import (
	"context"
	"time"

	"github.com/hookline/hookline/internal/store"
)

const scheduleCols = `tenant_id, workflow, key, next_at`

func scanSchedule(sc scanner) (store.Schedule, error) {
	var s store.Schedule
	var next int64
	err := sc.Scan(&s.TenantID, &s.Workflow, &s.Key, &next)
	s.NextAt = fromMS(next)
	return s, err
}

// PlanSchedule inserts a schedule unless one with its key exists.
func (s *Store) PlanSchedule(ctx context.Context, sc store.Schedule) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO workflow_schedules (`+scheduleCols+`) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant_id, workflow, key) DO NOTHING`, sc.TenantID, sc.Workflow, sc.Key, ms(sc.NextAt))
	return wrapWrite("plan schedule", err)
}

// ListSchedules lists a tenant's schedules by workflow and key.
func (s *Store) ListSchedules(ctx context.Context, tenantID string) ([]store.Schedule, error) {
	return queryAll(ctx, s.r, "list schedules", scanSchedule, `SELECT `+scheduleCols+` FROM workflow_schedules
		WHERE tenant_id = ? ORDER BY workflow, key`, tenantID)
}

// DeleteSchedule deletes a schedule if there is one.
func (s *Store) DeleteSchedule(ctx context.Context, tenantID, workflow, key string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM workflow_schedules WHERE tenant_id = ? AND workflow = ? AND key = ?`,
		tenantID, workflow, key)
	return wrapWrite("delete schedule", err)
}

// DueSchedules lists the schedules due at or before now, earliest first.
func (s *Store) DueSchedules(ctx context.Context, now time.Time, limit int) ([]store.Schedule, error) {
	return queryAll(ctx, s.r, "due schedules", scanSchedule, `SELECT `+scheduleCols+` FROM workflow_schedules
		WHERE next_at <= ? ORDER BY next_at LIMIT ?`, ms(now), limit)
}

// AdvanceSchedule moves a schedule on from sc.NextAt, if it is still there.
func (s *Store) AdvanceSchedule(ctx context.Context, sc store.Schedule, next time.Time) (bool, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE workflow_schedules SET next_at = ?
		WHERE tenant_id = ? AND workflow = ? AND key = ? AND next_at = ?`, ms(next), sc.TenantID, sc.Workflow, sc.Key, ms(sc.NextAt))
	if err != nil {
		return false, wrapWrite("advance schedule", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
