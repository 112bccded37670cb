-- +goose Up
-- Every attempt of every step of a run, as it ended (a retried step has
-- one row per attempt; run_steps keeps only its last): the dashboard's
-- run timeline. Written by SaveRun with the step log.
CREATE TABLE run_attempts (
    run_id      text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq         integer NOT NULL, -- the run_steps entry
    attempt     integer NOT NULL, -- 1, 2, 3… per entry
    tenant_id   text NOT NULL,
    step_id     text NOT NULL,
    kind        text NOT NULL,
    status      text NOT NULL,
    input       json, -- NULL: none
    output      json, -- NULL: none
    error       text NOT NULL,
    started_at  timestamptz NOT NULL,
    duration_us bigint NOT NULL,
    PRIMARY KEY (run_id, seq, attempt)
);

-- +goose Down
DROP TABLE run_attempts;
