-- +goose Up
-- A task's lease names its holder and fences its claim: a claim by
-- another node gives a new token, and extending, releasing and completing
-- the task match the token, so a node whose lease lapsed cannot overwrite
-- what the node that took the task over wrote. lease_owner also lets the
-- survivors release the leases of a node that died, and a node starting
-- again under its id take back its own at once. Constant defaults: no
-- table rewrite.
ALTER TABLE tasks ADD COLUMN lease_owner text NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN lease_token bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE tasks DROP COLUMN lease_token;
ALTER TABLE tasks DROP COLUMN lease_owner;
