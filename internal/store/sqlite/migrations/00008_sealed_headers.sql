-- +goose Up
-- Endpoint custom headers and notify rules (whose lookups carry headers)
-- are secrets: AES-GCM sealed JSON, like endpoints.secrets. Rows written
-- before hold plain JSON in headers/spec and NULL here until the store,
-- which has the key, seals them when it opens (sealLegacy); sealed rows
-- hold '{}' in headers/spec.
ALTER TABLE endpoints ADD COLUMN sealed_headers BLOB;
ALTER TABLE notify_rules ADD COLUMN sealed_spec BLOB;

-- +goose Down
-- SQL cannot open what the store sealed: going down loses the custom
-- headers of endpoints and the specs of notify rules.
ALTER TABLE notify_rules DROP COLUMN sealed_spec;
ALTER TABLE endpoints DROP COLUMN sealed_headers;
