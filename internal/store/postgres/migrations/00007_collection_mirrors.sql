-- +goose Up
-- Where each collection's mirror table stands: the mirror follows the
-- collection's changes on its own, so a mirror database that is down
-- holds up only the mirror.
CREATE TABLE collection_mirrors (
    tenant_id     text NOT NULL,
    collection    text NOT NULL,
    target        text NOT NULL,   -- the mirror's database and table the cursor is for
    seq           bigint NOT NULL, -- the last change written to the mirror
    error         text NOT NULL DEFAULT '',
    failing_since timestamptz,
    retry_at      timestamptz,
    rows_failed   bigint NOT NULL DEFAULT 0,
    row_error     text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, collection),
    FOREIGN KEY (tenant_id, collection) REFERENCES collections (tenant_id, name) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE collection_mirrors;
