package collection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/store"
)

// Kind is the destination kind of sync subscriptions.
const Kind = "sync"

var _ engine.Executor = (*Executor)(nil)

// Executor applies sync tasks: the task's destination is a subscription
// naming the collection.
type Executor struct {
	s *Service
}

// Executor returns the sync executor of s.
func (s *Service) Executor() *Executor { return &Executor{s: s} }

// syncInFlight is how many sync tasks of one subscription run at once.
// Changes apply in version order whatever the order they arrive in, so
// they need no ordering of their own; and the more of them run together,
// the more share one of the collection's commits (Service.batch).
const syncInFlight = 64

// Limits lets syncInFlight tasks of a subscription run at once, not the
// engine's default for endpoints.
func (x *Executor) Limits(context.Context, *store.Task) engine.Limits {
	return engine.Limits{MaxInFlight: syncInFlight}
}

// Execute applies the task's event to the subscription's collection. The
// attempt records the key, the versions and what happened: applied,
// stale (an older version than stored) or duplicate. The subscription and
// the collection's spec are read once per targetTTL (target.go).
func (x *Executor) Execute(ctx context.Context, t *store.Task) engine.Outcome {
	var out engine.Outcome
	out.Attempt.Kind = store.AttemptSync
	tg, ok := x.s.target(t.TenantID, t.DestinationID)
	if !ok {
		sub, err := x.s.cfg.Store.GetSubscription(ctx, t.TenantID, t.DestinationID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fail(out, "subscription_deleted", errors.New("subscription was deleted"), true)
		case err != nil:
			return fail(out, "internal_error", fmt.Errorf("load subscription: %w", err), false)
		}
		out.Attempt.RequestURL = "collection:" + sub.DestinationID
		spec, err := x.s.Spec(ctx, t.TenantID, sub.DestinationID)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return fail(out, "collection_deleted", fmt.Errorf("collection %q does not exist", sub.DestinationID), true)
		case err != nil:
			return fail(out, "internal_error", err, false)
		}
		tg = x.s.keepTarget(sub, spec)
	}
	sub, spec := tg.sub, tg.spec
	out.Attempt.RequestURL = "collection:" + sub.DestinationID
	if t.Event == nil {
		return fail(out, "internal_error", errors.New("task has no event loaded"), false)
	}
	res, ok, err := x.s.ApplyEvent(ctx, spec, t.Event)
	if res.Key != "" {
		out.Attempt.RequestURL += "/" + res.Key
	}
	var (
		ie *InputError
		fe *FetchError
	)
	switch {
	case errors.As(err, &ie):
		out.NotAttempted = true
		return fail(out, ie.Code, err, true)
	case errors.As(err, &fe):
		return fail(out, "fetch_failed", err, false)
	case err != nil:
		return fail(out, "internal_error", err, false)
	case !ok:
		out.Attempt.Outcome = "skipped"
		out.Attempt.Detail = marshal(syncSkipped{Outcome: "skipped", Reason: "no operation of collection " + spec.Name + " matches " + t.Event.Type})
		return out
	}
	out.Attempt.Outcome = res.Outcome
	out.Attempt.Detail = summary(res)
	return out
}

// syncDetail is what a sync attempt decided, the summary it records:
// built with json.Marshal, never with fmt (%q does not quote control bytes
// the way JSON does). The fields are in the order of their names, as the
// map they replace wrote them.
type syncDetail struct {
	Key           string `json:"key"`
	Op            string `json:"op"`
	Outcome       string `json:"outcome"`
	Seq           *int64 `json:"seq,omitempty"`
	StoredVersion string `json:"stored_version,omitempty"`
	Version       string `json:"version"`
}

// syncSkipped is the summary of an event no operation of the collection
// matches.
type syncSkipped struct {
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
}

func summary(r Result) json.RawMessage {
	d := syncDetail{Key: r.Key, Op: r.Op, Outcome: r.Outcome, Version: Display(r.Version)}
	if r.Stored != "" {
		d.StoredVersion = Display(r.Stored)
	}
	if r.Change != nil {
		d.Seq = &r.Change.Seq
	}
	return marshal(d)
}

// marshal encodes an attempt's detail, a struct of strings and numbers:
// it cannot fail.
func marshal(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func fail(out engine.Outcome, outcome string, err error, permanent bool) engine.Outcome {
	out.Attempt.Outcome, out.Attempt.Error, out.Err, out.Permanent = outcome, err.Error(), err, permanent
	return out
}
