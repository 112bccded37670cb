-- +goose Up
-- The credential of an endpoint URL (a password, or a token as the whole
-- user information, as in nats://TOKEN@host) is a secret: the url column
-- holds the URL with it replaced by "redacted" and this column holds it,
-- AES-GCM sealed, NULL when the URL has none. Rows written before hold
-- the URL whole in url and NULL here; the store splits them when read, so
-- the credential is never shown, and seals them when it opens (sealLegacy).
ALTER TABLE endpoints ADD COLUMN sealed_url_secret BLOB;

-- +goose Down
-- SQL cannot open what the store sealed: going down loses the credentials
-- of endpoint URLs.
ALTER TABLE endpoints DROP COLUMN sealed_url_secret;
