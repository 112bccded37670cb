package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/internal/column"
)

const recipientCols = `tenant_id, id, email, name, locale, time_zone, prefs, data, created_at, updated_at`

func scanRecipient(r pgx.Row) (store.Recipient, error) {
	var rc store.Recipient
	err := r.Scan(&rc.TenantID, &rc.ID, &rc.Email, &rc.Name, &rc.Locale, &rc.TimeZone, &rc.Prefs, &rc.Data, &rc.CreatedAt,
		&rc.UpdatedAt)
	rc.CreatedAt, rc.UpdatedAt = fromTS(rc.CreatedAt), fromTS(rc.UpdatedAt)
	return rc, err
}

// UpsertRecipient inserts a recipient or replaces the one with its tenant
// and id; a replaced recipient keeps its CreatedAt.
func (s *Store) UpsertRecipient(ctx context.Context, r store.Recipient) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO recipients (`+recipientCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (tenant_id, id) DO UPDATE SET email = excluded.email, name = excluded.name, locale = excluded.locale,
		time_zone = excluded.time_zone, prefs = excluded.prefs, data = excluded.data, updated_at = excluded.updated_at`,
		r.TenantID, r.ID, r.Email, r.Name, r.Locale, r.TimeZone, r.Prefs, r.Data, ts(r.CreatedAt), ts(r.UpdatedAt))
	return wrapWrite("upsert recipient", err)
}

// GetRecipient returns one of a tenant's recipients.
func (s *Store) GetRecipient(ctx context.Context, tenantID, id string) (store.Recipient, error) {
	return queryOne(ctx, s.pool, "get recipient", scanRecipient, `SELECT `+recipientCols+` FROM recipients WHERE tenant_id = $1 AND id = $2`,
		tenantID, id)
}

// ListRecipients lists a tenant's recipients by id; the cursor is the last
// id of the previous page.
func (s *Store) ListRecipients(ctx context.Context, tenantID string, p store.Page) ([]store.Recipient, error) {
	return queryAll(ctx, s.pool, "list recipients", scanRecipient,
		`SELECT `+recipientCols+` FROM recipients WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
		tenantID, p.Cursor, p.Size())
}

// DeleteRecipient deletes a recipient; its messages stay.
func (s *Store) DeleteRecipient(ctx context.Context, tenantID, id string) error {
	return s.change(ctx, "delete recipient", `DELETE FROM recipients WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

const templateCols = `tenant_id, name, version, spec, created_at`

func scanTemplate(r pgx.Row) (store.Template, error) {
	var t store.Template
	err := r.Scan(&t.TenantID, &t.Name, &t.Version, &t.Spec, &t.CreatedAt)
	t.CreatedAt = fromTS(t.CreatedAt)
	return t, err
}

// CreateTemplate inserts a template version; ErrConflict when the tenant
// has that version of the name.
func (s *Store) CreateTemplate(ctx context.Context, t store.Template) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO templates (`+templateCols+`) VALUES ($1, $2, $3, $4, $5)`,
		t.TenantID, t.Name, t.Version, configJSON(t.Spec), ts(t.CreatedAt))
	return wrapWrite("create template", err)
}

// GetTemplate returns one version of a template, the highest for version 0.
func (s *Store) GetTemplate(ctx context.Context, tenantID, name string, version int) (store.Template, error) {
	return queryOne(ctx, s.pool, "get template", scanTemplate, `SELECT `+templateCols+` FROM templates
		WHERE tenant_id = $1 AND name = $2 AND ($3 = 0 OR version = $3) ORDER BY version DESC LIMIT 1`, tenantID, name, version)
}

// ListTemplates lists the highest version of each of a tenant's templates,
// by name.
func (s *Store) ListTemplates(ctx context.Context, tenantID string) ([]store.Template, error) {
	return queryAll(ctx, s.pool, "list templates", scanTemplate, `SELECT DISTINCT ON (name) `+templateCols+` FROM templates WHERE tenant_id = $1
		ORDER BY name, version DESC`, tenantID)
}

// DeleteTemplate deletes every version of a template.
func (s *Store) DeleteTemplate(ctx context.Context, tenantID, name string) error {
	return s.change(ctx, "delete template", `DELETE FROM templates WHERE tenant_id = $1 AND name = $2`, tenantID, name)
}

const notifyRuleCols = `tenant_id, name, spec, enabled, created_at, updated_at, sealed_spec`

// scanNotifyRule reads a rule, opening its sealed spec (a rule's lookups
// carry headers, which may be credentials).
func (s *Store) scanNotifyRule(r pgx.Row) (store.NotifyRule, error) {
	var nr store.NotifyRule
	var sealed []byte
	if err := r.Scan(&nr.TenantID, &nr.Name, &nr.Spec, &nr.Enabled, &nr.CreatedAt, &nr.UpdatedAt, &sealed); err != nil {
		return nr, err
	}
	nr.CreatedAt, nr.UpdatedAt = fromTS(nr.CreatedAt), fromTS(nr.UpdatedAt)
	spec, err := column.Open(s.box, sealed, nr.Spec)
	if err != nil {
		return nr, fmt.Errorf("decrypt notify rule %s: %w", nr.Name, err)
	}
	nr.Spec = spec
	return nr, nil
}

// CreateNotifyRule inserts a rule; ErrConflict when the tenant has one of
// that name.
func (s *Store) CreateNotifyRule(ctx context.Context, r store.NotifyRule) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO notify_rules (`+notifyRuleCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		r.TenantID, r.Name, []byte(column.SealedPlaceholder), r.Enabled, ts(r.CreatedAt), ts(r.UpdatedAt), s.box.Seal(r.Spec))
	return wrapWrite("create notify rule", err)
}

// GetNotifyRule returns one of a tenant's rules.
func (s *Store) GetNotifyRule(ctx context.Context, tenantID, name string) (store.NotifyRule, error) {
	return queryOne(ctx, s.pool, "get notify rule", s.scanNotifyRule, `SELECT `+notifyRuleCols+` FROM notify_rules WHERE tenant_id = $1 AND name = $2`,
		tenantID, name)
}

// ListNotifyRules lists a tenant's rules by name.
func (s *Store) ListNotifyRules(ctx context.Context, tenantID string) ([]store.NotifyRule, error) {
	return queryAll(ctx, s.pool, "list notify rules", s.scanNotifyRule,
		`SELECT `+notifyRuleCols+` FROM notify_rules WHERE tenant_id = $1 ORDER BY name`, tenantID)
}

// UpdateNotifyRule replaces a rule's spec and enabled flag and sets its
// UpdatedAt.
func (s *Store) UpdateNotifyRule(ctx context.Context, r store.NotifyRule) error {
	return s.change(ctx, "update notify rule", `UPDATE notify_rules SET spec = $1, sealed_spec = $2, enabled = $3, updated_at = $4
		WHERE tenant_id = $5 AND name = $6`,
		[]byte(column.SealedPlaceholder), s.box.Seal(r.Spec), r.Enabled, ts(r.UpdatedAt), r.TenantID, r.Name)
}

// DeleteNotifyRule deletes a rule; its messages stay.
func (s *Store) DeleteNotifyRule(ctx context.Context, tenantID, name string) error {
	return s.change(ctx, "delete notify rule", `DELETE FROM notify_rules WHERE tenant_id = $1 AND name = $2`, tenantID, name)
}

const messageCols = `id, tenant_id, rule, recipient_id, channel, category, template, locale, subject, text, html, status, event_id,
	digest_key, send_at, sent_at, attempts, error, read, archived, page_token, page_until, created_at, updated_at`

var messageColumns = []string{"id", "tenant_id", "rule", "recipient_id", "channel", "category", "template", "locale", "subject",
	"text", "html", "status", "event_id", "digest_key", "send_at", "sent_at", "attempts", "error", "read", "archived", "page_token",
	"page_until", "created_at", "updated_at"}

func messageRow(m store.Message) []any {
	return []any{m.ID, m.TenantID, m.Rule, m.RecipientID, m.Channel, m.Category, m.Template, m.Locale, m.Subject, m.Text, m.HTML,
		m.Status, m.EventID, m.DigestKey, ts(m.SendAt), nullTS(m.SentAt), m.Attempts, m.Error, m.Read, m.Archived, m.PageToken,
		nullTS(m.PageUntil), ts(m.CreatedAt), ts(m.UpdatedAt)}
}

func scanMessage(r pgx.Row) (store.Message, error) {
	var m store.Message
	var sentAt, pageUntil *time.Time
	err := r.Scan(&m.ID, &m.TenantID, &m.Rule, &m.RecipientID, &m.Channel, &m.Category, &m.Template, &m.Locale, &m.Subject,
		&m.Text, &m.HTML, &m.Status, &m.EventID, &m.DigestKey, &m.SendAt, &sentAt, &m.Attempts, &m.Error, &m.Read, &m.Archived,
		&m.PageToken, &pageUntil, &m.CreatedAt, &m.UpdatedAt)
	if sentAt != nil {
		m.SentAt = fromTS(*sentAt)
	}
	if pageUntil != nil {
		m.PageUntil = fromTS(*pageUntil)
	}
	m.SendAt, m.CreatedAt, m.UpdatedAt = fromTS(m.SendAt), fromTS(m.CreatedAt), fromTS(m.UpdatedAt)
	return m, err
}

var linkColumns = []string{"token", "tenant_id", "message_id", "url", "open", "created_at"}

// SaveMessages copies messages, their links and their tasks in with COPY
// (as AddTasks), in one transaction. A message id, page token, link token
// or task id that exists fails the whole save with ErrConflict.
func (s *Store) SaveMessages(ctx context.Context, msgs []store.Message, links []store.Link, tasks []store.Task) error {
	return s.transact(ctx, "save messages", func(tx pgx.Tx) error {
		if len(msgs) > 0 {
			rows := make([][]any, len(msgs))
			for i, m := range msgs {
				rows[i] = messageRow(m)
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"messages"}, messageColumns, pgx.CopyFromRows(rows)); err != nil {
				return wrapWrite("save messages: copy messages", err)
			}
		}
		if len(links) > 0 {
			rows := make([][]any, len(links))
			for i, l := range links {
				rows[i] = []any{l.Token, l.TenantID, l.MessageID, l.URL, l.Open, ts(l.CreatedAt)}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"links"}, linkColumns, pgx.CopyFromRows(rows)); err != nil {
				return wrapWrite("save messages: copy links", err)
			}
		}
		if err := insertTasks(ctx, tx, tasks); err != nil {
			return fmt.Errorf("save messages: %w", err)
		}
		return nil
	})
}

// UpdateMessage replaces a message's mutable fields; ErrConflict when its
// new page token belongs to another message.
func (s *Store) UpdateMessage(ctx context.Context, m store.Message) error {
	return s.change(ctx, "update message", `UPDATE messages SET status = $1, subject = $2, text = $3, html = $4, sent_at = $5, attempts = $6,
		error = $7, read = $8, archived = $9, page_token = $10, page_until = $11, digest_key = $12, send_at = $13, updated_at = $14
		WHERE tenant_id = $15 AND id = $16`,
		m.Status, m.Subject, m.Text, m.HTML, nullTS(m.SentAt), m.Attempts, m.Error, m.Read, m.Archived, m.PageToken,
		nullTS(m.PageUntil), m.DigestKey, ts(m.SendAt), ts(m.UpdatedAt), m.TenantID, m.ID)
}

// GetMessage returns one of a tenant's messages.
func (s *Store) GetMessage(ctx context.Context, tenantID, id string) (store.Message, error) {
	return queryOne(ctx, s.pool, "get message", scanMessage, `SELECT `+messageCols+` FROM messages WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// ListMessages lists a tenant's messages, newest first. The WHERE clause
// names only the filters that are set, so a generic plan cannot hide
// messages_inbox from a recipient's inbox; it is assembled from constant
// fragments.
func (s *Store) ListMessages(ctx context.Context, tenantID string, q store.MessageQuery) ([]store.Message, error) {
	f := where(`tenant_id = $`, tenantID)
	f.and(q.Cursor != "", `id < $`, q.Cursor)
	f.and(q.RecipientID != "", `recipient_id = $`, q.RecipientID)
	f.and(q.Channel != "", `channel = $`, q.Channel)
	f.and(q.Status != "", `status = $`, q.Status)
	f.and(q.Channel == "inbox", `archived = $`, q.Archived)
	return queryAll(ctx, s.pool, "list messages", scanMessage, `SELECT `+messageCols+` FROM messages WHERE `+f.String()+
		` ORDER BY id DESC`+f.limit(q.Page.Size()), f.args...)
}

// DigestMessages lists the messages of a digest, oldest first.
func (s *Store) DigestMessages(ctx context.Context, tenantID, digestKey string) ([]store.Message, error) {
	// digest_key <> '' lets the partial index messages_digest serve the
	// query and keeps messages outside digests out of it.
	return queryAll(ctx, s.pool, "list digest messages", scanMessage, `SELECT `+messageCols+` FROM messages
		WHERE tenant_id = $1 AND digest_key = $2 AND digest_key <> '' ORDER BY id`, tenantID, digestKey)
}

// CountUnread counts a recipient's sent inbox messages that are neither
// read nor archived.
func (s *Store) CountUnread(ctx context.Context, tenantID, recipientID string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM messages
		WHERE tenant_id = $1 AND recipient_id = $2 AND channel = 'inbox' AND status = 'sent' AND NOT read AND NOT archived`,
		tenantID, recipientID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count unread: %w", err)
	}
	return n, nil
}

// MessageByPage finds a message of any tenant by its page token.
func (s *Store) MessageByPage(ctx context.Context, token string) (store.Message, error) {
	return queryOne(ctx, s.pool, "get message by page", scanMessage, `SELECT `+messageCols+` FROM messages WHERE page_token = $1 AND page_token <> ''`,
		token)
}

// GetLink finds a tracked link of any tenant by its token.
func (s *Store) GetLink(ctx context.Context, token string) (store.Link, error) {
	var l store.Link
	err := s.pool.QueryRow(ctx, `SELECT token, tenant_id, message_id, url, open, created_at FROM links WHERE token = $1`, token).
		Scan(&l.Token, &l.TenantID, &l.MessageID, &l.URL, &l.Open, &l.CreatedAt)
	l.CreatedAt = fromTS(l.CreatedAt)
	return l, wrapRead("get link", err)
}
