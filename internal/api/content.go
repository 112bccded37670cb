package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

func (s *Server) contentEnabled() error {
	if s.cfg.Content == nil {
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "content is not enabled")
	}
	return nil
}

func (s *Server) putRecipient(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in wire.Recipient
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := namedByPath(r, "id", &in.ID, ""); err != nil {
		return err
	}
	rec, err := apply.Recipient(a.tenantID, in, s.now())
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if cur, err := s.store.GetRecipient(r.Context(), a.tenantID, in.ID); err == nil {
		rec.CreatedAt, status = cur.CreatedAt, http.StatusOK
	}
	if err := s.store.UpsertRecipient(r.Context(), rec); err != nil {
		return err
	}
	writeJSON(w, status, content.RecipientOut(rec))
	return nil
}

func (s *Server) getRecipient(w http.ResponseWriter, r *http.Request, a *auth) error {
	rec, err := s.store.GetRecipient(r.Context(), a.tenantID, r.PathValue("id"))
	if err != nil {
		return notFound(err, "recipient", r.PathValue("id"))
	}
	writeJSON(w, http.StatusOK, content.RecipientOut(rec))
	return nil
}

func (s *Server) listRecipients(w http.ResponseWriter, r *http.Request, a *auth) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	list, err := s.store.ListRecipients(r.Context(), a.tenantID, p)
	if err != nil {
		return err
	}
	out := make([]wire.Recipient, len(list))
	for i, rec := range list {
		out[i] = content.RecipientOut(rec)
	}
	writeJSON(w, http.StatusOK, pageOf(out, p, func(r wire.Recipient) string { return r.ID }))
	return nil
}

func (s *Server) deleteRecipient(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := s.store.DeleteRecipient(r.Context(), a.tenantID, r.PathValue("id")); err != nil {
		return notFound(err, "recipient", r.PathValue("id"))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// recipientToken gives the token a recipient's web app uses for its
// inbox.
func (s *Server) recipientToken(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := s.contentEnabled(); err != nil {
		return err
	}
	rec, err := s.store.GetRecipient(r.Context(), a.tenantID, r.PathValue("id"))
	if err != nil {
		return notFound(err, "recipient", r.PathValue("id"))
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": s.cfg.Content.RecipientToken(a.tenantID, rec.ID)})
	return nil
}

func (s *Server) saveTemplate(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in wire.TemplateSpec
	if err := decode(r, &in); err != nil {
		return err
	}
	t, action, err := s.applier.SaveTemplate(r.Context(), a.tenantID, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if action == apply.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"template": templateOut(t), "action": action})
	return nil
}

func templateOut(t store.Template) wire.Template {
	var spec wire.TemplateSpec
	_ = json.Unmarshal(t.Spec, &spec)
	return wire.Template{TemplateSpec: spec, Version: t.Version, CreatedAt: wire.TimeOf(t.CreatedAt)}
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request, a *auth) error {
	list, err := s.store.ListTemplates(r.Context(), a.tenantID)
	if err != nil {
		return err
	}
	out := make([]wire.Template, len(list))
	for i, t := range list {
		out[i] = templateOut(t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request, a *auth) error {
	t, err := s.store.GetTemplate(r.Context(), a.tenantID, r.PathValue("name"), 0)
	if err != nil {
		return notFound(err, "template", r.PathValue("name"))
	}
	writeJSON(w, http.StatusOK, templateOut(t))
	return nil
}

func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := s.store.DeleteTemplate(r.Context(), a.tenantID, r.PathValue("name")); err != nil {
		return notFound(err, "template", r.PathValue("name"))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// previewTemplate renders a template against a sample without sending.
func (s *Server) previewTemplate(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := s.contentEnabled(); err != nil {
		return err
	}
	var in wire.Preview
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	t, _, err := s.cfg.Content.Template(r.Context(), a.tenantID, r.PathValue("name"), 0)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return notFound(err, "template", r.PathValue("name"))
		}
		return invalid("template", "%v", err)
	}
	rcpt := wire.Recipient{ID: "preview", Locale: in.Locale}
	if in.Recipient != nil {
		rcpt = *in.Recipient
		if rcpt.ID != "" && rcpt.Email == "" && rcpt.Name == "" {
			if sr, err := s.store.GetRecipient(r.Context(), a.tenantID, rcpt.ID); err == nil {
				rcpt = content.RecipientOut(sr)
			}
		}
		if in.Locale != "" {
			rcpt.Locale = in.Locale
		}
	}
	ev := map[string]any{"type": "preview", "data": map[string]any{}}
	if len(in.Event) > 0 {
		var raw map[string]any
		if err := json.Unmarshal(in.Event, &raw); err != nil {
			return invalid("event", "must be an object: {\"type\": …, \"data\": …}")
		}
		if _, ok := raw["data"]; ok {
			ev = raw
		} else {
			ev["data"] = raw
		}
	}
	out, err := s.cfg.Content.Preview(r.Context(), t, rcpt, ev, in.Records)
	if err != nil {
		return invalid("template", "%v", err)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createNotifyRule(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in wire.NotifyRule
	if err := decode(r, &in); err != nil {
		return err
	}
	rule, err := apply.NotifyRule(a.tenantID, in, s.now())
	if err != nil {
		return err
	}
	if err := s.store.CreateNotifyRule(r.Context(), rule); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errorf(http.StatusConflict, codeConflict, "a notify rule named %q already exists", in.Name)
		}
		return err
	}
	s.cfg.Invalidate(a.tenantID)
	writeJSON(w, http.StatusCreated, ruleOut(rule))
	return nil
}

func ruleOut(r store.NotifyRule) wire.NotifyRuleOut {
	var in wire.NotifyRule
	_ = json.Unmarshal(r.Spec, &in)
	for i := range in.Lookups {
		// Lookup headers carry credentials: names only.
		in.Lookups[i].Headers = redact.Values(in.Lookups[i].Headers)
	}
	enabled := r.Enabled
	in.Enabled = &enabled
	return wire.NotifyRuleOut{NotifyRule: in, CreatedAt: wire.TimeOf(r.CreatedAt), UpdatedAt: wire.TimeOf(r.UpdatedAt)}
}

func (s *Server) replaceNotifyRule(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in wire.NotifyRule
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := namedByPath(r, "name", &in.Name, ""); err != nil {
		return err
	}
	name := in.Name
	cur, err := s.store.GetNotifyRule(r.Context(), a.tenantID, name)
	if err != nil {
		return notFound(err, "notify rule", name)
	}
	apply.KeepRedacted(&in, cur)
	rule, err := apply.NotifyRule(a.tenantID, in, s.now())
	if err != nil {
		return err
	}
	rule.CreatedAt = cur.CreatedAt
	if err := s.store.UpdateNotifyRule(r.Context(), rule); err != nil {
		return err
	}
	s.cfg.Invalidate(a.tenantID)
	writeJSON(w, http.StatusOK, ruleOut(rule))
	return nil
}

func (s *Server) getNotifyRule(w http.ResponseWriter, r *http.Request, a *auth) error {
	rule, err := s.store.GetNotifyRule(r.Context(), a.tenantID, r.PathValue("name"))
	if err != nil {
		return notFound(err, "notify rule", r.PathValue("name"))
	}
	writeJSON(w, http.StatusOK, ruleOut(rule))
	return nil
}

func (s *Server) listNotifyRules(w http.ResponseWriter, r *http.Request, a *auth) error {
	list, err := s.store.ListNotifyRules(r.Context(), a.tenantID)
	if err != nil {
		return err
	}
	out := make([]wire.NotifyRuleOut, len(list))
	for i, rule := range list {
		out[i] = ruleOut(rule)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}

func (s *Server) deleteNotifyRule(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := s.store.DeleteNotifyRule(r.Context(), a.tenantID, r.PathValue("name")); err != nil {
		return notFound(err, "notify rule", r.PathValue("name"))
	}
	s.cfg.Invalidate(a.tenantID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var messageStatuses = map[string]bool{store.MessageScheduled: true, store.MessageDigest: true, store.MessageSent: true,
	store.MessageFailed: true, store.MessageSkipped: true, store.MessageOpened: true, store.MessageClicked: true}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := s.contentEnabled(); err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	mq := store.MessageQuery{Page: p, RecipientID: q.Get("recipient"), Channel: q.Get("channel"), Status: q.Get("status")}
	if mq.Status != "" && !messageStatuses[mq.Status] {
		return errorf(http.StatusBadRequest, codeBadRequest, "status must be scheduled, digest, sent, failed, skipped, opened or clicked")
	}
	list, err := s.store.ListMessages(r.Context(), a.tenantID, mq)
	if err != nil {
		return err
	}
	out := make([]wire.Message, len(list))
	for i, m := range list {
		out[i] = s.cfg.Content.MessageOut(m)
	}
	writeJSON(w, http.StatusOK, pageOf(out, p, func(m wire.Message) string { return m.ID }))
	return nil
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := s.contentEnabled(); err != nil {
		return err
	}
	m, err := s.store.GetMessage(r.Context(), a.tenantID, r.PathValue("id"))
	if err != nil {
		return notFound(err, "message", r.PathValue("id"))
	}
	writeJSON(w, http.StatusOK, s.cfg.Content.MessageOut(m))
	return nil
}
