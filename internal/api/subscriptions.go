package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/store"
)

func (s *Server) createSubscription(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in client.SubscriptionCreate
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Destination == nil {
		return invalid("destination", `is required, e.g. {"kind": "forward", "endpoint_id": "ep_…"}`)
	}
	now := s.now()
	sub := store.Subscription{ID: event.NewID(event.PrefixSub, now), TenantID: a.tenantID, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if err := s.applySubscription(r.Context(), a.tenantID, &sub, in); err != nil {
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

func (s *Server) applySubscription(ctx context.Context, tenantID string, sub *store.Subscription, in client.SubscriptionCreate) error {
	if in.Name != nil {
		if *in.Name != "" && !tenantName.MatchString(*in.Name) {
			return invalid("name", "must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit")
		}
		sub.Name = *in.Name
	}
	if in.EventTypes != nil {
		if len(*in.EventTypes) > maxEventTypes {
			return invalid("event_types", "at most %d patterns", maxEventTypes)
		}
		for _, p := range *in.EventTypes {
			if err := event.ValidatePattern(p); err != nil {
				return fieldErr("event_types", err)
			}
		}
		sub.EventTypes = *in.EventTypes
	}
	if in.Filter != nil {
		if *in.Filter != "" {
			if _, err := expr.CompileFilter(*in.Filter); err != nil {
				return fieldErr("filter", err)
			}
		}
		sub.Filter = *in.Filter
	}
	if in.Transform != nil {
		if *in.Transform != "" {
			if _, err := delivery.CompileTransform(*in.Transform); err != nil {
				return fieldErr("transform", err)
			}
		}
		sub.Transform = *in.Transform
	}
	if d := in.Destination; d != nil {
		switch d.Kind {
		case delivery.KindForward:
			if _, err := s.store.GetEndpoint(ctx, tenantID, d.EndpointID); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return invalid("destination.endpoint_id", "no endpoint %q", d.EndpointID)
				}
				return err
			}
			sub.Kind, sub.DestinationID = d.Kind, d.EndpointID
		case collection.Kind:
			c, err := s.store.GetCollection(ctx, tenantID, d.Collection)
			if err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return invalid("destination.collection", "no collection %q", d.Collection)
				}
				return err
			}
			sub.Kind, sub.DestinationID = d.Kind, d.Collection
			if len(sub.EventTypes) == 0 {
				// By default a sync subscription takes the event types
				// the collection has operations for.
				in, err := collection.Join(c)
				if err != nil {
					return err
				}
				spec, err := collection.Compile(in)
				if err != nil {
					return err
				}
				sub.EventTypes = spec.Patterns()
			}
		default:
			return invalid("destination.kind", "must be %q (relay to an endpoint) or %q (apply to a collection)", delivery.KindForward, collection.Kind)
		}
	}
	if in.Enabled != nil {
		sub.Enabled = *in.Enabled
	}
	return nil
}

// subscriptionOut is a subscription as the API shows it, with its circuit
// breaker as this node sees it (the engine's destination is the
// subscription itself).
func (s *Server) subscriptionOut(sub store.Subscription) client.Subscription {
	types := sub.EventTypes
	if types == nil {
		types = []string{}
	}
	out := client.Subscription{
		ID: sub.ID, Name: sub.Name, EventTypes: types, Filter: sub.Filter,
		Destination: subDest(sub), Transform: sub.Transform,
		Enabled: sub.Enabled, CreatedAt: client.TimeOf(sub.CreatedAt), UpdatedAt: client.TimeOf(sub.UpdatedAt),
	}
	if s.engine != nil {
		out.Circuit = s.engine.Circuit(sub.Kind, sub.ID)
	}
	return out
}

func subDest(sub store.Subscription) client.SubDest {
	if sub.Kind == collection.Kind {
		return client.SubDest{Kind: sub.Kind, Collection: sub.DestinationID}
	}
	return client.SubDest{Kind: sub.Kind, EndpointID: sub.DestinationID}
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
	out := make([]client.Subscription, len(subs))
	for i, sub := range subs {
		out[i] = s.subscriptionOut(sub)
	}
	writeJSON(w, http.StatusOK, pageOf(out, p, func(s client.Subscription) string { return s.ID }))
	return nil
}

func (s *Server) updateSubscription(w http.ResponseWriter, r *http.Request, a *auth) error {
	var in client.SubscriptionCreate
	if err := decode(r, &in); err != nil {
		return err
	}
	sub, err := s.store.GetSubscription(r.Context(), a.tenantID, r.PathValue("id"))
	if err != nil {
		return notFound(err, "subscription", r.PathValue("id"))
	}
	if err := s.applySubscription(r.Context(), a.tenantID, &sub, in); err != nil {
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
