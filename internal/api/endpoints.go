package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/delivery/format"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/signature"
	"github.com/hookline/hookline/internal/store"
)

// Limits on endpoint fields.
const (
	maxEventTypes    = 100
	maxHeaders       = 50
	maxHeaderValue   = 1024
	maxRetrySchedule = 20
	maxRetryDelay    = 7 * 24 * time.Hour
	maxDescription   = 1000
	// maxEndpointInFlight and maxRateLimit bound an endpoint's own limits.
	maxEndpointInFlight = 1000
	maxRateLimit        = 100000
)

var headerName = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_|~-]{1,100}$`)

// reservedHeaders are set by Hookline on every delivery.
var reservedHeaders = map[string]bool{
	"content-type": true, "content-length": true, "user-agent": true, "host": true,
	"webhook-id": true, "webhook-timestamp": true, "webhook-signature": true,
	"transfer-encoding": true, "connection": true,
}

func (s *Server) createEndpoint(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in client.EndpointCreate
	if err := decode(r, &in); err != nil {
		return err
	}
	ep := newEndpoint(a.tenantID, s.now())
	if err := s.applyEndpoint(r.Context(), &ep, createToUpdate(in)); err != nil {
		return err
	}
	secret, err := signature.GenerateSecret()
	if err != nil {
		return err
	}
	ep.Secrets = []store.Secret{{Key: secret}}
	if err := s.store.CreateEndpoint(r.Context(), ep); err != nil {
		return err
	}
	s.cfg.Invalidate(a.tenantID)
	out := s.endpointOut(ep)
	out.Secret = secret
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func newEndpoint(tenantID string, now time.Time) store.Endpoint {
	return store.Endpoint{
		ID: event.NewID(event.PrefixEndpoint, now), TenantID: tenantID, Enabled: true, CreatedAt: now, UpdatedAt: now,
		Format: format.JSON, Timeout: delivery.DefaultTimeout, EventTypes: []string{}, Headers: map[string]string{},
	}
}

// createToUpdate turns a create body into the update that applies it to a
// new endpoint: every field it sets, and defaults for the rest.
func createToUpdate(in client.EndpointCreate) client.EndpointUpdate {
	upd := client.EndpointUpdate{
		Name: &in.Name, URL: &in.URL, Description: &in.Description, Filter: &in.Filter, Enabled: in.Enabled,
	}
	if in.EventTypes != nil {
		upd.EventTypes = &in.EventTypes
	}
	if in.Headers != nil {
		upd.Headers = &in.Headers
	}
	if in.Format != "" {
		upd.Format = &in.Format
	}
	if in.Timeout != "" {
		upd.Timeout = &in.Timeout
	}
	if in.RetrySchedule != nil {
		upd.RetrySchedule = &in.RetrySchedule
	}
	upd.MaxInFlight, upd.RateLimit, upd.Ordered = &in.MaxInFlight, &in.RateLimit, &in.Ordered
	return upd
}

// applyEndpoint validates the set fields of u and applies them to ep.
func (s *Server) applyEndpoint(ctx context.Context, ep *store.Endpoint, u client.EndpointUpdate) error {
	if u.Name != nil {
		if *u.Name != "" && !tenantName.MatchString(*u.Name) {
			return invalid("name", "must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit")
		}
		ep.Name = *u.Name
	}
	if u.URL != nil {
		if *u.URL == "" {
			return invalid("url", "is required")
		}
		parsed, err := s.cfg.Guard.CheckURL(ctx, *u.URL)
		if err != nil {
			return fieldErr("url", err)
		}
		ep.URL = parsed.String()
	}
	if u.Description != nil {
		if len(*u.Description) > maxDescription {
			return invalid("description", "must be at most %d characters", maxDescription)
		}
		ep.Description = *u.Description
	}
	if u.EventTypes != nil {
		if len(*u.EventTypes) > maxEventTypes {
			return invalid("event_types", "at most %d patterns", maxEventTypes)
		}
		for _, p := range *u.EventTypes {
			if err := event.ValidatePattern(p); err != nil {
				return fieldErr("event_types", err)
			}
		}
		ep.EventTypes = append([]string{}, *u.EventTypes...)
	}
	if u.Filter != nil {
		if *u.Filter != "" {
			if _, err := expr.CompileFilter(*u.Filter); err != nil {
				return fieldErr("filter", err)
			}
		}
		ep.Filter = *u.Filter
	}
	if u.Format != nil {
		if !format.Valid(*u.Format) {
			return invalid("format", "must be json, form or xml, got %q", *u.Format)
		}
		ep.Format = *u.Format
	}
	if u.Headers != nil {
		if err := checkHeaders(*u.Headers); err != nil {
			return err
		}
		// Values are shown redacted: one sent back as shown keeps the
		// value ep has.
		h, missing := redact.Keep(*u.Headers, ep.Headers)
		if len(missing) > 0 {
			return invalid("headers", "%s is %q, which keeps the current value, but the endpoint has no such header; send its value",
				missing[0], redact.Marker)
		}
		ep.Headers = h
	}
	if u.Timeout != nil {
		d, err := time.ParseDuration(*u.Timeout)
		if err != nil || d < time.Second || d > delivery.MaxTimeout {
			return invalid("timeout", "must be a duration from 1s to %s, such as \"15s\"", delivery.MaxTimeout)
		}
		ep.Timeout = d
	}
	if u.RetrySchedule != nil {
		sched, err := parseSchedule(*u.RetrySchedule)
		if err != nil {
			return err
		}
		if len(sched) == 0 {
			sched = nil // an empty schedule means the default one
		}
		ep.RetrySchedule = sched
	}
	if u.MaxInFlight != nil {
		if *u.MaxInFlight < 0 || *u.MaxInFlight > maxEndpointInFlight {
			return invalid("max_in_flight", "must be from 0 (server default) to %d", maxEndpointInFlight)
		}
		ep.MaxInFlight = *u.MaxInFlight
	}
	if u.RateLimit != nil {
		if *u.RateLimit < 0 || *u.RateLimit > maxRateLimit {
			return invalid("rate_limit", "must be from 0 (unlimited) to %d events per second", maxRateLimit)
		}
		ep.RateLimit = *u.RateLimit
	}
	if u.Ordered != nil {
		ep.Ordered = *u.Ordered
	}
	if u.Enabled != nil {
		if *u.Enabled && !ep.Enabled {
			// A fresh start: the failing period that disabled it is over.
			ep.DisabledReason, ep.FailingSince = "", time.Time{}
		}
		ep.Enabled = *u.Enabled
	}
	return nil
}

func checkHeaders(h map[string]string) error {
	if len(h) > maxHeaders {
		return invalid("headers", "at most %d headers", maxHeaders)
	}
	for k, v := range h {
		if !headerName.MatchString(k) {
			return invalid("headers", "%q is not a valid header name", k)
		}
		if reservedHeaders[strings.ToLower(k)] {
			return invalid("headers", "%s is set by Hookline and cannot be overridden", k)
		}
		if len(v) > maxHeaderValue || strings.ContainsAny(v, "\r\n\x00") {
			return invalid("headers", "value of %s must be at most %d bytes without line breaks", k, maxHeaderValue)
		}
	}
	return nil
}

func parseSchedule(in []string) ([]time.Duration, error) {
	if len(in) > maxRetrySchedule {
		return nil, invalid("retry_schedule", "at most %d retries", maxRetrySchedule)
	}
	out := make([]time.Duration, 0, len(in))
	for i, s := range in {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > maxRetryDelay {
			return nil, invalid("retry_schedule", "entry %d (%q) must be a duration from 0s to %s", i, s, maxRetryDelay)
		}
		out = append(out, d)
	}
	return out, nil
}

func (s *Server) endpointOut(ep store.Endpoint) client.Endpoint {
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
	out := client.Endpoint{
		ID: ep.ID, Name: ep.Name, URL: ep.URL, Description: ep.Description, EventTypes: types, Filter: ep.Filter,
		Format: ep.Format, Headers: redact.Values(ep.Headers), Timeout: ep.Timeout.String(), RetrySchedule: ss,
		MaxInFlight: ep.MaxInFlight, RateLimit: ep.RateLimit, Ordered: ep.Ordered,
		Enabled: ep.Enabled, DisabledReason: ep.DisabledReason, CreatedAt: client.TimeOf(ep.CreatedAt), UpdatedAt: client.TimeOf(ep.UpdatedAt),
	}
	if s.engine != nil {
		out.Circuit = s.engine.Circuit(delivery.Kind, ep.ID)
	}
	if !ep.FailingSince.IsZero() {
		out.FailingSince = client.TimePtr(&ep.FailingSince)
	}
	return out
}

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request, a *auth) error {
	ep, err := s.store.GetEndpoint(r.Context(), a.tenantID, r.PathValue("id"))
	if err != nil {
		return notFound(err, "endpoint", r.PathValue("id"))
	}
	writeJSON(w, http.StatusOK, s.endpointOut(ep))
	return nil
}

func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request, a *auth) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	eps, err := s.store.ListEndpoints(r.Context(), a.tenantID, p)
	if err != nil {
		return err
	}
	out := make([]client.Endpoint, len(eps))
	for i, ep := range eps {
		out[i] = s.endpointOut(ep)
	}
	writeJSON(w, http.StatusOK, pageOf(out, p, func(e client.Endpoint) string { return e.ID }))
	return nil
}

func (s *Server) updateEndpoint(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in client.EndpointUpdate
	if err := decode(r, &in); err != nil {
		return err
	}
	ep, err := s.store.GetEndpoint(r.Context(), a.tenantID, r.PathValue("id"))
	if err != nil {
		return notFound(err, "endpoint", r.PathValue("id"))
	}
	wasFailing := !ep.FailingSince.IsZero()
	if err := s.applyEndpoint(r.Context(), &ep, in); err != nil {
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
	writeJSON(w, http.StatusOK, s.endpointOut(ep))
	return nil
}

func (s *Server) deleteEndpoint(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := s.store.DeleteEndpoint(r.Context(), a.tenantID, r.PathValue("id")); err != nil {
		return notFound(err, "endpoint", r.PathValue("id"))
	}
	s.cfg.Invalidate(a.tenantID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in client.SecretRotate
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	grace := s.cfg.SecretGrace
	if in.Grace != "" {
		d, err := time.ParseDuration(in.Grace)
		if err != nil || d < 0 || d > 7*24*time.Hour {
			return invalid("grace", "must be a duration from 0s to 168h, such as \"24h\"")
		}
		grace = d
	}
	ep, err := s.store.GetEndpoint(r.Context(), a.tenantID, r.PathValue("id"))
	if err != nil {
		return notFound(err, "endpoint", r.PathValue("id"))
	}
	now := s.now()
	secret, err := signature.GenerateSecret()
	if err != nil {
		return err
	}
	kept := []store.Secret{{Key: secret}}
	for _, old := range ep.Secrets {
		switch {
		case old.ExpiresAt.IsZero() && grace > 0:
			kept = append(kept, store.Secret{Key: old.Key, ExpiresAt: now.Add(grace)})
		case old.ExpiresAt.After(now):
			kept = append(kept, old)
		}
	}
	ep.Secrets, ep.UpdatedAt = kept, now
	if err := s.store.UpdateEndpoint(r.Context(), ep); err != nil {
		return err
	}
	s.cfg.Invalidate(a.tenantID)
	out := s.endpointOut(ep)
	out.Secret = secret
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getSecret(w http.ResponseWriter, r *http.Request, a *auth) error {
	ep, err := s.store.GetEndpoint(r.Context(), a.tenantID, r.PathValue("id"))
	if err != nil {
		return notFound(err, "endpoint", r.PathValue("id"))
	}
	for _, sec := range ep.Secrets {
		if sec.ExpiresAt.IsZero() {
			writeJSON(w, http.StatusOK, map[string]string{"secret": sec.Key})
			return nil
		}
	}
	return fmt.Errorf("endpoint %s has no current secret", ep.ID)
}

// recoverEndpoint serves POST /v1/endpoints/{id}/recover: every failed
// delivery of the endpoint updated since the given time runs again, oldest
// first, and the endpoint's circuit closes (on every node of a cluster),
// even when no delivery failed for good.
func (s *Server) recoverEndpoint(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in client.Recover
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Since.IsZero() {
		return invalid("since", "is required, an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	ep, err := s.store.GetEndpoint(r.Context(), a.tenantID, r.PathValue("id"))
	if err != nil {
		return notFound(err, "endpoint", r.PathValue("id"))
	}
	ids := []string{}
	q := store.TaskQuery{Page: store.Page{Limit: maxPageLimit}, Kind: delivery.Kind, DestinationID: ep.ID,
		Status: store.StatusFailed, UpdatedSince: in.Since, Oldest: true}
	for {
		page, err := s.store.ListTasks(r.Context(), a.tenantID, q)
		if err != nil {
			return err
		}
		for _, t := range page {
			ids = append(ids, t.ID)
		}
		if len(page) < q.Limit {
			break
		}
		q.Cursor = page[len(page)-1].ID
	}
	// Deliveries still retrying wait behind an open circuit: close it
	// whether or not any failed for good (Retry closes it too).
	if len(ids) == 0 {
		s.engine.CloseCircuit(r.Context(), delivery.Kind, ep.ID)
	}
	for start := 0; start < len(ids); start += maxPageLimit {
		if _, err := s.engine.Retry(r.Context(), a.tenantID, ids[start:min(start+maxPageLimit, len(ids))]); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusAccepted, client.Recovered{Deliveries: ids})
	return nil
}
