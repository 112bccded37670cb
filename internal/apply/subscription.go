package apply

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"time"

	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// UpdateSubscription validates the set fields of in and applies them to
// sub, a subscription of tenantID; a destination must exist. A mistake is
// a *field.Error.
func (a *Applier) UpdateSubscription(ctx context.Context, tenantID string, sub *store.Subscription, in wire.SubscriptionCreate) error {
	if in.Name != nil {
		if *in.Name != "" && !nameRule.MatchString(*in.Name) {
			return field.Errorf("name", "must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit")
		}
		sub.Name = *in.Name
	}
	if in.EventTypes != nil {
		if err := checkPatterns(*in.EventTypes); err != nil {
			return err
		}
		sub.EventTypes = *in.EventTypes
	}
	if in.Filter != nil {
		if err := checkFilter(*in.Filter); err != nil {
			return err
		}
		sub.Filter = *in.Filter
	}
	if in.Transform != nil {
		if *in.Transform != "" {
			if _, err := delivery.CompileTransform(*in.Transform); err != nil {
				return &field.Error{Path: "transform", Err: err}
			}
		}
		sub.Transform = *in.Transform
	}
	st := a.cfg.Store
	if d := in.Destination; d != nil {
		switch d.Kind {
		case delivery.KindForward:
			if _, err := st.GetEndpoint(ctx, tenantID, d.EndpointID); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return field.Errorf("destination.endpoint_id", "no endpoint %q", d.EndpointID)
				}
				return err
			}
			sub.Kind, sub.DestinationID = d.Kind, d.EndpointID
		case collection.Kind:
			c, err := st.GetCollection(ctx, tenantID, d.Collection)
			if err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return field.Errorf("destination.collection", "no collection %q", d.Collection)
				}
				return err
			}
			sub.Kind, sub.DestinationID = d.Kind, d.Collection
			if len(sub.EventTypes) == 0 {
				// By default a sync subscription takes the event types
				// the collection has operations for.
				spec, err := collection.Parse(c)
				if err != nil {
					return err
				}
				sub.EventTypes = spec.Patterns()
			}
		default:
			return field.Errorf("destination.kind", "must be %q (relay to an endpoint) or %q (apply to a collection)", delivery.KindForward, collection.Kind)
		}
	}
	setIf(&sub.Enabled, in.Enabled)
	return nil
}

// planSubscription compares a declared subscription with the stored one
// of its name. Its destination is an endpoint or a collection by name:
// one declared in the same declaration, or one that exists.
func (a *Applier) planSubscription(ctx context.Context, tenantID string, decl wire.SubscriptionDecl, existing []store.Subscription,
	endpoints map[string]string, collections map[string]*collection.Spec, now time.Time) (step, error) {
	st := a.cfg.Store
	s := step{change: wire.Change{Kind: "subscription", Name: decl.Name}}
	idx := slices.IndexFunc(existing, func(sub store.Subscription) bool { return sub.Name == decl.Name })
	var sub store.Subscription
	if idx >= 0 {
		sub = existing[idx]
	} else {
		sub = store.Subscription{ID: event.NewID(event.PrefixSub, now), TenantID: tenantID, CreatedAt: now, UpdatedAt: now}
	}
	before := sub
	enabled := true
	if decl.Enabled != nil {
		enabled = *decl.Enabled
	}
	types := decl.EventTypes
	if types == nil {
		types = []string{}
	}
	var destID string
	switch decl.Destination.Kind {
	case delivery.KindForward:
		id, ok := endpoints[decl.Destination.Endpoint]
		if !ok {
			return s, field.Errorf("destination.endpoint", "no endpoint named %q (declare it under endpoints or create it first)", decl.Destination.Endpoint)
		}
		destID = id
	case collection.Kind:
		name := decl.Destination.Collection
		spec, ok := collections[name]
		if !ok {
			c, err := st.GetCollection(ctx, tenantID, name)
			if errors.Is(err, store.ErrNotFound) {
				return s, field.Errorf("destination.collection", "no collection named %q (declare it under collections or create it first)", name)
			}
			if err != nil {
				return s, err
			}
			if spec, err = collection.Parse(c); err != nil {
				return s, err
			}
		}
		if len(types) == 0 {
			types = spec.Patterns()
		}
		destID = name
	default:
		return s, field.Errorf("destination.kind", "must be %q (with endpoint) or %q (with collection)", delivery.KindForward, collection.Kind)
	}
	in := wire.SubscriptionCreate{Name: &decl.Name, EventTypes: &types, Filter: &decl.Filter, Transform: &decl.Transform, Enabled: &enabled}
	if err := a.UpdateSubscription(ctx, tenantID, &sub, in); err != nil {
		return s, err
	}
	sub.Kind, sub.DestinationID = decl.Destination.Kind, destID
	s.change.ID = sub.ID
	act := actionOf(idx >= 0, reflect.DeepEqual(before, sub))
	if act == Updated {
		sub.UpdatedAt = now
	}
	s.decide(act, func(ctx context.Context) error { return st.CreateSubscription(ctx, sub) },
		func(ctx context.Context) error { return st.UpdateSubscription(ctx, sub) })
	return s, nil
}
