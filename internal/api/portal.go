package api

import (
	"net/http"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/portal"
	"github.com/hookline/hookline/internal/publicurl"
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
	ttl, label, err := portal.Check(in.EventTypes, in.ExpiresIn, in.Label)
	if err != nil {
		return err
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
	answer.JSON(w, http.StatusCreated, wire.PortalSession{
		ID: ps.ID, URL: publicurl.Base(s.cfg.PublicURL, r) + s.cfg.PortalPath + token, ExpiresAt: wire.TimeOf(ps.ExpiresAt),
		EventTypes: ps.EventTypes, Label: ps.Label,
	})
	return nil
}
