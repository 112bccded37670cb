-- +goose Up
-- The events a run listens for while it is running or waiting: a
-- workflow's cancel_on entries, numbered idx 0, 1, 2… with the key and
-- the value the run computed when it started ('': no key). Routing reads
-- them (ListeningRuns) to hand a run the events that cancel it.
CREATE TABLE run_listens (
    run_id     text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx        integer NOT NULL,
    tenant_id  text NOT NULL,
    pattern    text NOT NULL,
    wait_key   text NOT NULL,
    wait_value text NOT NULL,
    PRIMARY KEY (run_id, idx)
);
CREATE INDEX run_listens_tenant ON run_listens (tenant_id);

-- +goose Down
DROP TABLE run_listens;
