package content

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/clip"
	"github.com/hookline/hookline/internal/content/render"
	"github.com/hookline/hookline/internal/content/schedule"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/store"
)

// Notification is one rule applied to one event.
type Notification struct {
	TenantID string
	Rule     *Rule
	Event    *event.Event
	// Vars are extra variables (a workflow's vars).
	Vars map[string]any
	// ID makes the messages' ids, so applying again (a retried task)
	// finds the messages it made instead of making more.
	ID string
}

// Notify renders the rule's template for its recipient and stores one
// message per channel, each with the task that delivers it when its time
// comes. Channels the recipient turned off get a skipped message.
// Messages are ordered as the rule's channels.
func (s *Service) Notify(ctx context.Context, n Notification) ([]store.Message, error) {
	r := n.Rule
	var data any
	if len(n.Event.Data) > 0 {
		if err := json.Unmarshal(n.Event.Data, &data); err != nil {
			return nil, permanent(fmt.Errorf("event data: %w", err))
		}
	}
	ev := map[string]any{"id": n.Event.ID, "type": n.Event.Type, "source": n.Event.Source, "data": data,
		"occurred_at": n.Event.OccurredAt.UTC().Format(time.RFC3339Nano)}
	if r.cond != nil && n.Vars != nil {
		// A workflow step's condition (rules' are checked when routing).
		ok, err := r.cond.Match(expr.Env{"event": ev, "data": data, "type": n.Event.Type})
		if err != nil {
			return nil, permanent(fmt.Errorf("if: %w", err))
		}
		if !ok {
			return nil, nil
		}
	}
	vars := map[string]any{"event": ev, "data": data, "vars": n.Vars}
	v, err := r.recipient.Eval(vars)
	if err != nil {
		return nil, permanent(fmt.Errorf("recipient: %w", err))
	}
	rid, _ := expr.Text(v)
	if rid == "" {
		return nil, permanent(fmt.Errorf("recipient: %s gave no id", r.recipientSrc))
	}
	rcpt, err := s.recipientOf(ctx, n.TenantID, r, rid)
	if err != nil {
		return nil, err
	}
	rv := recipientValue(rcpt)
	vars["recipient"] = rv
	records, err := s.lookups(ctx, n.TenantID, r, vars)
	if err != nil {
		return nil, err
	}
	vars["records"] = records
	loc := location(rcpt.TimeZone)
	now := s.cfg.Clock.Now()
	sendAt := now
	if r.sendAt != nil {
		v, err := r.sendAt.Eval(vars)
		if err != nil {
			return nil, permanent(fmt.Errorf("send_at: %w", err))
		}
		text, _ := expr.Text(v)
		t, err := time.Parse(time.RFC3339Nano, text)
		if err != nil {
			return nil, permanent(fmt.Errorf("send_at: %q is not an RFC 3339 time", text))
		}
		if t.After(now) {
			sendAt = t
		}
	}
	tmpl, st, err := s.Template(ctx, n.TenantID, r.template, 0)
	if errors.Is(err, store.ErrNotFound) {
		return nil, permanent(fmt.Errorf("no template %q", r.template))
	}
	if err != nil {
		return nil, err
	}
	var (
		msgs  []store.Message
		links []store.Link
		tasks []store.Task
	)
	for _, ch := range r.channels {
		m := store.Message{
			ID: n.ID + "_" + ch, TenantID: n.TenantID, Rule: r.Name, RecipientID: rcpt.ID, Channel: ch, Category: r.category,
			Template: fmt.Sprintf("%s@%d", st.Name, st.Version), Locale: rcpt.Locale, EventID: n.Event.ID,
			SendAt: sendAt, CreatedAt: now, UpdatedAt: now, Status: store.MessageScheduled,
		}
		if !allowed(rcpt.Prefs, r.category, ch) {
			m.Status, m.Error = store.MessageSkipped, fmt.Sprintf("recipient turned off %s for %s", ch, categoryName(r.category))
			msgs = append(msgs, m)
			continue
		}
		msgVars := withMessage(vars, m)
		out, err := tmpl.Render(ctx, rcpt.Locale, loc, msgVars)
		if err != nil {
			// Never a partial send: the message is logged as failed with
			// the template's error.
			m.Status, m.Error = store.MessageFailed, err.Error()
			msgs = append(msgs, m)
			continue
		}
		m.Locale, m.Subject, m.Text, m.HTML = out.Locale, out.Subject, out.Text, out.HTML
		if ch == ChannelPage {
			// The page stays up for page_ttl from when it is published.
			m.PageToken, m.PageUntil = token(), sendAt.Add(r.pageTTL)
		}
		if r.track && m.HTML != "" && ch != ChannelWebhook && s.cfg.PublicURL != "" {
			html, ls, err := s.track(m, ch == ChannelEmail)
			if err != nil {
				m.Status, m.Error = store.MessageFailed, err.Error()
				msgs = append(msgs, m)
				continue
			}
			m.HTML = html
			links = append(links, ls...)
		}
		if ch == ChannelEmail || ch == ChannelWebhook {
			if q := rcpt.Prefs.QuietHours; q != nil {
				m.SendAt = schedule.NextAllowed(m.SendAt, loc, q.quiet())
			}
		}
		dest := m.ID
		if w, ok := rcpt.Prefs.Digest[r.category]; ok && ch == ChannelEmail && r.category != "" {
			end, err := schedule.WindowEnd(m.SendAt, loc, w)
			if err == nil {
				m.Status = store.MessageDigest
				m.DigestKey = fmt.Sprintf("%s|%s|%s|%s", rcpt.ID, r.category, r.Name, end.UTC().Format(time.RFC3339))
				m.SendAt = end
				dest = "digest:" + m.DigestKey
			}
		}
		msgs = append(msgs, m)
		tasks = append(tasks, store.Task{
			ID: event.NewID(event.PrefixDelivery, now), TenantID: n.TenantID, EventID: n.Event.ID, EventType: n.Event.Type,
			Kind: KindMessage, DestinationID: dest, Status: store.StatusPending, NextAt: m.SendAt, CreatedAt: now, UpdatedAt: now,
		})
	}
	s.cfg.Lease(tasks)
	err = s.cfg.Store.SaveMessages(ctx, msgs, links, tasks)
	if errors.Is(err, store.ErrConflict) {
		// Made by an earlier attempt.
		return msgs, nil
	}
	if err != nil {
		return nil, err
	}
	s.cfg.Schedule(ctx, tasks)
	return msgs, nil
}

func categoryName(c string) string {
	if c == "" {
		return "all messages"
	}
	return "category " + c
}

// allowed applies a recipient's opt-outs.
func allowed(p Prefs, category, channel string) bool {
	if on, ok := p.Channels[channel]; ok && !on {
		return false
	}
	if on, ok := p.Categories[category][channel]; ok && !on {
		return false
	}
	return true
}

func location(tz string) *time.Location {
	if tz == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC
	}
	return loc
}

func recipientValue(r Recipient) map[string]any {
	return map[string]any{"id": r.ID, "email": r.Email, "name": r.Name, "locale": r.Locale, "time_zone": r.TimeZone, "data": r.Data}
}

// withMessage adds the message's own values for templates: its id,
// channel and category.
func withMessage(vars map[string]any, m store.Message) map[string]any {
	out := make(map[string]any, len(vars)+1)
	for k, v := range vars {
		out[k] = v
	}
	out["message"] = map[string]any{"id": m.ID, "channel": m.Channel, "category": m.Category}
	return out
}

// track rewrites the links of m's HTML to tracked redirects, adding an
// open pixel to email.
func (s *Service) track(m store.Message, pixel bool) (string, []store.Link, error) {
	var links []store.Link
	html, err := render.TrackLinks(m.HTML, func(u string) string {
		l := store.Link{Token: token(), TenantID: m.TenantID, MessageID: m.ID, URL: u, CreatedAt: m.CreatedAt}
		links = append(links, l)
		return s.cfg.PublicURL + "/t/" + l.Token
	})
	if err != nil {
		return "", nil, fmt.Errorf("track links: %w", err)
	}
	if pixel {
		l := store.Link{Token: token(), TenantID: m.TenantID, MessageID: m.ID, Open: true, CreatedAt: m.CreatedAt}
		links = append(links, l)
		html = render.AddPixel(html, s.cfg.PublicURL+"/o/"+l.Token+".gif")
	}
	return html, links, nil
}

// Executor returns the executor of notify tasks.
func (s *Service) NotifyExecutor() engine.Executor { return notifyExec{s} }

// MessageExecutor returns the executor of message tasks.
func (s *Service) MessageExecutor() engine.Executor { return messageExec{s} }

type notifyExec struct{ s *Service }

func fail(out engine.Outcome, name string, err error) engine.Outcome {
	out.Attempt.Outcome, out.Err, out.Permanent = name, err, IsPermanent(err)
	if out.Permanent {
		out.NotAttempted = true
	}
	return out
}

func (x notifyExec) Execute(ctx context.Context, t *store.Task) engine.Outcome {
	var out engine.Outcome
	out.Attempt.Kind, out.Attempt.RequestURL = store.AttemptNotify, "notify:"+t.DestinationID
	sr, err := x.s.cfg.Store.GetNotifyRule(ctx, t.TenantID, t.DestinationID)
	if errors.Is(err, store.ErrNotFound) {
		out.Attempt.Outcome = "skipped"
		describe(&out, skipped{Reason: "notify rule deleted"})
		return out
	}
	if err != nil {
		return fail(out, "internal_error", err)
	}
	r, err := ParseRule(sr)
	if err != nil {
		return fail(out, "invalid_rule", permanent(err))
	}
	if t.Event == nil {
		return fail(out, "internal_error", errors.New("task has no event loaded"))
	}
	_, id, _ := strings.Cut(t.ID, "_")
	msgs, err := x.s.Notify(ctx, Notification{TenantID: t.TenantID, Rule: r, Event: t.Event, ID: "msg_" + id})
	if err != nil {
		return fail(out, "notify_failed", err)
	}
	summary := notified{Messages: make([]notifiedMessage, len(msgs))}
	var failed []string
	for i, m := range msgs {
		summary.Messages[i] = notifiedMessage{ID: m.ID, Channel: m.Channel, Status: m.Status, Error: m.Error}
		if m.Status == store.MessageFailed {
			failed = append(failed, m.Channel+": "+m.Error)
		}
	}
	describe(&out, summary)
	out.Attempt.Outcome = "notified"
	if len(failed) > 0 && len(failed) == len(msgs) {
		return fail(out, "render_failed", permanent(errors.New(strings.Join(failed, "; "))))
	}
	return out
}

type messageExec struct{ s *Service }

// Limits sends a digest once at a time.
func (x messageExec) Limits(_ context.Context, t *store.Task) engine.Limits {
	if strings.HasPrefix(t.DestinationID, "digest:") {
		return engine.Limits{MaxInFlight: 1}
	}
	return engine.Limits{}
}

func (x messageExec) Execute(ctx context.Context, t *store.Task) engine.Outcome {
	var out engine.Outcome
	if key, ok := strings.CutPrefix(t.DestinationID, "digest:"); ok {
		return x.s.sendDigest(ctx, t.TenantID, key, t.Attempts)
	}
	out.Attempt.Kind, out.Attempt.RequestURL = store.AttemptMessage, "message:"+t.DestinationID
	m, err := x.s.cfg.Store.GetMessage(ctx, t.TenantID, t.DestinationID)
	if errors.Is(err, store.ErrNotFound) {
		out.Attempt.Outcome = "skipped"
		return out
	}
	if err != nil {
		return fail(out, "internal_error", err)
	}
	if m.Status != store.MessageScheduled {
		out.Attempt.Outcome = "skipped"
		describe(&out, skipped{Reason: "message is " + m.Status})
		return out
	}
	m.Attempts++
	if m.Channel == ChannelEmail || m.Channel == ChannelWebhook {
		// The recipient may have opted out since the message was made.
		if sr, err := x.s.cfg.Store.GetRecipient(ctx, m.TenantID, m.RecipientID); err == nil {
			if rc := RecipientOf(sr); !allowed(rc.Prefs, m.Category, m.Channel) {
				m.Status, m.Error, m.UpdatedAt = store.MessageSkipped, fmt.Sprintf("recipient turned off %s for %s", m.Channel, categoryName(m.Category)), x.s.cfg.Clock.Now()
				if err := x.s.cfg.Store.UpdateMessage(ctx, m); err != nil {
					return fail(out, "internal_error", err)
				}
				out.Attempt.Outcome = "skipped"
				describe(&out, skipped{Reason: "recipient opted out"})
				return out
			}
		}
	}
	err = x.s.deliver(ctx, &m)
	now := x.s.cfg.Clock.Now()
	m.UpdatedAt = now
	if err != nil {
		m.Error = err.Error()
		// The engine gives up after its schedule: the last attempt marks
		// the message failed too.
		if IsPermanent(err) || t.Attempts+1 > len(engine.DefaultSchedule) {
			m.Status = store.MessageFailed
		}
		if uerr := x.s.cfg.Store.UpdateMessage(ctx, m); uerr != nil {
			return fail(out, "internal_error", uerr)
		}
		return fail(out, m.Channel+"_failed", err)
	}
	m.Status, m.SentAt, m.Error = store.MessageSent, now, ""
	if err := x.s.cfg.Store.UpdateMessage(ctx, m); err != nil {
		return fail(out, "internal_error", err)
	}
	if m.Channel == ChannelInbox {
		x.s.inbox.publish(m)
	}
	out.Attempt.Outcome = "sent"
	describe(&out, sent{Channel: m.Channel, Subject: clip.To(m.Subject, 200)})
	return out
}

// deliver sends one message on its channel.
func (s *Service) deliver(ctx context.Context, m *store.Message) error {
	switch m.Channel {
	case ChannelInbox, ChannelPage:
		// Stored with the message: sending makes it visible.
		return nil
	case ChannelWebhook:
		return s.publishMessage(ctx, m)
	case ChannelEmail:
		return s.sendEmail(ctx, m)
	}
	return permanent(fmt.Errorf("unknown channel %q", m.Channel))
}

func (s *Service) publishMessage(ctx context.Context, m *store.Message) error {
	typ := MessageType
	if sr, err := s.cfg.Store.GetNotifyRule(ctx, m.TenantID, m.Rule); err == nil {
		if in, err := ParseRuleDef(sr); err == nil && in.WebhookType != "" {
			typ = in.WebhookType
		}
	}
	data, _ := json.Marshal(map[string]any{
		"message_id": m.ID, "recipient": m.RecipientID, "rule": m.Rule, "category": m.Category, "locale": m.Locale,
		"subject": m.Subject, "text": m.Text, "html": m.HTML, "event_id": m.EventID,
	})
	now := s.cfg.Clock.Now()
	return s.cfg.Publish(ctx, []event.Event{{
		ID: event.NewID(event.PrefixEvent, now), TenantID: m.TenantID, Type: typ, Source: "notify:" + m.Rule, Data: data,
		OccurredAt: now, CreatedAt: now, IdempotencyKey: "message:" + m.ID,
	}})
}
