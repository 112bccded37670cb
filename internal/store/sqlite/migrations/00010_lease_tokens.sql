-- +goose Up
-- A task's lease names its holder and fences its claim: a claim by
-- another holder gives a new token, and extending, releasing and
-- completing the task match the token (see store.TaskLease).
ALTER TABLE tasks ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE tasks DROP COLUMN lease_token;
ALTER TABLE tasks DROP COLUMN lease_owner;
