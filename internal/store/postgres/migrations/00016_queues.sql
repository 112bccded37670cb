-- +goose Up
-- The request headers of a received event as it arrived, for forwarding
-- it again byte for byte (hookline forward): every header but hop-by-hop
-- ones and credentials, bounded by the receiver.
ALTER TABLE events ADD COLUMN request_headers jsonb NOT NULL DEFAULT '{}';

-- Pull queues: a tenant's named queue takes the events of a source (any
-- when empty) whose type matches its patterns, put on it in the
-- transaction that accepts the event.
CREATE TABLE queues (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    source      text NOT NULL,
    event_types jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX queues_name ON queues (tenant_id, name);

-- One event on a queue: visible (to lease) from visible_at; each lease
-- adds one to lease_token and deliveries. An acknowledged message is
-- deleted.
CREATE TABLE queue_messages (
    queue_id    text NOT NULL,
    event_id    text NOT NULL,
    tenant_id   text NOT NULL,
    visible_at  timestamptz NOT NULL DEFAULT 'epoch',
    lease_token bigint NOT NULL DEFAULT 0,
    deliveries  integer NOT NULL DEFAULT 0,
    PRIMARY KEY (queue_id, event_id)
);
CREATE INDEX queue_messages_event ON queue_messages (event_id);

-- +goose Down
DROP TABLE queue_messages;
DROP TABLE queues;
ALTER TABLE events DROP COLUMN request_headers;
