-- +goose Up
-- When each schedule of a workflow is next due (store.Schedule). Nodes
-- sharing the database advance a row with a conditional update, so one
-- of them fires each scheduled time.
CREATE TABLE workflow_schedules (
    tenant_id text NOT NULL REFERENCES tenants (id),
    workflow  text COLLATE "C" NOT NULL,
    key       text COLLATE "C" NOT NULL, -- the schedule as declared: cron and time zone
    next_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, workflow, key)
);
CREATE INDEX workflow_schedules_due ON workflow_schedules (next_at);

-- +goose Down
DROP TABLE workflow_schedules;
