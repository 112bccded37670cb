-- +goose Up
CREATE TABLE collections (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    spec       TEXT NOT NULL, -- JSON owned by the collection package
    secret     BLOB,          -- AES-GCM sealed JSON; NULL: none
    last_seq   INTEGER NOT NULL DEFAULT 0, -- the last change's seq
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE records (
    tenant_id  TEXT NOT NULL,
    collection TEXT NOT NULL,
    key        TEXT NOT NULL,
    data       TEXT,             -- JSON object; NULL for a tombstone
    deleted    INTEGER NOT NULL,
    version    TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    seq        INTEGER NOT NULL, -- the change that last wrote the record
    meta       TEXT, -- bookkeeping of the collection package; NULL: none
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, collection, key),
    FOREIGN KEY (tenant_id, collection) REFERENCES collections (tenant_id, name) ON DELETE CASCADE
);

CREATE TABLE record_changes (
    tenant_id  TEXT NOT NULL,
    collection TEXT NOT NULL,
    seq        INTEGER NOT NULL, -- 1, 2, 3… per collection, without gaps
    key        TEXT NOT NULL,
    op         TEXT NOT NULL,
    data       TEXT, -- the record after the change; NULL for a delete
    version    TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, collection, seq),
    FOREIGN KEY (tenant_id, collection) REFERENCES collections (tenant_id, name) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE record_changes;
DROP TABLE records;
DROP TABLE collections;
