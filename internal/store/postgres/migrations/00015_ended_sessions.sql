-- +goose Up
-- Dashboard sessions signed out before they expired: the session cookie
-- is sealed and self-contained, so signing out on the server means
-- remembering its id until the cookie would have expired anyway.
CREATE TABLE ended_sessions (
    id         text PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX ended_sessions_expiry ON ended_sessions (expires_at);

-- +goose Down
DROP TABLE ended_sessions;
