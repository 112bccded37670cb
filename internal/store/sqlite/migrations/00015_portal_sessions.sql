-- +goose Up
-- Customer portal sessions: the hash of a one-time link's token, and once
-- it is opened the hash of the session's token. Neither token is stored.
CREATE TABLE portal_sessions (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    key_hash     BLOB NOT NULL,
    label        TEXT NOT NULL,
    event_types  TEXT NOT NULL, -- JSON array of patterns; [] for every type
    link_hash    BLOB NOT NULL UNIQUE,
    session_hash BLOB UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    opened_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX portal_sessions_expires ON portal_sessions (expires_at);

-- +goose Down
DROP TABLE portal_sessions;
