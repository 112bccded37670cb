-- +goose Up
-- The run that started a run: a parallel step's branches, a foreach
-- step's iterations and a call step's workflow run as runs of their own,
-- created by the parent's save. Empty for a run an event started.
ALTER TABLE runs ADD COLUMN parent_id text NOT NULL DEFAULT '';
CREATE INDEX runs_parent ON runs (tenant_id, parent_id, id) WHERE parent_id <> '';

-- +goose Down
DROP INDEX runs_parent;
ALTER TABLE runs DROP COLUMN parent_id;
