package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/collection/capture"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/ingest"
	"github.com/hookline/hookline/internal/signature"
	"github.com/hookline/hookline/internal/store"
)

// sourceRules mirrors ingest.Rules with the client's wire types; both
// share their JSON shape, which is how the API converts between them.
type sourceRules struct {
	EventType    client.SourceEventType `json:"event_type,omitzero"`
	Dedup        client.SourceDedup     `json:"dedup,omitzero"`
	Response     client.SourceResponse  `json:"response,omitzero"`
	Handshake    client.SourceHandshake `json:"handshake,omitzero"`
	KeepHeaders  []string               `json:"keep_headers,omitempty"`
	MaxBodyBytes int64                  `json:"max_body_bytes,omitempty"`
	Postgres     *ingest.PostgresRule   `json:"postgres,omitempty"`
}

func (s *Server) createSource(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in client.SourceCreate
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Verification == nil && in.Postgres == nil {
		return invalid("verification", `is required, e.g. {"kind": "github", "secrets": ["…"]} or {"kind": "none"}`)
	}
	now := s.now()
	src := store.Source{ID: event.NewID(event.PrefixSource, now), TenantID: a.tenantID, Name: in.Name, Enabled: true,
		CreatedAt: now, UpdatedAt: now, Config: []byte("{}")}
	parsed, err := applySource(&src, in)
	if err != nil {
		return err
	}
	if err := s.sourceNameFree(r.Context(), src.Name, src.ID); err != nil {
		return err
	}
	if err := s.installCapture(r.Context(), parsed); err != nil {
		return err
	}
	if err := s.store.CreateSource(r.Context(), src); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errorf(http.StatusConflict, codeConflict, "a source named %q already exists", src.Name)
		}
		return err
	}
	s.cfg.SourceChanged(src.Name)
	writeJSON(w, http.StatusCreated, sourceOut(parsed))
	return nil
}

// sourceNameFree answers 409 when another source (of any tenant: /in/{name}
// is global) has name. It is checked before a postgres source's triggers
// are installed, because installing them for a name that is taken would
// replace the triggers of the source that has it.
func (s *Server) sourceNameFree(ctx context.Context, name, id string) error {
	other, err := s.store.SourceByName(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return err
	case other.ID != id:
		return errorf(http.StatusConflict, codeConflict, "a source named %q already exists", name)
	}
	return nil
}

// applySource applies the set groups of in to src and validates the result.
func applySource(src *store.Source, in client.SourceCreate) (*ingest.Source, error) {
	if in.Name != "" {
		src.Name = in.Name
	}
	if err := ingest.ValidName(src.Name); err != nil {
		return nil, fieldErr("name", err)
	}
	if in.Description != nil {
		if len(*in.Description) > maxDescription {
			return nil, invalid("description", "must be at most %d characters", maxDescription)
		}
		src.Description = *in.Description
	}
	if in.Verification != nil {
		if in.Postgres != nil {
			return nil, invalid("verification", "a postgres source takes no verification; its DSN goes in postgres.dsn")
		}
		b, err := json.Marshal(in.Verification)
		if err != nil {
			return nil, err
		}
		src.Verification = b
	}
	if in.Postgres != nil {
		dsn := in.Postgres.DSN
		if dsn == "" {
			// PATCH without a DSN keeps the stored one.
			var cur signature.Scheme
			if len(src.Verification) > 0 && json.Unmarshal(src.Verification, &cur) == nil && cur.Kind == signature.KindPostgres && len(cur.Secrets) == 1 {
				dsn = cur.Secrets[0]
			}
		}
		if dsn == "" {
			return nil, invalid("postgres.dsn", `is required, e.g. "postgres://user:pass@db:5432/shop"`)
		}
		b, err := json.Marshal(signature.Scheme{Kind: signature.KindPostgres, Secrets: []string{dsn}})
		if err != nil {
			return nil, err
		}
		src.Verification = b
	}
	var rules sourceRules
	if err := json.Unmarshal(src.Config, &rules); err != nil {
		return nil, fmt.Errorf("decode source rules: %w", err)
	}
	if in.EventType != nil {
		rules.EventType = *in.EventType
	}
	if in.Dedup != nil {
		rules.Dedup = *in.Dedup
	}
	if in.Response != nil {
		rules.Response = *in.Response
	}
	if in.Handshake != nil {
		rules.Handshake = *in.Handshake
	}
	if in.KeepHeaders != nil {
		rules.KeepHeaders = *in.KeepHeaders
	}
	if in.MaxBodyBytes != nil {
		rules.MaxBodyBytes = *in.MaxBodyBytes
	}
	if in.Postgres != nil {
		rules.Postgres = &ingest.PostgresRule{Tables: in.Postgres.Tables, Schema: in.Postgres.Schema}
	} else if in.Verification != nil {
		rules.Postgres = nil
	}
	if in.Enabled != nil {
		src.Enabled = *in.Enabled
	}
	b, err := json.Marshal(rules)
	if err != nil {
		return nil, err
	}
	src.Config = b
	parsed, err := ingest.Parse(*src)
	if err != nil {
		if _, ok := field.Of(err); !ok {
			return nil, invalid("source", "%v", err)
		}
		return nil, err
	}
	return parsed, nil
}

func sourceOut(src *ingest.Source) client.Source {
	out := client.Source{
		ID: src.ID, Name: src.Name, Description: src.Description, Path: "/in/" + src.Name,
		Enabled: src.Enabled, CreatedAt: client.TimeOf(src.CreatedAt), UpdatedAt: client.TimeOf(src.UpdatedAt),
	}
	if b, err := json.Marshal(src.Scheme); err == nil {
		_ = json.Unmarshal(b, &out.Verification)
	}
	if cfg, ok := src.Capture(); ok {
		out.Postgres = &client.SourcePostgres{DSN: collection.RedactDSN(cfg.DSN), Tables: cfg.Tables, Schema: cfg.Schema}
		out.Verification.Secrets = nil
	}
	for i, sec := range out.Verification.Secrets {
		if k := out.Verification.Kind; k == "basic" || k == "api-key" {
			// Credentials sent as they are: even a tail would give part away.
			out.Verification.Secrets[i] = "****"
			continue
		}
		out.Verification.Secrets[i] = mask(sec)
	}
	var rules sourceRules
	if b, err := json.Marshal(src.Rules); err == nil {
		_ = json.Unmarshal(b, &rules)
	}
	out.EventType, out.Dedup, out.Response, out.Handshake = rules.EventType, rules.Dedup, rules.Response, rules.Handshake
	out.KeepHeaders, out.MaxBodyBytes = rules.KeepHeaders, rules.MaxBodyBytes
	if out.Postgres != nil {
		out.Path = ""
	}
	return out
}

// mask shows only the last four characters of a secret.
func mask(secret string) string {
	if len(secret) <= 8 {
		return "****"
	}
	return "****" + secret[len(secret)-4:]
}

func (s *Server) loadSource(r *http.Request, a *auth) (store.Source, *ingest.Source, error) {
	src, err := s.store.GetSource(r.Context(), a.tenantID, r.PathValue("id"))
	if err != nil {
		return src, nil, notFound(err, "source", r.PathValue("id"))
	}
	parsed, err := ingest.Parse(src)
	if err != nil {
		return src, nil, fmt.Errorf("stored source %s is invalid: %w", src.ID, err)
	}
	return src, parsed, nil
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request, a *auth) error {
	_, parsed, err := s.loadSource(r, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sourceOut(parsed))
	return nil
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request, a *auth) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	srcs, err := s.store.ListSources(r.Context(), a.tenantID, p)
	if err != nil {
		return err
	}
	out := make([]client.Source, 0, len(srcs))
	for _, src := range srcs {
		parsed, err := ingest.Parse(src)
		if err != nil {
			return fmt.Errorf("stored source %s is invalid: %w", src.ID, err)
		}
		out = append(out, sourceOut(parsed))
	}
	writeJSON(w, http.StatusOK, pageOf(out, p, func(s client.Source) string { return s.ID }))
	return nil
}

func (s *Server) updateSource(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in client.SourceCreate
	if err := decode(r, &in); err != nil {
		return err
	}
	src, _, err := s.loadSource(r, a)
	if err != nil {
		return err
	}
	oldName := src.Name
	parsed, err := applySource(&src, in)
	if err != nil {
		return err
	}
	if err := s.sourceNameFree(r.Context(), src.Name, src.ID); err != nil {
		return err
	}
	if err := s.installCapture(r.Context(), parsed); err != nil {
		return err
	}
	src.UpdatedAt = s.now()
	if err := s.store.UpdateSource(r.Context(), src); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errorf(http.StatusConflict, codeConflict, "a source named %q already exists", src.Name)
		}
		return err
	}
	s.cfg.SourceChanged(oldName)
	s.cfg.SourceChanged(src.Name)
	parsed.UpdatedAt = src.UpdatedAt
	writeJSON(w, http.StatusOK, sourceOut(parsed))
	return nil
}

func (s *Server) deleteSource(w http.ResponseWriter, r *http.Request, a *auth) error {
	src, err := s.store.GetSource(r.Context(), a.tenantID, r.PathValue("id"))
	if err != nil {
		return notFound(err, "source", r.PathValue("id"))
	}
	if err := s.store.DeleteSource(r.Context(), a.tenantID, src.ID); err != nil {
		return err
	}
	s.cfg.SourceChanged(src.Name)
	if parsed, err := ingest.Parse(src); err == nil {
		if cfg, ok := parsed.Capture(); ok {
			cfg.Dial = s.cfg.Guard.Dial()
			// The triggers go with the source; a database out of reach
			// keeps them (they only fill the outbox) and is logged.
			ctx, cancel := context.WithTimeout(r.Context(), captureInstallTimeout)
			defer cancel()
			if err := capture.Uninstall(ctx, cfg); err != nil {
				s.log.WarnContext(ctx, "source deleted; its change capture triggers could not be removed", "source", src.Name, "error", err)
			}
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listRejections(w http.ResponseWriter, r *http.Request, a *auth) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := s.store.GetSource(r.Context(), a.tenantID, id); err != nil {
		return notFound(err, "source", id)
	}
	rs, err := s.store.ListRejections(r.Context(), a.tenantID, id, p)
	if err != nil {
		return err
	}
	out := make([]client.Rejection, len(rs))
	for i, rj := range rs {
		out[i] = client.Rejection{ID: rj.ID, CreatedAt: client.TimeOf(rj.CreatedAt), Reason: rj.Reason, Method: rj.Method,
			RemoteAddr: rj.RemoteAddr, Headers: rj.Headers, Body: rj.Body}
	}
	writeJSON(w, http.StatusOK, pageOf(out, p, func(r client.Rejection) string { return r.ID }))
	return nil
}

// installCapture puts the change capture triggers of an enabled postgres
// source in place before the source is saved, so changes made once the
// request returns are captured, and a missing table or a refused
// connection is the request's error.
func (s *Server) installCapture(ctx context.Context, src *ingest.Source) error {
	cfg, ok := src.Capture()
	if !ok || !src.Enabled {
		return nil
	}
	cfg.Dial = s.cfg.Guard.Dial()
	ctx, cancel := context.WithTimeout(ctx, captureInstallTimeout)
	defer cancel()
	if err := capture.Install(ctx, cfg); err != nil {
		return invalid("postgres", "cannot install change capture: %v", err)
	}
	return nil
}

// captureInstallTimeout bounds connecting to a watched database and
// installing triggers there.
const captureInstallTimeout = 20 * time.Second
