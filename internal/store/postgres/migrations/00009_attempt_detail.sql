-- +goose Up
-- An attempt's kind (http, sync, workflow, notify, message) and, for
-- those run in process, the JSON detail of what they decided, kept as
-- text so it reads back byte for byte. Attempts written before have kind
-- '' and no detail. Constant defaults: no table rewrite.
ALTER TABLE attempts ADD COLUMN kind text NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN detail text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE attempts DROP COLUMN detail;
ALTER TABLE attempts DROP COLUMN kind;
