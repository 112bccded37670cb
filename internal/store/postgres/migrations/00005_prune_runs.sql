-- +goose Up
-- Finished runs, oldest first, for retention pruning.
CREATE INDEX runs_ended ON runs (updated_at, id) WHERE status IN ('succeeded', 'failed', 'cancelled');

-- +goose Down
DROP INDEX runs_ended;
