-- +goose Up
CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    hash       BLOB NOT NULL UNIQUE,
    admin      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

CREATE TABLE event_types (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL,
    schema      BLOB,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE endpoints (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id),
    url             TEXT NOT NULL,
    description     TEXT NOT NULL,
    event_types     TEXT NOT NULL, -- JSON array of patterns
    filter          TEXT NOT NULL,
    format          TEXT NOT NULL,
    headers         TEXT NOT NULL, -- JSON object
    timeout_ms      INTEGER NOT NULL,
    retry_schedule  TEXT NOT NULL, -- JSON array of milliseconds
    enabled         INTEGER NOT NULL,
    disabled_reason TEXT NOT NULL,
    secrets         BLOB NOT NULL, -- AES-GCM sealed JSON
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX endpoints_tenant ON endpoints (tenant_id, id);

CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    type            TEXT NOT NULL,
    source          TEXT NOT NULL,
    data            BLOB NOT NULL,
    occurred_at     INTEGER NOT NULL,
    idempotency_key TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX events_tenant ON events (tenant_id, id);
CREATE INDEX events_idempotency ON events (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE tasks (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    event_id       TEXT NOT NULL REFERENCES events (id),
    event_type     TEXT NOT NULL,
    kind           TEXT NOT NULL,
    destination_id TEXT NOT NULL,
    status         TEXT NOT NULL,
    attempts       INTEGER NOT NULL,
    next_at        INTEGER NOT NULL,
    lease_until    INTEGER NOT NULL, -- 0: no lease
    last_error     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX tasks_due ON tasks (next_at) WHERE status IN ('pending', 'retrying');
CREATE INDEX tasks_tenant ON tasks (tenant_id, id);
CREATE INDEX tasks_event ON tasks (event_id);
CREATE INDEX tasks_destination ON tasks (destination_id, id);

CREATE TABLE attempts (
    id               TEXT PRIMARY KEY,
    task_id          TEXT NOT NULL REFERENCES tasks (id),
    tenant_id        TEXT NOT NULL,
    number           INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    duration_us      INTEGER NOT NULL,
    outcome          TEXT NOT NULL,
    request_url      TEXT NOT NULL,
    request_headers  TEXT NOT NULL,
    request_body     TEXT NOT NULL,
    response_status  INTEGER NOT NULL,
    response_headers TEXT NOT NULL,
    response_body    TEXT NOT NULL,
    error            TEXT NOT NULL
);
CREATE INDEX attempts_task ON attempts (task_id, number);

-- +goose Down
DROP TABLE attempts;
DROP TABLE tasks;
DROP TABLE events;
DROP TABLE endpoints;
DROP TABLE event_types;
DROP TABLE api_keys;
DROP TABLE tenants;
