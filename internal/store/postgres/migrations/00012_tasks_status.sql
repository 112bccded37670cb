-- +goose Up
-- A tenant's and a destination's tasks by status, for lists filtered by
-- a status other than succeeded and for counting a backlog, without
-- reading every task of the tenant or destination. Most tasks end
-- succeeded and leave these indexes then. The planner uses them for a
-- query with the term status <> 'succeeded' (ListTasks adds it), as
-- SQLite's indexes of the same names.
CREATE INDEX tasks_tenant_status ON tasks (tenant_id, status, id) WHERE status <> 'succeeded';
CREATE INDEX tasks_destination_status ON tasks (destination_id, status, id) WHERE status <> 'succeeded';

-- +goose Down
DROP INDEX tasks_destination_status;
DROP INDEX tasks_tenant_status;
