-- +goose Up
CREATE TABLE recipients (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    id         TEXT NOT NULL, -- the tenant's own id for the person
    email      TEXT NOT NULL,
    name       TEXT NOT NULL,
    locale     TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    prefs      TEXT, -- JSON owned by the content package; NULL: none
    data       TEXT, -- JSON owned by the content package; NULL: none
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE templates (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL, -- 1, 2, 3… per name
    spec       TEXT NOT NULL,    -- JSON owned by the content package
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
);

CREATE TABLE notify_rules (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    spec       TEXT NOT NULL, -- JSON owned by the content package
    enabled    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- Messages outlive their rule, recipient and template, and the event that
-- caused them (Prune), so none is a foreign key.
CREATE TABLE messages (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    rule         TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    channel      TEXT NOT NULL,
    category     TEXT NOT NULL,
    template     TEXT NOT NULL,
    locale       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    text         TEXT NOT NULL,
    html         TEXT NOT NULL,
    status       TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    digest_key   TEXT NOT NULL, -- '': not in a digest
    send_at      INTEGER NOT NULL,
    sent_at      INTEGER NOT NULL, -- 0: not sent
    attempts     INTEGER NOT NULL,
    error        TEXT NOT NULL,
    read         INTEGER NOT NULL,
    archived     INTEGER NOT NULL,
    page_token   TEXT NOT NULL, -- '': no hosted page
    page_until   INTEGER NOT NULL, -- 0: none
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX messages_tenant ON messages (tenant_id, id);
CREATE INDEX messages_inbox ON messages (tenant_id, recipient_id, channel, id);
CREATE INDEX messages_digest ON messages (tenant_id, digest_key) WHERE digest_key <> '';
CREATE UNIQUE INDEX messages_page ON messages (page_token) WHERE page_token <> '';

CREATE TABLE links (
    token      TEXT PRIMARY KEY, -- unguessable; looked up across tenants
    tenant_id  TEXT NOT NULL,
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    open       INTEGER NOT NULL, -- the open-tracking pixel
    created_at INTEGER NOT NULL
);
CREATE INDEX links_message ON links (message_id);

-- +goose Down
DROP TABLE links;
DROP TABLE messages;
DROP TABLE notify_rules;
DROP TABLE templates;
DROP TABLE recipients;
