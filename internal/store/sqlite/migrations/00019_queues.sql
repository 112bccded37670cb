-- +goose Up
-- The request headers of a received event as it arrived, for forwarding
-- it again byte for byte (hookline forward): every header but hop-by-hop
-- ones and credentials, bounded by the receiver. JSON object.
ALTER TABLE events ADD COLUMN request_headers TEXT NOT NULL DEFAULT '{}';

-- Pull queues: a tenant's named queue takes the events of a source (any
-- when empty) whose type matches its patterns, put on it in the
-- transaction that accepts the event.
CREATE TABLE queues (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    source      TEXT NOT NULL,
    event_types TEXT NOT NULL, -- JSON array of patterns; [] for every type
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX queues_name ON queues (tenant_id, name);

-- One event on a queue: visible (to lease) from visible_at (unix ms; 0:
-- at once); each lease adds one to lease_token and deliveries. An
-- acknowledged message is deleted.
CREATE TABLE queue_messages (
    queue_id    TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    visible_at  INTEGER NOT NULL DEFAULT 0,
    lease_token INTEGER NOT NULL DEFAULT 0,
    deliveries  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (queue_id, event_id)
);
CREATE INDEX queue_messages_event ON queue_messages (event_id);

-- +goose Down
DROP TABLE queue_messages;
DROP TABLE queues;
ALTER TABLE events DROP COLUMN request_headers;
