-- +goose Up
-- The slots of workflows' concurrency and throttle limits
-- (store.RunGate): a concurrency slot per run going on, a throttle slot
-- per run started (kept until it is older than the period), and a queued
-- row per run waiting for a concurrency slot, in arrival order.
CREATE TABLE workflow_slots (
    tenant_id TEXT NOT NULL,
    workflow  TEXT NOT NULL,
    kind      TEXT NOT NULL, -- concurrency, throttle, queued
    key       TEXT NOT NULL,
    run_id    TEXT NOT NULL,
    at        INTEGER NOT NULL, -- unix ms: taken, or queued
    PRIMARY KEY (tenant_id, workflow, kind, key, run_id)
);
CREATE INDEX workflow_slots_run ON workflow_slots (tenant_id, run_id);

-- The latest event of each debounced key (store.Debounce).
CREATE TABLE workflow_debounce (
    tenant_id TEXT NOT NULL,
    workflow  TEXT NOT NULL,
    key       TEXT NOT NULL,
    event_id  TEXT NOT NULL,
    due_at    INTEGER NOT NULL, -- unix ms
    PRIMARY KEY (tenant_id, workflow, key)
);

-- +goose Down
DROP TABLE workflow_debounce;
DROP TABLE workflow_slots;
