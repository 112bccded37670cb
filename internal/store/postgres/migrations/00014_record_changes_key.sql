-- +goose Up
-- A record's history (ListRecordChanges): its changes newest first,
-- without reading every change of the collection.
CREATE INDEX record_changes_key ON record_changes (tenant_id, collection, key, seq);

-- +goose Down
DROP INDEX record_changes_key;
