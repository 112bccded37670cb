-- +goose Up
-- An attempt's kind (http, sync, workflow, notify, message) and, for
-- those run in process, the JSON detail of what they decided. Attempts
-- written before have kind '' and no detail.
ALTER TABLE attempts ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN detail TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE attempts DROP COLUMN detail;
ALTER TABLE attempts DROP COLUMN kind;
