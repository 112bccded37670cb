-- +goose Up
-- Customer portal sessions: the hash of a one-time link's token, and once
-- it is opened the hash of the session's token. Neither token is stored.
CREATE TABLE portal_sessions (
    id           text PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id),
    key_hash     bytea NOT NULL,
    label        text NOT NULL,
    event_types  jsonb NOT NULL,
    link_hash    bytea NOT NULL UNIQUE,
    session_hash bytea UNIQUE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    opened_at    timestamptz
);
CREATE INDEX portal_sessions_expires ON portal_sessions (expires_at);

-- +goose Down
DROP TABLE portal_sessions;
