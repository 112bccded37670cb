-- +goose Up
CREATE TABLE tenants (
    id         text PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id),
    name       text NOT NULL,
    prefix     text NOT NULL,
    hash       bytea NOT NULL UNIQUE,
    admin      boolean NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

CREATE TABLE event_types (
    tenant_id   text NOT NULL REFERENCES tenants (id),
    name        text NOT NULL,
    description text NOT NULL,
    schema      bytea,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE endpoints (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id),
    name            text NOT NULL DEFAULT '',
    url             text NOT NULL,
    description     text NOT NULL,
    event_types     jsonb NOT NULL,
    filter          text NOT NULL,
    format          text NOT NULL,
    headers         jsonb NOT NULL,
    timeout_ms      bigint NOT NULL,
    retry_schedule  jsonb NOT NULL, -- milliseconds
    enabled         boolean NOT NULL,
    disabled_reason text NOT NULL,
    secrets         bytea NOT NULL, -- AES-GCM sealed JSON
    max_in_flight   integer NOT NULL DEFAULT 0,
    rate_limit      double precision NOT NULL DEFAULT 0,
    ordered         boolean NOT NULL DEFAULT false,
    failing_since   timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX endpoints_tenant ON endpoints (tenant_id, id);
CREATE UNIQUE INDEX endpoints_name ON endpoints (tenant_id, name) WHERE name <> '';

CREATE TABLE events (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL,
    type            text NOT NULL,
    source          text NOT NULL,
    data            bytea NOT NULL,
    occurred_at     timestamptz NOT NULL,
    idempotency_key text,
    created_at      timestamptz NOT NULL,
    raw             bytea,
    headers         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_tenant ON events (tenant_id, id);
CREATE INDEX events_source ON events (tenant_id, source, id);
CREATE INDEX events_created ON events (created_at);
CREATE INDEX events_idempotency ON events (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE tasks (
    id             text PRIMARY KEY,
    tenant_id      text NOT NULL,
    event_id       text NOT NULL REFERENCES events (id),
    event_type     text NOT NULL,
    kind           text NOT NULL,
    destination_id text NOT NULL,
    status         text NOT NULL,
    attempts       integer NOT NULL,
    next_at        timestamptz NOT NULL,
    lease_until    timestamptz NOT NULL, -- 'epoch': no lease
    last_error     text NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX tasks_due ON tasks (next_at) WHERE status IN ('pending', 'retrying');
CREATE INDEX tasks_due_bucket ON tasks ((get_byte(decode(md5(destination_id), 'hex'), 3) & 63), next_at)
    WHERE status IN ('pending', 'retrying');
CREATE INDEX tasks_tenant ON tasks (tenant_id, id);
CREATE INDEX tasks_event ON tasks (event_id);
CREATE INDEX tasks_destination ON tasks (destination_id, id);
CREATE INDEX tasks_unfinished_destination ON tasks (destination_id, id) WHERE status IN ('pending', 'retrying');

CREATE TABLE attempts (
    id               text PRIMARY KEY,
    task_id          text NOT NULL REFERENCES tasks (id),
    tenant_id        text NOT NULL,
    number           integer NOT NULL,
    started_at       timestamptz NOT NULL,
    duration_us      bigint NOT NULL,
    outcome          text NOT NULL,
    request_url      text NOT NULL,
    request_headers  jsonb NOT NULL,
    request_body     text NOT NULL,
    response_status  integer NOT NULL,
    response_headers jsonb NOT NULL,
    response_body    text NOT NULL,
    error            text NOT NULL
);
CREATE INDEX attempts_task ON attempts (task_id, number);

CREATE TABLE sources (
    id           text PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id),
    name         text NOT NULL UNIQUE,
    description  text NOT NULL,
    verification bytea NOT NULL,
    config       json NOT NULL, -- json keeps the text as written
    enabled      boolean NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX sources_tenant ON sources (tenant_id, id);

CREATE TABLE subscriptions (
    id             text PRIMARY KEY,
    tenant_id      text NOT NULL REFERENCES tenants (id),
    name           text NOT NULL,
    event_types    jsonb NOT NULL,
    filter         text NOT NULL,
    kind           text NOT NULL,
    destination_id text NOT NULL,
    transform      text NOT NULL,
    enabled        boolean NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX subscriptions_tenant ON subscriptions (tenant_id, id);
CREATE UNIQUE INDEX subscriptions_name ON subscriptions (tenant_id, name) WHERE name <> '';

CREATE TABLE rejections (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL,
    source_id   text NOT NULL,
    created_at  timestamptz NOT NULL,
    reason      text NOT NULL,
    method      text NOT NULL,
    remote_addr text NOT NULL,
    headers     jsonb NOT NULL,
    body        text NOT NULL
);
CREATE INDEX rejections_source ON rejections (source_id, id);

CREATE TABLE nodes (
    id           text PRIMARY KEY,
    addr         text NOT NULL,
    started_at   timestamptz NOT NULL,
    heartbeat_at timestamptz NOT NULL
);

CREATE TABLE buckets (
    bucket      integer PRIMARY KEY,
    node_id     text NOT NULL DEFAULT '',
    lease_until timestamptz NOT NULL DEFAULT 'epoch'
);
INSERT INTO buckets (bucket) SELECT generate_series(0, 63);

-- +goose Down
DROP TABLE buckets;
DROP TABLE nodes;
DROP TABLE rejections;
DROP TABLE subscriptions;
DROP TABLE sources;
DROP TABLE attempts;
DROP TABLE tasks;
DROP TABLE events;
DROP TABLE endpoints;
DROP TABLE event_types;
DROP TABLE api_keys;
DROP TABLE tenants;
