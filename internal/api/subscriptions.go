package api

import (
	"context"
	"net/http"

	"github.com/hookline/hookline/internal/answer"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

func (s *Server) createSubscription(w http.ResponseWriter, r *http.Request, a *auth, in wire.SubscriptionCreate) error {
	if in.Destination == nil {
		return invalid("destination", `is required, e.g. {"kind": "forward", "endpoint_id": "ep_…"}`)
	}
	now := s.now()
	sub := store.Subscription{ID: event.NewID(event.PrefixSub, now), TenantID: a.tenantID, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := s.applier.UpdateSubscription(r.Context(), a.tenantID, &sub, in); err != nil {
		return err
	}
	return s.saveSubscription(w, r, a, http.StatusCreated, s.store.CreateSubscription, sub)
}

// saveSubscription stores sub by save and answers it with status.
func (s *Server) saveSubscription(w http.ResponseWriter, r *http.Request, a *auth, status int,
	save func(context.Context, store.Subscription) error, sub store.Subscription) error {
	if err := save(r.Context(), sub); err != nil {
		return nameTaken(err, "subscription", sub.Name)
	}
	s.cfg.Invalidate(a.tenantID)
	answer.JSON(w, status, s.subscriptionOut(sub))
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
	return getOne(w, r, a, "subscription", "id", s.store.GetSubscription, s.subscriptionOut)
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request, a *auth) error {
	return listPage(w, r, a, s.store.ListSubscriptions, s.subscriptionOut, func(s wire.Subscription) string { return s.ID })
}

func (s *Server) updateSubscription(w http.ResponseWriter, r *http.Request, a *auth, in wire.SubscriptionCreate) error {
	sub, err := byPath(r, a, "subscription", "id", s.store.GetSubscription)
	if err != nil {
		return err
	}
	if err := s.applier.UpdateSubscription(r.Context(), a.tenantID, &sub, in); err != nil {
		return err
	}
	sub.UpdatedAt = s.now()
	return s.saveSubscription(w, r, a, http.StatusOK, s.store.UpdateSubscription, sub)
}

func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request, a *auth) error {
	return s.deleteOne(w, r, a, "subscription", "id", s.store.DeleteSubscription, true)
}
