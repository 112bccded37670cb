-- +goose Up
-- A destination's tasks by status, for a destination's list filtered by
-- a status other than succeeded: tasks_tenant_status would read every
-- task of the tenant with that status to find the destination's. Partial
-- as tasks_tenant_status is, with the same term.
CREATE INDEX tasks_destination_status ON tasks (destination_id, status, id) WHERE status <> 'succeeded';

-- +goose Down
DROP INDEX tasks_destination_status;
