-- +goose Up
-- When each schedule of a workflow is next due (store.Schedule). Nodes
-- sharing the database advance a row with a conditional update, so one
-- of them fires each scheduled time.
CREATE TABLE workflow_schedules (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    workflow  TEXT NOT NULL,
    key       TEXT NOT NULL,    -- the schedule as declared: cron and time zone
    next_at   INTEGER NOT NULL, -- unix ms
    PRIMARY KEY (tenant_id, workflow, key)
);
CREATE INDEX workflow_schedules_due ON workflow_schedules (next_at);

-- +goose Down
DROP TABLE workflow_schedules;
