-- +goose Up
-- Every attempt of every step of a run, as it ended (a retried step has
-- one row per attempt; run_steps keeps only its last): the dashboard's
-- run timeline. Written by SaveRun with the step log.
CREATE TABLE run_attempts (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL, -- the run_steps entry
    attempt     INTEGER NOT NULL, -- 1, 2, 3… per entry
    tenant_id   TEXT NOT NULL,
    step_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    input       TEXT, -- JSON; NULL: none
    output      TEXT, -- JSON; NULL: none
    error       TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    duration_us INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq, attempt)
);

-- +goose Down
DROP TABLE run_attempts;
