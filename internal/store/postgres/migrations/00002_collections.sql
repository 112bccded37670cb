-- +goose Up
CREATE TABLE collections (
    tenant_id  text NOT NULL REFERENCES tenants (id),
    name       text NOT NULL,
    spec       json NOT NULL, -- json keeps the text as written
    secret     bytea,         -- AES-GCM sealed JSON; NULL: none
    last_seq   bigint NOT NULL DEFAULT 0, -- the last change's seq
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE records (
    tenant_id  text NOT NULL,
    collection text NOT NULL,
    key        text COLLATE "C" NOT NULL, -- byte order, as in Go and SQLite
    data       json,   -- NULL for a tombstone
    deleted    boolean NOT NULL,
    version    text NOT NULL,
    event_id   text NOT NULL,
    seq        bigint NOT NULL, -- the change that last wrote the record
    meta       json, -- bookkeeping of the collection package; NULL: none
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, collection, key),
    FOREIGN KEY (tenant_id, collection) REFERENCES collections (tenant_id, name) ON DELETE CASCADE
);

CREATE TABLE record_changes (
    tenant_id  text NOT NULL,
    collection text NOT NULL,
    seq        bigint NOT NULL, -- 1, 2, 3… per collection, without gaps
    key        text NOT NULL,
    op         text NOT NULL,
    data       json, -- the record after the change; NULL for a delete
    version    text NOT NULL,
    event_id   text NOT NULL,
    at         timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, collection, seq),
    FOREIGN KEY (tenant_id, collection) REFERENCES collections (tenant_id, name) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE record_changes;
DROP TABLE records;
DROP TABLE collections;
