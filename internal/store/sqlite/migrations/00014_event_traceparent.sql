-- +goose Up
-- The W3C trace context an event was published in ('' for none, and for
-- events written before): its attempts continue that trace.
ALTER TABLE events ADD COLUMN traceparent TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN traceparent;
