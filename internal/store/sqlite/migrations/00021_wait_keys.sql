-- +goose Up
-- A wait_for step with a correlation key: the key (an event field path,
-- "event.data.order_id") and the value the run waits for, so routing
-- hands an event to the runs waiting for its value only.
ALTER TABLE runs ADD COLUMN wait_key TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN wait_value TEXT NOT NULL DEFAULT '';
CREATE INDEX runs_wait_key ON runs (tenant_id, wait_key, wait_value) WHERE status = 'waiting' AND wait_key <> '';

-- Events kept for the keyed waits that start later (a wait_for's
-- buffer): one row per event and key. Pruned with the event log's
-- retention (PruneRuns).
CREATE TABLE wait_buffer (
    tenant_id  TEXT NOT NULL,
    wait_key   TEXT NOT NULL,
    wait_value TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    event_type TEXT NOT NULL,
    created_at INTEGER NOT NULL, -- when the event was accepted
    PRIMARY KEY (tenant_id, wait_key, wait_value, event_id)
);
CREATE INDEX wait_buffer_created ON wait_buffer (created_at);

-- +goose Down
DROP TABLE wait_buffer;
DROP INDEX runs_wait_key;
ALTER TABLE runs DROP COLUMN wait_value;
ALTER TABLE runs DROP COLUMN wait_key;
