package content

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"

	"github.com/hookline/hookline/internal/content/email"
	"github.com/hookline/hookline/internal/content/render"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/store"
)

// errNoSMTP is the email channel's error when no SMTP server is set up.
var errNoSMTP = permanent(errors.New("email is not configured: set smtp.host (see docs/content.md)"))

func (s *Service) recipientForMessage(ctx context.Context, m *store.Message) (Recipient, error) {
	sr, err := s.cfg.Store.GetNotifyRule(ctx, m.TenantID, m.Rule)
	var r *Rule
	if err == nil {
		r, _ = ParseRule(sr)
	}
	if r == nil {
		r = &Rule{}
	}
	return s.recipientOf(ctx, m.TenantID, r, m.RecipientID)
}

func (s *Service) sendEmail(ctx context.Context, m *store.Message) error {
	if s.cfg.Email == nil {
		return errNoSMTP
	}
	rcpt, err := s.recipientForMessage(ctx, m)
	if err != nil {
		return err
	}
	if rcpt.Email == "" {
		return permanent(fmt.Errorf("recipient %s has no email address", rcpt.ID))
	}
	msg := email.Message{
		To: rcpt.Email, ToName: rcpt.Name, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		MessageID: m.ID, Headers: map[string]string{"X-Hookline-Message-Id": m.ID},
	}
	if s.cfg.PublicURL != "" {
		msg.ListUnsubscribe = s.cfg.PublicURL + "/u/" + s.unsubscribeToken(m)
	}
	if err := s.cfg.Email.Send(ctx, msg); err != nil {
		if email.Permanent(err) {
			return permanent(err)
		}
		return err
	}
	return nil
}

// unsubscribeToken signs (tenant, recipient, category) for the
// List-Unsubscribe link.
func (s *Service) unsubscribeToken(m *store.Message) string {
	return s.RecipientToken(m.TenantID, m.RecipientID+"\x00"+m.Category)
}

// sendDigest sends the messages waiting in one digest as one email.
func (s *Service) sendDigest(ctx context.Context, tenantID, key string, attempts int) engine.Outcome {
	var out engine.Outcome
	out.Attempt.Kind, out.Attempt.RequestURL = store.AttemptMessage, "digest:"+key
	msgs, err := s.cfg.Store.DigestMessages(ctx, tenantID, key)
	if err != nil {
		return fail(out, "internal_error", err)
	}
	var pending []store.Message
	for _, m := range msgs {
		if m.Status == store.MessageDigest {
			pending = append(pending, m)
		}
	}
	if len(pending) == 0 {
		out.Attempt.Outcome = "skipped"
		describe(&out, skipped{Reason: "digest already sent"})
		return out
	}
	first := pending[0]
	rcptID, category, ruleName := first.RecipientID, first.Category, first.Rule
	items := make([]any, len(pending))
	for i, m := range pending {
		items[i] = map[string]any{"id": m.ID, "subject": m.Subject, "text": m.Text, "html": m.HTML, "sent": m.CreatedAt}
	}
	d := first
	d.ID, d.Channel, d.Status, d.DigestKey = "dig_"+strings.TrimPrefix(first.ID, "msg_"), ChannelEmail, store.MessageScheduled, ""
	subject, text, htmlBody, err := s.renderDigest(ctx, tenantID, ruleName, rcptID, category, items)
	if err != nil {
		for _, m := range pending {
			m.Status, m.Error = store.MessageFailed, "digest: "+err.Error()
			_ = s.cfg.Store.UpdateMessage(ctx, m)
		}
		return fail(out, "render_failed", permanent(err))
	}
	d.Subject, d.Text, d.HTML = subject, text, htmlBody
	if err := s.sendEmail(ctx, &d); err != nil {
		// The engine gives up after its schedule: the last attempt fails
		// the digest's messages too.
		if IsPermanent(err) || attempts+1 > len(engine.DefaultSchedule) {
			for _, m := range pending {
				m.Status, m.Error = store.MessageFailed, err.Error()
				_ = s.cfg.Store.UpdateMessage(ctx, m)
			}
		}
		return fail(out, "email_failed", err)
	}
	now := s.cfg.Clock.Now()
	for _, m := range pending {
		m.Status, m.SentAt, m.UpdatedAt, m.Attempts = store.MessageSent, now, now, m.Attempts+1
		if err := s.cfg.Store.UpdateMessage(ctx, m); err != nil {
			return fail(out, "internal_error", err)
		}
	}
	out.Attempt.Outcome = "sent"
	describe(&out, digestSent{Digest: key, Messages: len(pending)})
	return out
}

// renderDigest renders the rule's digest template over items, or a plain
// list of them.
func (s *Service) renderDigest(ctx context.Context, tenantID, ruleName, rcptID, category string, items []any) (string, string, string, error) {
	sr, err := s.cfg.Store.GetNotifyRule(ctx, tenantID, ruleName)
	var in RuleDef
	if err == nil {
		in, _ = ParseRuleDef(sr)
	}
	r := &Rule{}
	if rr, err := CompileRule(in, false); err == nil {
		r = rr
	}
	rcpt, err := s.recipientOf(ctx, tenantID, r, rcptID)
	if err != nil {
		return "", "", "", err
	}
	if in.DigestTemplate == "" {
		var tb, hb strings.Builder
		hb.WriteString("<ul>")
		for _, it := range items {
			m := it.(map[string]any)
			fmt.Fprintf(&tb, "- %s\n%s\n\n", m["subject"], m["text"])
			fmt.Fprintf(&hb, "<li><strong>%s</strong><br>%s</li>", html.EscapeString(fmt.Sprint(m["subject"])), html.EscapeString(fmt.Sprint(m["text"])))
		}
		hb.WriteString("</ul>")
		return fmt.Sprintf("%d new %s", len(items), plural(len(items), "message", "messages")) + categorySuffix(category), tb.String(), hb.String(), nil
	}
	t, _, err := s.Template(ctx, tenantID, in.DigestTemplate, 0)
	if err != nil {
		return "", "", "", err
	}
	vars := map[string]any{"items": items, "recipient": recipientValue(rcpt), "category": category, "count": len(items)}
	var res render.Rendered
	if res, err = t.Render(ctx, rcpt.Locale, location(rcpt.TimeZone), vars); err != nil {
		return "", "", "", err
	}
	return res.Subject, res.Text, res.HTML, nil
}

func categorySuffix(c string) string {
	if c == "" {
		return ""
	}
	return " (" + c + ")"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
