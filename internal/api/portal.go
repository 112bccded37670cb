package api

import (
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/portal"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// createPortalSession serves POST /v1/portal/sessions: a session of the
// caller's tenant, limited to the event types asked for, with a one-time
// link to the dashboard's portal.
func (s *Server) createPortalSession(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in wire.PortalSessionCreate
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	if s.cfg.PortalPath == "" {
		return errorf(http.StatusConflict, codeConflict, "the dashboard is off (dashboard: off), so there is no portal to open")
	}
	ttl := portal.DefaultTTL
	if in.ExpiresIn != 0 {
		ttl = time.Duration(in.ExpiresIn) * time.Second
		if ttl < portal.MinTTL || ttl > portal.MaxTTL {
			return invalid("expires_in", "must be from %d to %d seconds, got %d", int(portal.MinTTL.Seconds()), int(portal.MaxTTL.Seconds()), in.ExpiresIn)
		}
	}
	label := strings.TrimSpace(in.Label)
	if len(label) > portal.MaxLabel {
		return invalid("label", "must be at most %d bytes", portal.MaxLabel)
	}
	if strings.ContainsFunc(label, unicode.IsControl) {
		return invalid("label", "must not hold control characters")
	}
	if len(in.EventTypes) > portal.MaxEventTypes {
		return invalid("event_types", "at most %d patterns", portal.MaxEventTypes)
	}
	for _, p := range in.EventTypes {
		if err := event.ValidatePattern(p); err != nil {
			return fieldErr("event_types", err)
		}
	}
	token, hash := portal.NewToken()
	now := s.now()
	ps := store.PortalSession{
		ID: event.NewID(event.PrefixPortal, now), TenantID: a.tenantID, KeyHash: a.keyHash, Label: label,
		EventTypes: store.Patterns(in.EventTypes), LinkHash: hash, CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	if err := s.store.CreatePortalSession(r.Context(), ps); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, wire.PortalSession{
		ID: ps.ID, URL: s.publicBase(r) + s.cfg.PortalPath + token, ExpiresAt: wire.TimeOf(ps.ExpiresAt),
		EventTypes: ps.EventTypes, Label: ps.Label,
	})
	return nil
}

// publicBase is where the server is reached from outside: public_url
// when set, else the scheme and host the request came to.
func (s *Server) publicBase(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
