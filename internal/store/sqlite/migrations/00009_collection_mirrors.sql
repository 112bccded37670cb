-- +goose Up
-- Where each collection's mirror table stands: the mirror follows the
-- collection's changes on its own, so a mirror database that is down
-- holds up only the mirror.
CREATE TABLE collection_mirrors (
    tenant_id     TEXT NOT NULL,
    collection    TEXT NOT NULL,
    target        TEXT NOT NULL,    -- the mirror's database and table the cursor is for
    seq           INTEGER NOT NULL, -- the last change written to the mirror
    error         TEXT NOT NULL DEFAULT '',
    failing_since INTEGER NOT NULL DEFAULT 0, -- unix ms; 0: not failing
    retry_at      INTEGER NOT NULL DEFAULT 0,
    rows_failed   INTEGER NOT NULL DEFAULT 0,
    row_error     TEXT NOT NULL DEFAULT '',
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, collection),
    FOREIGN KEY (tenant_id, collection) REFERENCES collections (tenant_id, name) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE collection_mirrors;
