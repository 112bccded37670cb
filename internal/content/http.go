package content

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/sse"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// pixel is a transparent 1×1 GIF.
var pixel = []byte{0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
	0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b}

// Handle registers the public routes: tracked links, the open pixel,
// unsubscribe, hosted pages and the recipients' inbox.
func (s *Service) Handle(mux *http.ServeMux) {
	mux.HandleFunc("GET /t/{token}", s.click)
	mux.HandleFunc("GET /o/{file}", s.open)
	mux.HandleFunc("GET /u/{token}", s.unsubscribePage)
	mux.HandleFunc("POST /u/{token}", s.unsubscribe)
	mux.HandleFunc("GET /p/{token}", s.page)
	mux.HandleFunc("GET /inbox", s.cors(s.inboxList))
	mux.HandleFunc("GET /inbox/unread", s.cors(s.inboxUnread))
	mux.HandleFunc("GET /inbox/stream", s.cors(s.inboxStream))
	mux.HandleFunc("POST /inbox/{id}/{action}", s.cors(s.inboxMark))
	preflight := s.cors(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("OPTIONS /inbox", preflight)
	mux.HandleFunc("OPTIONS /inbox/", preflight)
}

// interaction emits content.clicked or content.opened for a message.
func (s *Service) interaction(r *http.Request, typ string, l store.Link, m store.Message) {
	now := s.cfg.Clock.Now()
	data := map[string]any{"message_id": m.ID, "recipient": m.RecipientID, "rule": m.Rule, "channel": m.Channel,
		"category": m.Category, "event_id": m.EventID}
	if l.URL != "" {
		data["url"] = l.URL
		data["link"] = l.Token
	}
	b, _ := json.Marshal(data)
	err := s.cfg.Publish(r.Context(), []event.Event{{
		ID: event.NewID(event.PrefixEvent, now), TenantID: m.TenantID, Type: typ, Source: "content", Data: b, OccurredAt: now, CreatedAt: now,
	}})
	if err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "record interaction", "type", typ, "message_id", m.ID, "error", err)
	}
	status := store.MessageOpened
	if typ == ClickedType {
		status = store.MessageClicked
	}
	if m.Status == store.MessageSent || (m.Status == store.MessageOpened && status == store.MessageClicked) {
		m.Status, m.UpdatedAt = status, now
		if m.Channel == ChannelInbox && status == store.MessageClicked {
			m.Read = true
		}
		if err := s.cfg.Store.UpdateMessage(r.Context(), m); err != nil {
			s.cfg.Logger.ErrorContext(r.Context(), "mark message", "message_id", m.ID, "error", err)
		}
	}
}

// click redirects a tracked link and emits content.clicked.
func (s *Service) click(w http.ResponseWriter, r *http.Request) {
	l, err := s.cfg.Store.GetLink(r.Context(), r.PathValue("token"))
	if err != nil || l.Open {
		http.NotFound(w, r)
		return
	}
	if m, err := s.cfg.Store.GetMessage(r.Context(), l.TenantID, l.MessageID); err == nil {
		s.interaction(r, ClickedType, l, m)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, l.URL, http.StatusFound)
}

// open serves the pixel and emits content.opened.
func (s *Service) open(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimSuffix(r.PathValue("file"), ".gif")
	if l, err := s.cfg.Store.GetLink(r.Context(), tok); err == nil && l.Open {
		if m, err := s.cfg.Store.GetMessage(r.Context(), l.TenantID, l.MessageID); err == nil {
			s.interaction(r, OpenedType, l, m)
		}
	}
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(pixel)
}

// unsubscribePage asks to confirm, so link scanners following GET do not
// unsubscribe anyone.
func (s *Service) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	if _, _, _, ok := s.unsubscribeTarget(r.PathValue("token")); !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><title>Unsubscribe</title><form method="post"><p>Stop these emails?</p><button>Unsubscribe</button></form>`)
}

func (s *Service) unsubscribeTarget(tok string) (tenantID, recipientID, category string, ok bool) {
	tenantID, rest, ok := s.parseRecipientToken(tok)
	if !ok {
		return "", "", "", false
	}
	recipientID, category, ok = strings.Cut(rest, "\x00")
	return tenantID, recipientID, category, ok
}

// unsubscribe turns email off for the message's category (RFC 8058
// one-click POST) and emits content.unsubscribed.
func (s *Service) unsubscribe(w http.ResponseWriter, r *http.Request) {
	tenantID, rid, category, ok := s.unsubscribeTarget(r.PathValue("token"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	sr, err := s.cfg.Store.GetRecipient(r.Context(), tenantID, rid)
	if err == nil {
		rc := RecipientOf(sr)
		if category == "" {
			if rc.Prefs.Channels == nil {
				rc.Prefs.Channels = map[string]bool{}
			}
			rc.Prefs.Channels[ChannelEmail] = false
		} else {
			if rc.Prefs.Categories == nil {
				rc.Prefs.Categories = map[string]map[string]bool{}
			}
			if rc.Prefs.Categories[category] == nil {
				rc.Prefs.Categories[category] = map[string]bool{}
			}
			rc.Prefs.Categories[category][ChannelEmail] = false
		}
		sr.Prefs, _ = json.Marshal(rc.Prefs)
		sr.UpdatedAt = s.cfg.Clock.Now()
		if err := s.cfg.Store.UpsertRecipient(r.Context(), sr); err != nil {
			answer.Error(w, http.StatusInternalServerError, "internal_error", "could not unsubscribe; try again")
			return
		}
	}
	now := s.cfg.Clock.Now()
	b, _ := json.Marshal(map[string]any{"recipient": rid, "category": category, "channel": ChannelEmail})
	_ = s.cfg.Publish(r.Context(), []event.Event{{ID: event.NewID(event.PrefixEvent, now), TenantID: tenantID, Type: UnsubscribedType,
		Source: "content", Data: b, OccurredAt: now, CreatedAt: now}})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><title>Unsubscribed</title><p>You are unsubscribed.</p>`)
}

// page serves a hosted page until it expires.
func (s *Service) page(w http.ResponseWriter, r *http.Request) {
	m, err := s.cfg.Store.MessageByPage(r.Context(), r.PathValue("token"))
	if err != nil || m.Status == store.MessageScheduled || m.Status == store.MessageFailed {
		http.NotFound(w, r)
		return
	}
	if s.cfg.Clock.Now().After(m.PageUntil) {
		http.Error(w, "this page has expired", http.StatusGone)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	body := m.HTML
	if body == "" {
		body = "<pre>" + htmlEscape(m.Text) + "</pre>"
	}
	fmt.Fprintf(w, "<!doctype html><html><head><meta charset=\"utf-8\"><title>%s</title></head><body>%s</body></html>", htmlEscape(m.Subject), body)
}

// PageURL is the public address of a message's page.
func (s *Service) PageURL(m store.Message) string {
	if m.PageToken == "" {
		return ""
	}
	return s.cfg.PublicURL + "/p/" + m.PageToken
}

func (s *Service) cors(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", "Authorization")
		h(w, r)
	}
}

// recipientAuth reads the recipient token from ?token= (EventSource
// cannot send headers) or Authorization: Bearer.
func (s *Service) recipientAuth(w http.ResponseWriter, r *http.Request) (string, string, bool) {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		tok, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	tenantID, rid, ok := s.parseRecipientToken(tok)
	if !ok || strings.Contains(rid, "\x00") {
		answer.Error(w, http.StatusUnauthorized, "unauthorized", "a valid recipient token is required (?token= or Authorization: Bearer)")
		return "", "", false
	}
	return tenantID, rid, true
}

// MessageOut is a message as the API and the inbox show it. This file is
// content's HTTP layer (the recipients' public routes), the one place in
// the package that speaks the wire format: the inbox answers with
// wire.Message, and the API's message routes use this same mapping.
func (s *Service) MessageOut(m store.Message) wire.Message {
	return wire.Message{
		ID: m.ID, Rule: m.Rule, Recipient: m.RecipientID, Channel: m.Channel, Category: m.Category, Template: m.Template,
		Locale: m.Locale, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Status: m.Status, EventID: m.EventID,
		SendAt: wire.TimeOf(m.SendAt), SentAt: wire.TimeOf(m.SentAt), Attempts: m.Attempts, Error: m.Error, Read: m.Read, Archived: m.Archived,
		PageURL: s.PageURL(m), CreatedAt: wire.TimeOf(m.CreatedAt),
	}
}

func (s *Service) inboxList(w http.ResponseWriter, r *http.Request) {
	tenantID, rid, ok := s.recipientAuth(w, r)
	if !ok {
		return
	}
	q := store.MessageQuery{RecipientID: rid, Channel: ChannelInbox, Status: store.MessageSent, Archived: r.URL.Query().Get("archived") == "true"}
	q.Cursor = r.URL.Query().Get("cursor")
	if q.Cursor != "" && (!ValidMessageID(q.Cursor) || !strings.HasSuffix(q.Cursor, "_"+ChannelInbox)) {
		// Any other cursor would silently give a wrong page.
		answer.Error(w, http.StatusBadRequest, "bad_request", "cursor must be the next_cursor of an earlier page of the inbox (msg_…_inbox), unchanged")
		return
	}
	q.Limit = 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			answer.Error(w, http.StatusBadRequest, "bad_request", "limit must be an integer from 1 to 200")
			return
		}
		q.Limit = n
	}
	ms, err := s.Inbox(r.Context(), tenantID, q)
	if err != nil {
		answer.Error(w, http.StatusInternalServerError, "internal_error", "could not list messages")
		return
	}
	out := make([]wire.Message, len(ms))
	for i, m := range ms {
		out[i] = s.MessageOut(m)
	}
	res := map[string]any{"data": out}
	if len(ms) == q.Limit {
		res["next_cursor"] = ms[len(ms)-1].ID
	}
	answer.JSON(w, http.StatusOK, res)
}

// Inbox lists a recipient's inbox as GET /inbox shows it: up to q.Limit
// sent and interacted-with inbox messages of q.RecipientID (archived ones
// with q.Archived) after q.Cursor, newest first, reading on past messages
// not delivered yet until the page is full.
func (s *Service) Inbox(ctx context.Context, tenantID string, q store.MessageQuery) ([]store.Message, error) {
	q.Channel = ChannelInbox
	q.Status = ""
	limit := q.Limit
	var out []store.Message
	for range 20 {
		ms, err := s.cfg.Store.ListMessages(ctx, tenantID, q)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			switch m.Status {
			case store.MessageSent, store.MessageOpened, store.MessageClicked:
				out = append(out, m)
			}
			if len(out) == limit {
				return out, nil
			}
		}
		if len(ms) < q.Limit {
			break
		}
		q.Cursor = ms[len(ms)-1].ID
	}
	return out, nil
}

func (s *Service) inboxUnread(w http.ResponseWriter, r *http.Request) {
	tenantID, rid, ok := s.recipientAuth(w, r)
	if !ok {
		return
	}
	n, err := s.cfg.Store.CountUnread(r.Context(), tenantID, rid)
	if err != nil {
		answer.Error(w, http.StatusInternalServerError, "internal_error", "could not count messages")
		return
	}
	answer.JSON(w, http.StatusOK, map[string]int{"unread": n})
}

// inboxMark marks a message read, unread, archived or unarchived.
func (s *Service) inboxMark(w http.ResponseWriter, r *http.Request) {
	tenantID, rid, ok := s.recipientAuth(w, r)
	if !ok {
		return
	}
	m, err := s.cfg.Store.GetMessage(r.Context(), tenantID, r.PathValue("id"))
	if err != nil || m.RecipientID != rid || m.Channel != ChannelInbox {
		answer.Error(w, http.StatusNotFound, "not_found", "no such message in this inbox")
		return
	}
	switch r.PathValue("action") {
	case "read":
		m.Read = true
	case "unread":
		m.Read = false
	case "archive":
		m.Archived = true
	case "unarchive":
		m.Archived = false
	default:
		answer.Error(w, http.StatusNotFound, "not_found", "action must be read, unread, archive or unarchive")
		return
	}
	m.UpdatedAt = s.cfg.Clock.Now()
	if err := s.cfg.Store.UpdateMessage(r.Context(), m); err != nil {
		answer.Error(w, http.StatusInternalServerError, "internal_error", "could not update the message")
		return
	}
	n, _ := s.cfg.Store.CountUnread(r.Context(), tenantID, rid)
	s.inbox.publish(store.Message{TenantID: tenantID, RecipientID: rid, ID: "", Subject: strconv.Itoa(n)})
	answer.JSON(w, http.StatusOK, s.MessageOut(m))
}

// inboxStream is the live inbox: Server-Sent Events "message" for each
// new message and "unread" with the count whenever it changes.
func (s *Service) inboxStream(w http.ResponseWriter, r *http.Request) {
	tenantID, rid, ok := s.recipientAuth(w, r)
	if !ok {
		return
	}
	ch := s.inbox.listen(tenantID, rid)
	defer s.inbox.close(tenantID, rid, ch)
	st, err := sse.Start(w, r, sse.Config{Done: s.cfg.Closing})
	if err != nil {
		return
	}
	n, _ := s.cfg.Store.CountUnread(r.Context(), tenantID, rid)
	if st.SendJSON("", "unread", unreadOut{Unread: n}) != nil {
		return
	}
	for {
		m, _, err := sse.Next(st, ch, 0)
		if err != nil {
			return
		}
		if m.ID == "" {
			// A count change: inboxMark passes the count as the subject.
			n, _ := strconv.Atoi(m.Subject)
			if st.SendJSON("", "unread", unreadOut{Unread: n}) != nil {
				return
			}
			continue
		}
		if st.SendJSON(m.ID, "message", s.MessageOut(m)) != nil {
			return
		}
		n, err := s.cfg.Store.CountUnread(r.Context(), tenantID, rid)
		if err == nil && st.SendJSON("", "unread", unreadOut{Unread: n}) != nil {
			return
		}
	}
}

// unreadOut is the data of an "event: unread" message.
type unreadOut struct {
	Unread int `json:"unread"`
}

func htmlEscape(s string) string { return html.EscapeString(s) }
