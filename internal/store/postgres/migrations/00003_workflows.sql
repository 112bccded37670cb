-- +goose Up
CREATE TABLE workflows (
    tenant_id  text NOT NULL REFERENCES tenants (id),
    name       text COLLATE "C" NOT NULL, -- byte order, as in Go and SQLite
    version    integer NOT NULL, -- 1, 2, 3… per name
    spec       json NOT NULL,    -- json keeps the text as written
    enabled    boolean NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
);

-- Runs outlive their workflow (DeleteWorkflow keeps them) and the event
-- that started them (Prune), so neither is a foreign key.
CREATE TABLE runs (
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL,
    workflow   text NOT NULL,
    version    integer NOT NULL,
    status     text NOT NULL,
    event_id   text NOT NULL,
    state      json,             -- owned by the workflow package
    error      text NOT NULL,
    rev        integer NOT NULL, -- saves so far, for optimistic concurrency
    wait_event text NOT NULL,    -- '': not waiting for an event
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX runs_tenant ON runs (tenant_id, id);
CREATE INDEX runs_workflow ON runs (tenant_id, workflow, id);
CREATE INDEX runs_status ON runs (tenant_id, status, id);
CREATE INDEX runs_waiting ON runs (tenant_id) WHERE status = 'waiting' AND wait_event <> '';

CREATE TABLE run_steps (
    run_id      text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq         integer NOT NULL, -- 1, 2, 3… per run
    tenant_id   text NOT NULL,
    step_id     text NOT NULL,
    kind        text NOT NULL,
    status      text NOT NULL,
    attempts    integer NOT NULL,
    input       json, -- NULL: none
    output      json, -- NULL: none
    error       text NOT NULL,
    started_at  timestamptz NOT NULL,
    duration_us bigint NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- +goose Down
DROP TABLE run_steps;
DROP TABLE runs;
DROP TABLE workflows;
