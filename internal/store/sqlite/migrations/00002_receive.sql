-- +goose Up
ALTER TABLE events ADD COLUMN raw BLOB;
ALTER TABLE events ADD COLUMN headers TEXT NOT NULL DEFAULT '{}';
CREATE INDEX events_source ON events (tenant_id, source, id);

CREATE TABLE sources (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    name         TEXT NOT NULL UNIQUE, -- /in/{name} is global
    description  TEXT NOT NULL,
    verification BLOB NOT NULL, -- AES-GCM sealed JSON (holds secrets)
    config       TEXT NOT NULL, -- JSON: event type, dedup, response rules
    enabled      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX sources_tenant ON sources (tenant_id, id);

CREATE TABLE subscriptions (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    name           TEXT NOT NULL,
    event_types    TEXT NOT NULL, -- JSON array of patterns
    filter         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    destination_id TEXT NOT NULL,
    transform      TEXT NOT NULL,
    enabled        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX subscriptions_tenant ON subscriptions (tenant_id, id);
CREATE UNIQUE INDEX subscriptions_name ON subscriptions (tenant_id, name) WHERE name <> '';

CREATE TABLE rejections (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    source_id   TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    method      TEXT NOT NULL,
    remote_addr TEXT NOT NULL,
    headers     TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX rejections_source ON rejections (source_id, id);

ALTER TABLE endpoints ADD COLUMN name TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX endpoints_name ON endpoints (tenant_id, name) WHERE name <> '';

-- +goose Down
DROP INDEX endpoints_name;
ALTER TABLE endpoints DROP COLUMN name;
DROP TABLE rejections;
DROP TABLE subscriptions;
DROP TABLE sources;
DROP INDEX events_source;
ALTER TABLE events DROP COLUMN headers;
ALTER TABLE events DROP COLUMN raw;
