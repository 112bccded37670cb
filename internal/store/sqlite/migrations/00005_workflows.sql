-- +goose Up
CREATE TABLE workflows (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL, -- 1, 2, 3… per name
    spec       TEXT NOT NULL,    -- JSON owned by the workflow package
    enabled    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
);

-- Runs outlive their workflow (DeleteWorkflow keeps them) and the event
-- that started them (Prune), so neither is a foreign key.
CREATE TABLE runs (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    workflow   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    status     TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    state      TEXT,             -- JSON owned by the workflow package
    error      TEXT NOT NULL,
    rev        INTEGER NOT NULL, -- saves so far, for optimistic concurrency
    wait_event TEXT NOT NULL,    -- '': not waiting for an event
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX runs_tenant ON runs (tenant_id, id);
CREATE INDEX runs_workflow ON runs (tenant_id, workflow, id);
CREATE INDEX runs_status ON runs (tenant_id, status, id);
CREATE INDEX runs_waiting ON runs (tenant_id) WHERE status = 'waiting' AND wait_event <> '';

CREATE TABLE run_steps (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL, -- 1, 2, 3… per run
    tenant_id   TEXT NOT NULL,
    step_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    input       TEXT, -- JSON; NULL: none
    output      TEXT, -- JSON; NULL: none
    error       TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    duration_us INTEGER NOT NULL,
    PRIMARY KEY (run_id, seq)
);

-- +goose Down
DROP TABLE run_steps;
DROP TABLE runs;
DROP TABLE workflows;
