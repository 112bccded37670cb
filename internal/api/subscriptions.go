package api

import (
	"errors"
	"net/http"

	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

func (s *Server) createSubscription(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in wire.SubscriptionCreate
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Destination == nil {
		return invalid("destination", `is required, e.g. {"kind": "forward", "endpoint_id": "ep_…"}`)
	}
	now := s.now()
	sub := store.Subscription{ID: event.NewID(event.PrefixSub, now), TenantID: a.tenantID, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := s.applier.UpdateSubscription(r.Context(), a.tenantID, &sub, in); err != nil {
		return err
	}
	if err := s.store.CreateSubscription(r.Context(), sub); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errorf(http.StatusConflict, codeConflict, "a subscription named %q already exists", sub.Name)
		}
		return err
	}
	s.cfg.Invalidate(a.tenantID)
	writeJSON(w, http.StatusCreated, s.subscriptionOut(sub))
	return nil
}

// subscriptionOut is a subscription as the API shows it, with its circuit
// breaker as this node sees it (the engine's destination is the
// subscription itself).
func (s *Server) subscriptionOut(sub store.Subscription) wire.Subscription {
	types := sub.EventTypes
	if types == nil {
		types = []string{}
	}
	out := wire.Subscription{
		ID: sub.ID, Name: sub.Name, EventTypes: types, Filter: sub.Filter,
		Destination: subDest(sub), Transform: sub.Transform,
		Enabled: sub.Enabled, CreatedAt: wire.TimeOf(sub.CreatedAt), UpdatedAt: wire.TimeOf(sub.UpdatedAt),
	}
	if s.engine != nil {
		out.Circuit = s.engine.Circuit(sub.Kind, sub.ID)
	}
	return out
}

func subDest(sub store.Subscription) wire.SubDest {
	if sub.Kind == collection.Kind {
		return wire.SubDest{Kind: sub.Kind, Collection: sub.DestinationID}
	}
	return wire.SubDest{Kind: sub.Kind, EndpointID: sub.DestinationID}
}

func (s *Server) getSubscription(w http.ResponseWriter, r *http.Request, a *auth) error {
	sub, err := s.store.GetSubscription(r.Context(), a.tenantID, r.PathValue("id"))
	if err != nil {
		return notFound(err, "subscription", r.PathValue("id"))
	}
	writeJSON(w, http.StatusOK, s.subscriptionOut(sub))
	return nil
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request, a *auth) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	subs, err := s.store.ListSubscriptions(r.Context(), a.tenantID, p)
	if err != nil {
		return err
	}
	out := make([]wire.Subscription, len(subs))
	for i, sub := range subs {
		out[i] = s.subscriptionOut(sub)
	}
	writeJSON(w, http.StatusOK, pageOf(out, p, func(s wire.Subscription) string { return s.ID }))
	return nil
}

func (s *Server) updateSubscription(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in wire.SubscriptionCreate
	if err := decode(r, &in); err != nil {
		return err
	}
	sub, err := s.store.GetSubscription(r.Context(), a.tenantID, r.PathValue("id"))
	if err != nil {
		return notFound(err, "subscription", r.PathValue("id"))
	}
	if err := s.applier.UpdateSubscription(r.Context(), a.tenantID, &sub, in); err != nil {
		return err
	}
	sub.UpdatedAt = s.now()
	if err := s.store.UpdateSubscription(r.Context(), sub); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errorf(http.StatusConflict, codeConflict, "a subscription named %q already exists", sub.Name)
		}
		return err
	}
	s.cfg.Invalidate(a.tenantID)
	writeJSON(w, http.StatusOK, s.subscriptionOut(sub))
	return nil
}

func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request, a *auth) error {
	if err := s.store.DeleteSubscription(r.Context(), a.tenantID, r.PathValue("id")); err != nil {
		return notFound(err, "subscription", r.PathValue("id"))
	}
	s.cfg.Invalidate(a.tenantID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
