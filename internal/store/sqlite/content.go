package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/internal/column"
)

const recipientCols = `tenant_id, id, email, name, locale, time_zone, prefs, data, created_at, updated_at`

func scanRecipient(sc scanner) (store.Recipient, error) {
	var r store.Recipient
	var prefs, data sql.NullString
	var created, updated int64
	err := sc.Scan(&r.TenantID, &r.ID, &r.Email, &r.Name, &r.Locale, &r.TimeZone, &prefs, &data, &created, &updated)
	if prefs.Valid {
		r.Prefs = []byte(prefs.String)
	}
	if data.Valid {
		r.Data = []byte(data.String)
	}
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return r, err
}

// UpsertRecipient inserts a recipient or replaces the one with its tenant
// and id; a replaced recipient keeps its CreatedAt.
func (s *Store) UpsertRecipient(ctx context.Context, r store.Recipient) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO recipients (`+recipientCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, id) DO UPDATE SET email = excluded.email, name = excluded.name, locale = excluded.locale,
		time_zone = excluded.time_zone, prefs = excluded.prefs, data = excluded.data, updated_at = excluded.updated_at`,
		r.TenantID, r.ID, r.Email, r.Name, r.Locale, r.TimeZone, jsonText(r.Prefs), jsonText(r.Data), ms(r.CreatedAt), ms(r.UpdatedAt))
	return wrapWrite("upsert recipient", err)
}

// GetRecipient returns one of a tenant's recipients.
func (s *Store) GetRecipient(ctx context.Context, tenantID, id string) (store.Recipient, error) {
	return queryOne(ctx, s.r, "get recipient", scanRecipient, `SELECT `+recipientCols+` FROM recipients WHERE tenant_id = ? AND id = ?`,
		tenantID, id)
}

// ListRecipients lists a tenant's recipients by id; the cursor is the last
// id of the previous page.
func (s *Store) ListRecipients(ctx context.Context, tenantID string, p store.Page) ([]store.Recipient, error) {
	return queryAll(ctx, s.r, "list recipients", scanRecipient,
		`SELECT `+recipientCols+` FROM recipients WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?`,
		tenantID, p.Cursor, p.Size())
}

// DeleteRecipient deletes a recipient; its messages stay.
func (s *Store) DeleteRecipient(ctx context.Context, tenantID, id string) error {
	return s.change(ctx, "delete recipient", `DELETE FROM recipients WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

const templateCols = `tenant_id, name, version, spec, created_at`

func scanTemplate(sc scanner) (store.Template, error) {
	var t store.Template
	var spec string
	var created int64
	err := sc.Scan(&t.TenantID, &t.Name, &t.Version, &spec, &created)
	t.Spec, t.CreatedAt = []byte(spec), fromMS(created)
	return t, err
}

// CreateTemplate inserts a template version; ErrConflict when the tenant
// has that version of the name.
func (s *Store) CreateTemplate(ctx context.Context, t store.Template) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO templates (`+templateCols+`) VALUES (?, ?, ?, ?, ?)`,
		t.TenantID, t.Name, t.Version, string(t.Spec), ms(t.CreatedAt))
	return wrapWrite("create template", err)
}

// GetTemplate returns one version of a template, the highest for version 0.
func (s *Store) GetTemplate(ctx context.Context, tenantID, name string, version int) (store.Template, error) {
	return queryOne(ctx, s.r, "get template", scanTemplate, `SELECT `+templateCols+` FROM templates
		WHERE tenant_id = ? AND name = ? AND (? = 0 OR version = ?) ORDER BY version DESC LIMIT 1`,
		tenantID, name, version, version)
}

// ListTemplates lists the highest version of each of a tenant's templates,
// by name.
func (s *Store) ListTemplates(ctx context.Context, tenantID string) ([]store.Template, error) {
	return queryAll(ctx, s.r, "list templates", scanTemplate, `SELECT `+templateCols+` FROM templates t WHERE tenant_id = ?
		AND version = (SELECT max(version) FROM templates WHERE tenant_id = t.tenant_id AND name = t.name) ORDER BY name`, tenantID)
}

// DeleteTemplate deletes every version of a template.
func (s *Store) DeleteTemplate(ctx context.Context, tenantID, name string) error {
	return s.change(ctx, "delete template", `DELETE FROM templates WHERE tenant_id = ? AND name = ?`, tenantID, name)
}

const notifyRuleCols = `tenant_id, name, spec, enabled, created_at, updated_at, sealed_spec`

// scanNotifyRule reads a rule, opening its sealed spec (a rule's lookups
// carry headers, which may be credentials).
func (s *Store) scanNotifyRule(sc scanner) (store.NotifyRule, error) {
	var r store.NotifyRule
	var spec string
	var sealed []byte
	var created, updated int64
	if err := sc.Scan(&r.TenantID, &r.Name, &spec, &r.Enabled, &created, &updated, &sealed); err != nil {
		return r, err
	}
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	plain, err := column.Open(s.box, sealed, []byte(spec))
	if err != nil {
		return r, fmt.Errorf("decrypt notify rule %s: %w", r.Name, err)
	}
	r.Spec = plain
	return r, nil
}

// CreateNotifyRule inserts a rule; ErrConflict when the tenant has one of
// that name.
func (s *Store) CreateNotifyRule(ctx context.Context, r store.NotifyRule) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO notify_rules (`+notifyRuleCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.TenantID, r.Name, column.SealedPlaceholder, r.Enabled, ms(r.CreatedAt), ms(r.UpdatedAt), s.box.Seal(r.Spec))
	return wrapWrite("create notify rule", err)
}

// GetNotifyRule returns one of a tenant's rules.
func (s *Store) GetNotifyRule(ctx context.Context, tenantID, name string) (store.NotifyRule, error) {
	return queryOne(ctx, s.r, "get notify rule", s.scanNotifyRule, `SELECT `+notifyRuleCols+` FROM notify_rules WHERE tenant_id = ? AND name = ?`,
		tenantID, name)
}

// ListNotifyRules lists a tenant's rules by name.
func (s *Store) ListNotifyRules(ctx context.Context, tenantID string) ([]store.NotifyRule, error) {
	return queryAll(ctx, s.r, "list notify rules", s.scanNotifyRule,
		`SELECT `+notifyRuleCols+` FROM notify_rules WHERE tenant_id = ? ORDER BY name`, tenantID)
}

// UpdateNotifyRule replaces a rule's spec and enabled flag and sets its
// UpdatedAt.
func (s *Store) UpdateNotifyRule(ctx context.Context, r store.NotifyRule) error {
	return s.change(ctx, "update notify rule", `UPDATE notify_rules SET spec = ?, sealed_spec = ?, enabled = ?, updated_at = ?
		WHERE tenant_id = ? AND name = ?`,
		column.SealedPlaceholder, s.box.Seal(r.Spec), r.Enabled, ms(r.UpdatedAt), r.TenantID, r.Name)
}

// DeleteNotifyRule deletes a rule; its messages stay.
func (s *Store) DeleteNotifyRule(ctx context.Context, tenantID, name string) error {
	return s.change(ctx, "delete notify rule", `DELETE FROM notify_rules WHERE tenant_id = ? AND name = ?`, tenantID, name)
}

const messageCols = `id, tenant_id, rule, recipient_id, channel, category, template, locale, subject, text, html, status, event_id,
	digest_key, send_at, sent_at, attempts, error, read, archived, page_token, page_until, created_at, updated_at`

func scanMessage(sc scanner) (store.Message, error) {
	var m store.Message
	var sendAt, sentAt, pageUntil, created, updated int64
	err := sc.Scan(&m.ID, &m.TenantID, &m.Rule, &m.RecipientID, &m.Channel, &m.Category, &m.Template, &m.Locale, &m.Subject,
		&m.Text, &m.HTML, &m.Status, &m.EventID, &m.DigestKey, &sendAt, &sentAt, &m.Attempts, &m.Error, &m.Read, &m.Archived,
		&m.PageToken, &pageUntil, &created, &updated)
	m.SendAt, m.SentAt, m.PageUntil = fromMS(sendAt), fromMS(sentAt), fromMS(pageUntil)
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
	return m, err
}

// SaveMessages inserts messages, their links and their tasks in one
// transaction. A message id, page token, link token or task id that
// exists fails the whole save with ErrConflict.
func (s *Store) SaveMessages(ctx context.Context, msgs []store.Message, links []store.Link, tasks []store.Task) error {
	return s.transact(ctx, "save messages", func(tx *sql.Tx) error {
		for _, m := range msgs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO messages (`+messageCols+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				m.ID, m.TenantID, m.Rule, m.RecipientID, m.Channel, m.Category, m.Template, m.Locale, m.Subject, m.Text, m.HTML,
				m.Status, m.EventID, m.DigestKey, ms(m.SendAt), ms(m.SentAt), m.Attempts, m.Error, m.Read, m.Archived,
				m.PageToken, ms(m.PageUntil), ms(m.CreatedAt), ms(m.UpdatedAt)); err != nil {
				return wrapWrite("save messages: insert message", err)
			}
		}
		for _, l := range links {
			if _, err := tx.ExecContext(ctx, `INSERT INTO links (`+linkCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
				l.Token, l.TenantID, l.MessageID, l.URL, l.Open, ms(l.CreatedAt)); err != nil {
				return wrapWrite("save messages: insert link", err)
			}
		}
		if err := insertTasks(ctx, tx, s.clock.Now(), tasks); err != nil {
			return wrapWrite("save messages", err)
		}
		return nil
	})
}

// UpdateMessage replaces a message's mutable fields; ErrConflict when its
// new page token belongs to another message.
func (s *Store) UpdateMessage(ctx context.Context, m store.Message) error {
	return s.change(ctx, "update message", `UPDATE messages SET status = ?, subject = ?, text = ?, html = ?, sent_at = ?, attempts = ?,
		error = ?, read = ?, archived = ?, page_token = ?, page_until = ?, digest_key = ?, send_at = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`,
		m.Status, m.Subject, m.Text, m.HTML, ms(m.SentAt), m.Attempts, m.Error, m.Read, m.Archived, m.PageToken, ms(m.PageUntil),
		m.DigestKey, ms(m.SendAt), ms(m.UpdatedAt), m.TenantID, m.ID)
}

// GetMessage returns one of a tenant's messages.
func (s *Store) GetMessage(ctx context.Context, tenantID, id string) (store.Message, error) {
	return queryOne(ctx, s.r, "get message", scanMessage, `SELECT `+messageCols+` FROM messages WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// ListMessages lists a tenant's messages, newest first. The WHERE clause
// names only the filters that are set, so a recipient's inbox is served
// by messages_inbox; it is assembled from constant fragments.
func (s *Store) ListMessages(ctx context.Context, tenantID string, q store.MessageQuery) ([]store.Message, error) {
	f := where(`tenant_id = ?`, tenantID)
	f.and(q.Cursor != "", `id < ?`, q.Cursor)
	f.and(q.RecipientID != "", `recipient_id = ?`, q.RecipientID)
	f.and(q.Channel != "", `channel = ?`, q.Channel)
	f.and(q.Status != "", `status = ?`, q.Status)
	f.and(q.Channel == "inbox", `archived = ?`, q.Archived)
	return queryAll(ctx, s.r, "list messages", scanMessage, `SELECT `+messageCols+` FROM messages WHERE `+f.String()+` ORDER BY id DESC LIMIT ?`,
		append(f.args, q.Page.Size())...)
}

// DigestMessages lists the messages of a digest, oldest first.
func (s *Store) DigestMessages(ctx context.Context, tenantID, digestKey string) ([]store.Message, error) {
	// digest_key <> '' lets the partial index messages_digest serve the
	// query and keeps messages outside digests out of it.
	return queryAll(ctx, s.r, "list digest messages", scanMessage, `SELECT `+messageCols+` FROM messages
		WHERE tenant_id = ? AND digest_key = ? AND digest_key <> '' ORDER BY id`, tenantID, digestKey)
}

// CountUnread counts a recipient's sent inbox messages that are neither
// read nor archived.
func (s *Store) CountUnread(ctx context.Context, tenantID, recipientID string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM messages
		WHERE tenant_id = ? AND recipient_id = ? AND channel = 'inbox' AND status = 'sent' AND read = 0 AND archived = 0`,
		tenantID, recipientID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count unread: %w", err)
	}
	return n, nil
}

// MessageByPage finds a message of any tenant by its page token.
func (s *Store) MessageByPage(ctx context.Context, token string) (store.Message, error) {
	return queryOne(ctx, s.r, "get message by page", scanMessage, `SELECT `+messageCols+` FROM messages WHERE page_token = ? AND page_token <> ''`,
		token)
}

const linkCols = `token, tenant_id, message_id, url, open, created_at`

// GetLink finds a tracked link of any tenant by its token.
func (s *Store) GetLink(ctx context.Context, token string) (store.Link, error) {
	var l store.Link
	var created int64
	err := s.r.QueryRowContext(ctx, `SELECT `+linkCols+` FROM links WHERE token = ?`, token).
		Scan(&l.Token, &l.TenantID, &l.MessageID, &l.URL, &l.Open, &created)
	l.CreatedAt = fromMS(created)
	return l, wrapRead("get link", err)
}
