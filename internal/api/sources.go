package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/collection/capture"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/ingest"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

func (s *Server) createSource(w http.ResponseWriter, r *http.Request, a *auth, in wire.SourceCreate) error {
	if in.Verification == nil && in.Postgres == nil {
		return invalid("verification", `is required, e.g. {"kind": "github", "secrets": ["…"]} or {"kind": "none"}`)
	}
	now := s.now()
	src := store.Source{ID: event.NewID(event.PrefixSource, now), TenantID: a.tenantID, Name: in.Name, Enabled: true,
		CreatedAt: now, UpdatedAt: now, Config: []byte("{}")}
	parsed, err := apply.UpdateSource(&src, in)
	if err != nil {
		return err
	}
	if err := s.saveSource(r.Context(), s.store.CreateSource, src, parsed); err != nil {
		return err
	}
	s.cfg.SourceChanged(src.Name)
	answer.JSON(w, http.StatusCreated, sourceOut(parsed))
	return nil
}

// saveSource stores src (parsed) by save, once its name is known to be free
// and its change capture, if it has one, is installed.
func (s *Server) saveSource(ctx context.Context, save func(context.Context, store.Source) error, src store.Source, parsed *ingest.Source) error {
	if err := s.sourceNameFree(ctx, src.Name, src.ID); err != nil {
		return err
	}
	if err := s.applier.InstallCapture(ctx, parsed); err != nil {
		return err
	}
	if err := save(ctx, src); err != nil {
		return nameTaken(err, "source", src.Name)
	}
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
		return nameTaken(store.ErrConflict, "source", name)
	}
	return nil
}

func sourceOut(src *ingest.Source) wire.Source {
	out := wire.Source{
		ID: src.ID, Name: src.Name, Description: src.Description, Path: "/in/" + src.Name,
		Enabled: src.Enabled, CreatedAt: wire.TimeOf(src.CreatedAt), UpdatedAt: wire.TimeOf(src.UpdatedAt),
	}
	if b, err := json.Marshal(src.Scheme); err == nil {
		_ = json.Unmarshal(b, &out.Verification)
	}
	if cfg, ok := src.Capture(); ok {
		// The wire format names the source kind as a verification kind.
		out.Postgres = &wire.SourcePostgres{DSN: collection.RedactDSN(cfg.DSN), Tables: cfg.Tables, Schema: cfg.Schema}
		out.Verification = wire.Verification{Kind: ingest.KindPostgres}
	}
	for i, sec := range out.Verification.Secrets {
		if k := out.Verification.Kind; k == "basic" || k == "api-key" {
			// Credentials sent as they are: even a tail would give part away.
			out.Verification.Secrets[i] = "****"
			continue
		}
		out.Verification.Secrets[i] = mask(sec)
	}
	var rules apply.SourceRules
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

// DescribeSource is a stored source as GET /v1/sources/{id} shows it: its
// secrets masked, a postgres source's DSN redacted. The dashboard shows
// sources through it.
func (s *Server) DescribeSource(src store.Source) (wire.Source, error) {
	parsed, err := ingest.Parse(src)
	if err != nil {
		return wire.Source{}, fmt.Errorf("stored source %s is invalid: %w", src.ID, err)
	}
	return sourceOut(parsed), nil
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request, a *auth) error {
	_, parsed, err := s.loadSource(r, a)
	if err != nil {
		return err
	}
	answer.JSON(w, http.StatusOK, sourceOut(parsed))
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
	out := make([]wire.Source, 0, len(srcs))
	for _, src := range srcs {
		parsed, err := ingest.Parse(src)
		if err != nil {
			return fmt.Errorf("stored source %s is invalid: %w", src.ID, err)
		}
		out = append(out, sourceOut(parsed))
	}
	answer.JSON(w, http.StatusOK, pageOf(out, p, func(s wire.Source) string { return s.ID }))
	return nil
}

func (s *Server) updateSource(w http.ResponseWriter, r *http.Request, a *auth, in wire.SourceCreate) error {
	src, _, err := s.loadSource(r, a)
	if err != nil {
		return err
	}
	oldName := src.Name
	parsed, err := apply.UpdateSource(&src, in)
	if err != nil {
		return err
	}
	src.UpdatedAt = s.now()
	if err := s.saveSource(r.Context(), s.store.UpdateSource, src, parsed); err != nil {
		return err
	}
	s.cfg.SourceChanged(oldName)
	s.cfg.SourceChanged(src.Name)
	parsed.UpdatedAt = src.UpdatedAt
	answer.JSON(w, http.StatusOK, sourceOut(parsed))
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
			ctx, cancel := context.WithTimeout(r.Context(), apply.CaptureInstallTimeout)
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
	id := r.PathValue("id")
	return listQuery(w, r, a, func(p store.Page) (store.Page, error) {
		_, err := s.store.GetSource(r.Context(), a.tenantID, id)
		return p, notFound(err, "source", id)
	}, func(ctx context.Context, tenantID string, p store.Page) ([]store.Rejection, error) {
		return s.store.ListRejections(ctx, tenantID, id, p)
	}, rejectionOut, func(r wire.Rejection) string { return r.ID })
}

func rejectionOut(rj store.Rejection) wire.Rejection {
	return wire.Rejection{ID: rj.ID, CreatedAt: wire.TimeOf(rj.CreatedAt), Reason: rj.Reason, Method: rj.Method,
		RemoteAddr: rj.RemoteAddr, Headers: rj.Headers, Body: rj.Body}
}
