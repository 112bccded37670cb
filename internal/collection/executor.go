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

// Execute applies the task's event to the subscription's collection. The
// attempt records the key, the versions and what happened: applied,
// stale (an older version than stored) or duplicate.
func (x *Executor) Execute(ctx context.Context, t *store.Task) engine.Outcome {
	var out engine.Outcome
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
		out.Attempt.ResponseBody = fmt.Sprintf(`{"outcome":"skipped","reason":"no operation of collection %s matches %s"}`, spec.Name, t.Event.Type)
		return out
	}
	out.Attempt.Outcome = res.Outcome
	out.Attempt.ResponseBody = summary(res)
	return out
}

func summary(r Result) string {
	m := map[string]any{"key": r.Key, "outcome": r.Outcome, "op": r.Op, "version": Display(r.Version)}
	if r.Stored != "" {
		m["stored_version"] = Display(r.Stored)
	}
	if r.Change != nil {
		m["seq"] = r.Change.Seq
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func fail(out engine.Outcome, outcome string, err error, permanent bool) engine.Outcome {
	out.Attempt.Outcome, out.Attempt.Error, out.Err, out.Permanent = outcome, err.Error(), err, permanent
	return out
}
