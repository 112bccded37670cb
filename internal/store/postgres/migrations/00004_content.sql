-- +goose Up
CREATE TABLE recipients (
    tenant_id  text NOT NULL REFERENCES tenants (id),
    id         text COLLATE "C" NOT NULL, -- the tenant's own id; byte order, as in Go and SQLite
    email      text NOT NULL,
    name       text NOT NULL,
    locale     text NOT NULL,
    time_zone  text NOT NULL,
    prefs      json, -- owned by the content package; NULL: none
    data       json, -- owned by the content package; NULL: none
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE templates (
    tenant_id  text NOT NULL REFERENCES tenants (id),
    name       text COLLATE "C" NOT NULL, -- byte order, as in Go and SQLite
    version    integer NOT NULL, -- 1, 2, 3… per name
    spec       json NOT NULL,    -- json keeps the text as written
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name, version)
);

CREATE TABLE notify_rules (
    tenant_id  text NOT NULL REFERENCES tenants (id),
    name       text COLLATE "C" NOT NULL, -- byte order, as in Go and SQLite
    spec       json NOT NULL,
    enabled    boolean NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

-- Messages outlive their rule, recipient and template, and the event that
-- caused them (Prune), so none is a foreign key.
CREATE TABLE messages (
    id           text PRIMARY KEY,
    tenant_id    text NOT NULL,
    rule         text NOT NULL,
    recipient_id text NOT NULL,
    channel      text NOT NULL,
    category     text NOT NULL,
    template     text NOT NULL,
    locale       text NOT NULL,
    subject      text NOT NULL,
    text         text NOT NULL,
    html         text NOT NULL,
    status       text NOT NULL,
    event_id     text NOT NULL,
    digest_key   text NOT NULL, -- '': not in a digest
    send_at      timestamptz NOT NULL, -- 'epoch': none
    sent_at      timestamptz,          -- NULL: not sent
    attempts     integer NOT NULL,
    error        text NOT NULL,
    read         boolean NOT NULL,
    archived     boolean NOT NULL,
    page_token   text NOT NULL, -- '': no hosted page
    page_until   timestamptz,   -- NULL: none
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX messages_tenant ON messages (tenant_id, id);
CREATE INDEX messages_inbox ON messages (tenant_id, recipient_id, channel, id);
CREATE INDEX messages_digest ON messages (tenant_id, digest_key) WHERE digest_key <> '';
CREATE UNIQUE INDEX messages_page ON messages (page_token) WHERE page_token <> '';

CREATE TABLE links (
    token      text PRIMARY KEY, -- unguessable; looked up across tenants
    tenant_id  text NOT NULL,
    message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    url        text NOT NULL,
    open       boolean NOT NULL, -- the open-tracking pixel
    created_at timestamptz NOT NULL
);
CREATE INDEX links_message ON links (message_id);

-- +goose Down
DROP TABLE links;
DROP TABLE messages;
DROP TABLE notify_rules;
DROP TABLE templates;
DROP TABLE recipients;
