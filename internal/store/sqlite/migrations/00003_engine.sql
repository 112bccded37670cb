-- +goose Up
ALTER TABLE endpoints ADD COLUMN max_in_flight INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN rate_limit REAL NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN ordered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN failing_since INTEGER NOT NULL DEFAULT 0;
CREATE INDEX tasks_unfinished_destination ON tasks (destination_id, id) WHERE status IN ('pending', 'retrying');
CREATE INDEX events_created ON events (created_at);

-- +goose Down
DROP INDEX events_created;
DROP INDEX tasks_unfinished_destination;
ALTER TABLE endpoints DROP COLUMN failing_since;
ALTER TABLE endpoints DROP COLUMN ordered;
ALTER TABLE endpoints DROP COLUMN rate_limit;
ALTER TABLE endpoints DROP COLUMN max_in_flight;
