-- +goose Up
-- A tenant's tasks by status, for lists filtered by a status and for
-- counting a backlog, without reading every task of the tenant. Most
-- tasks end succeeded and leave this index then, so it holds only the
-- unfinished and failed ones. SQLite uses it for a query that has the
-- term status <> 'succeeded' as written here (ListTasks adds it).
CREATE INDEX tasks_tenant_status ON tasks (tenant_id, status, id) WHERE status <> 'succeeded';

-- +goose Down
DROP INDEX tasks_tenant_status;
