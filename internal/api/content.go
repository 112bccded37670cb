package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

func (s *Server) contentEnabled() error {
	if s.cfg.Content == nil {
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "content is not enabled")
	}
	return nil
}

func (s *Server) putRecipient(w http.ResponseWriter, r *http.Request, a *auth, in wire.Recipient) error {
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
	answer.JSON(w, status, apply.RecipientOut(rec))
	return nil
}

func (s *Server) getRecipient(w http.ResponseWriter, r *http.Request, a *auth) error {
	return getOne(w, r, a, "recipient", "id", s.store.GetRecipient, apply.RecipientOut)
}

func (s *Server) listRecipients(w http.ResponseWriter, r *http.Request, a *auth) error {
	return listPage(w, r, a, s.store.ListRecipients, apply.RecipientOut, func(r wire.Recipient) string { return r.ID })
}

func (s *Server) deleteRecipient(w http.ResponseWriter, r *http.Request, a *auth) error {
	return s.deleteOne(w, r, a, "recipient", "id", s.store.DeleteRecipient, false)
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
	answer.JSON(w, http.StatusOK, wire.RecipientToken{Token: s.cfg.Content.RecipientToken(a.tenantID, rec.ID)})
	return nil
}

func (s *Server) saveTemplate(w http.ResponseWriter, r *http.Request, a *auth, in wire.TemplateSpec) error {
	t, action, err := s.applier.SaveTemplate(r.Context(), a.tenantID, in)
	if err != nil {
		return err
	}
	answer.JSON(w, savedStatus(action), wire.TemplateSaved{Template: apply.TemplateOut(t), Action: action})
	return nil
}

// savedStatus is the status of the answer to a save that made a new
// version (apply.Created is a new resource, 201; else 200).
func savedStatus(action string) int {
	if action == apply.Created {
		return http.StatusCreated
	}
	return http.StatusOK
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request, a *auth) error {
	return listAll(w, r, a, s.store.ListTemplates, apply.TemplateOut)
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request, a *auth) error {
	return getOne(w, r, a, "template", "name", s.latestTemplate, apply.TemplateOut)
}

// latestTemplate is the latest version of a tenant's template.
func (s *Server) latestTemplate(ctx context.Context, tenantID, name string) (store.Template, error) {
	return s.store.GetTemplate(ctx, tenantID, name, 0)
}

func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request, a *auth) error {
	return s.deleteOne(w, r, a, "template", "name", s.store.DeleteTemplate, false)
}

// previewTemplate renders a template against a sample without sending.
func (s *Server) previewTemplate(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in wire.Preview
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	out, err := s.PreviewTemplate(r.Context(), a.tenantID, r.PathValue("name"), in)
	if err != nil {
		return notFound(err, "template", r.PathValue("name"))
	}
	answer.JSON(w, http.StatusOK, out)
	return nil
}

// PreviewTemplate renders the latest version of a tenant's template as
// POST /v1/templates/{name}/preview does (and the dashboard's preview),
// without sending anything: for in.Recipient (a stored recipient when it
// gives only an id), in in.Locale, with in.Event, within the renderer's
// size and time limits. A missing template is a store.ErrNotFound; a
// template that does not compile or render is a *field.Error at
// "template" carrying the render's error, a bad event one at "event".
func (s *Server) PreviewTemplate(ctx context.Context, tenantID, name string, in wire.Preview) (wire.Rendered, error) {
	if err := s.contentEnabled(); err != nil {
		return wire.Rendered{}, err
	}
	t, _, err := s.cfg.Content.Template(ctx, tenantID, name, 0)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return wire.Rendered{}, err
		}
		return wire.Rendered{}, &field.Error{Path: "template", Err: err}
	}
	rcpt := content.Recipient{ID: "preview", Locale: in.Locale}
	if in.Recipient != nil {
		rcpt = apply.RecipientOf(*in.Recipient)
		if rcpt.ID != "" && rcpt.Email == "" && rcpt.Name == "" {
			if sr, err := s.store.GetRecipient(ctx, tenantID, rcpt.ID); err == nil {
				rcpt = content.RecipientOf(sr)
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
			return wire.Rendered{}, field.Errorf("event", "must be an object: {\"type\": …, \"data\": …}")
		}
		if _, ok := raw["data"]; ok {
			ev = raw
		} else {
			ev["data"] = raw
		}
	}
	out, err := s.cfg.Content.Preview(ctx, t, rcpt, ev, in.Records)
	if err != nil {
		return wire.Rendered{}, &field.Error{Path: "template", Err: err}
	}
	return apply.RenderedOut(out), nil
}

func (s *Server) createNotifyRule(w http.ResponseWriter, r *http.Request, a *auth, in wire.NotifyRule) error {
	rule, err := apply.NotifyRule(a.tenantID, in, s.now())
	if err != nil {
		return err
	}
	if err := s.store.CreateNotifyRule(r.Context(), rule); err != nil {
		return nameTaken(err, "notify rule", in.Name)
	}
	s.cfg.Invalidate(a.tenantID)
	answer.JSON(w, http.StatusCreated, apply.NotifyRuleOut(rule))
	return nil
}

func (s *Server) replaceNotifyRule(w http.ResponseWriter, r *http.Request, a *auth, in wire.NotifyRule) error {
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
	answer.JSON(w, http.StatusOK, apply.NotifyRuleOut(rule))
	return nil
}

func (s *Server) getNotifyRule(w http.ResponseWriter, r *http.Request, a *auth) error {
	return getOne(w, r, a, "notify rule", "name", s.store.GetNotifyRule, apply.NotifyRuleOut)
}

func (s *Server) listNotifyRules(w http.ResponseWriter, r *http.Request, a *auth) error {
	return listAll(w, r, a, s.store.ListNotifyRules, apply.NotifyRuleOut)
}

func (s *Server) deleteNotifyRule(w http.ResponseWriter, r *http.Request, a *auth) error {
	return s.deleteOne(w, r, a, "notify rule", "name", s.store.DeleteNotifyRule, true)
}

var messageStatuses = map[string]bool{store.MessageScheduled: true, store.MessageDigest: true, store.MessageSent: true,
	store.MessageFailed: true, store.MessageSkipped: true, store.MessageOpened: true, store.MessageClicked: true}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := s.contentEnabled(); err != nil {
		return err
	}
	return listQuery(w, r, a, func(p store.Page) (store.MessageQuery, error) {
		q := r.URL.Query()
		mq := store.MessageQuery{Page: p, RecipientID: q.Get("recipient"), Channel: q.Get("channel"), Status: q.Get("status")}
		return mq, knownStatus(mq.Status, messageStatuses, "scheduled, digest, sent, failed, skipped, opened or clicked")
	}, s.store.ListMessages, s.cfg.Content.MessageOut, func(m wire.Message) string { return m.ID })
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := s.contentEnabled(); err != nil {
		return err
	}
	return getOne(w, r, a, "message", "id", s.store.GetMessage, s.cfg.Content.MessageOut)
}
