package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/signature"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

func (s *Server) createEndpoint(w http.ResponseWriter, r *http.Request, a *auth, in wire.EndpointCreate) error {
	ep := apply.NewEndpoint(a.tenantID, s.now())
	if err := s.applier.UpdateEndpoint(r.Context(), &ep, apply.CreateToUpdate(in)); err != nil {
		return err
	}
	secret, err := signature.GenerateSecret()
	if err != nil {
		return err
	}
	ep.Secrets = []store.Secret{{Key: secret}}
	return s.saveWithSecret(w, r, a, http.StatusCreated, s.store.CreateEndpoint, ep, secret)
}

// saveWithSecret stores ep by save and answers it with status and its new
// signing secret, which is shown this once.
func (s *Server) saveWithSecret(w http.ResponseWriter, r *http.Request, a *auth, status int,
	save func(context.Context, store.Endpoint) error, ep store.Endpoint, secret string) error {
	if err := save(r.Context(), ep); err != nil {
		return err
	}
	s.cfg.Invalidate(a.tenantID)
	out := s.endpointOut(ep)
	out.Secret = secret
	answer.JSON(w, status, out)
	return nil
}

func (s *Server) endpointOut(ep store.Endpoint) wire.Endpoint {
	sched := ep.RetrySchedule
	if sched == nil {
		sched = engine.DefaultSchedule
	}
	ss := make([]string, len(sched))
	for i, d := range sched {
		ss[i] = d.String()
	}
	types := ep.EventTypes
	if types == nil {
		types = []string{}
	}
	out := wire.Endpoint{
		ID: ep.ID, Name: ep.Name, URL: ep.URL, Description: ep.Description, EventTypes: types, Filter: ep.Filter,
		Format: ep.Format, Headers: redact.Values(ep.Headers), Timeout: ep.Timeout.String(), RetrySchedule: ss,
		MaxInFlight: ep.MaxInFlight, RateLimit: ep.RateLimit, Ordered: ep.Ordered,
		Enabled: ep.Enabled, DisabledReason: ep.DisabledReason, CreatedAt: wire.TimeOf(ep.CreatedAt), UpdatedAt: wire.TimeOf(ep.UpdatedAt),
	}
	if s.engine != nil {
		out.Circuit = s.engine.Circuit(delivery.Kind, ep.ID)
	}
	if !ep.FailingSince.IsZero() {
		out.FailingSince = wire.TimePtr(&ep.FailingSince)
	}
	return out
}

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request, a *auth) error {
	return getOne(w, r, a, "endpoint", "id", s.store.GetEndpoint, s.endpointOut)
}

func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request, a *auth) error {
	return listPage(w, r, a, s.store.ListEndpoints, s.endpointOut, func(e wire.Endpoint) string { return e.ID })
}

func (s *Server) updateEndpoint(w http.ResponseWriter, r *http.Request, a *auth, in wire.EndpointUpdate) error {
	ep, err := byPath(r, a, "endpoint", "id", s.store.GetEndpoint)
	if err != nil {
		return err
	}
	wasFailing := !ep.FailingSince.IsZero()
	if err := s.applier.UpdateEndpoint(r.Context(), &ep, in); err != nil {
		return err
	}
	ep.UpdatedAt = s.now()
	if err := s.store.UpdateEndpoint(r.Context(), ep); err != nil {
		return err
	}
	if wasFailing && ep.FailingSince.IsZero() {
		if err := s.store.SetEndpointFailing(r.Context(), a.tenantID, ep.ID, time.Time{}); err != nil {
			return err
		}
	}
	s.cfg.Invalidate(a.tenantID)
	answer.JSON(w, http.StatusOK, s.endpointOut(ep))
	return nil
}

func (s *Server) deleteEndpoint(w http.ResponseWriter, r *http.Request, a *auth) error {
	return s.deleteOne(w, r, a, "endpoint", "id", s.store.DeleteEndpoint, true)
}

func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in wire.SecretRotate
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	grace := s.cfg.SecretGrace
	if in.Grace != "" {
		d, err := time.ParseDuration(in.Grace)
		if err != nil || d < 0 || d > apply.MaxSecretGrace {
			return invalid("grace", "must be a duration from 0s to 168h, such as \"24h\"")
		}
		grace = d
	}
	ep, err := byPath(r, a, "endpoint", "id", s.store.GetEndpoint)
	if err != nil {
		return err
	}
	now := s.now()
	secret, err := signature.GenerateSecret()
	if err != nil {
		return err
	}
	ep.Secrets, ep.UpdatedAt = apply.RotateSecrets(ep.Secrets, secret, now, grace), now
	return s.saveWithSecret(w, r, a, http.StatusOK, s.store.UpdateEndpoint, ep, secret)
}

func (s *Server) getSecret(w http.ResponseWriter, r *http.Request, a *auth) error {
	ep, err := byPath(r, a, "endpoint", "id", s.store.GetEndpoint)
	if err != nil {
		return err
	}
	for _, sec := range ep.Secrets {
		if sec.ExpiresAt.IsZero() {
			answer.JSON(w, http.StatusOK, wire.EndpointSecret{Secret: sec.Key})
			return nil
		}
	}
	return fmt.Errorf("endpoint %s has no current secret", ep.ID)
}

// recoverEndpoint serves POST /v1/endpoints/{id}/recover: every failed
// delivery of the endpoint updated since the given time runs again, oldest
// first, and the endpoint's circuit closes (on every node of a cluster),
// even when no delivery failed for good.
func (s *Server) recoverEndpoint(w http.ResponseWriter, r *http.Request, a *auth, in wire.Recover) error {
	if in.Since.IsZero() {
		return invalid("since", "is required, an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	ep, err := byPath(r, a, "endpoint", "id", s.store.GetEndpoint)
	if err != nil {
		return err
	}
	ids, err := s.engine.Recover(r.Context(), a.tenantID, delivery.Kind, ep.ID, in.Since)
	if err != nil {
		return err
	}
	answer.JSON(w, http.StatusAccepted, wire.Recovered{Deliveries: ids})
	return nil
}
