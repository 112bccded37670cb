package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store"
)

const scheduleCols = `tenant_id, workflow, key, next_at`

func scanSchedule(r pgx.Row) (store.Schedule, error) {
	var s store.Schedule
	err := r.Scan(&s.TenantID, &s.Workflow, &s.Key, &s.NextAt)
	s.NextAt = fromTS(s.NextAt)
	return s, err
}

// PlanSchedule inserts a schedule unless one with its key exists.
func (s *Store) PlanSchedule(ctx context.Context, sc store.Schedule) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO workflow_schedules (`+scheduleCols+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant_id, workflow, key) DO NOTHING`, sc.TenantID, sc.Workflow, sc.Key, ts(sc.NextAt))
	return wrapWrite("plan schedule", err)
}

// ListSchedules lists a tenant's schedules by workflow and key.
func (s *Store) ListSchedules(ctx context.Context, tenantID string) ([]store.Schedule, error) {
	return queryAll(ctx, s.pool, "list schedules", scanSchedule, `SELECT `+scheduleCols+` FROM workflow_schedules
		WHERE tenant_id = $1 ORDER BY workflow, key`, tenantID)
}

// DeleteSchedule deletes a schedule if there is one.
func (s *Store) DeleteSchedule(ctx context.Context, tenantID, workflow, key string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM workflow_schedules WHERE tenant_id = $1 AND workflow = $2 AND key = $3`,
		tenantID, workflow, key)
	return wrapWrite("delete schedule", err)
}

// DueSchedules lists the schedules due at or before now, earliest first.
func (s *Store) DueSchedules(ctx context.Context, now time.Time, limit int) ([]store.Schedule, error) {
	return queryAll(ctx, s.pool, "due schedules", scanSchedule, `SELECT `+scheduleCols+` FROM workflow_schedules
		WHERE next_at <= $1 ORDER BY next_at LIMIT $2`, ts(now), limit)
}

// AdvanceSchedule moves a schedule on from sc.NextAt, if it is still
// there: under read committed, a second update of the same row waits for
// the first and then finds next_at changed.
func (s *Store) AdvanceSchedule(ctx context.Context, sc store.Schedule, next time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE workflow_schedules SET next_at = $1
		WHERE tenant_id = $2 AND workflow = $3 AND key = $4 AND next_at = $5`, ts(next), sc.TenantID, sc.Workflow, sc.Key, ts(sc.NextAt))
	if err != nil {
		return false, wrapWrite("advance schedule", err)
	}
	return tag.RowsAffected() == 1, nil
}
