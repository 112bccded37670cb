package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/store"
)

// KindForward is the destination kind of forward subscriptions: a received
// event relayed to an endpoint as its own JSON body (or a transform of it),
// re-signed with the endpoint's secrets — a webhook gateway.
const KindForward = "forward"

// transformVars are the variables a transform sees.
var transformVars = []string{"event", "data"}

// CompileTransform checks a transform expression: it yields the forwarded
// body (any JSON value; a string is sent as is).
func CompileTransform(src string) (*expr.Program, error) {
	return expr.Compile(src, transformVars...)
}

var _ engine.Executor = (*Forwarder)(nil)

// Forwarder delivers forward tasks.
type Forwarder struct {
	x *Executor
}

// NewForwarder returns a Forwarder that sends through x.
func NewForwarder(x *Executor) *Forwarder { return &Forwarder{x: x} }

// Limits gives forwarded deliveries the limits of the endpoint they go to
// (their queue is the subscription's).
func (f *Forwarder) Limits(ctx context.Context, t *store.Task) engine.Limits {
	sub, err := f.x.cfg.Store.GetSubscription(ctx, t.TenantID, t.DestinationID)
	if err != nil {
		return engine.Limits{}
	}
	ep, err := f.x.load(ctx, t.TenantID, sub.DestinationID)
	if err != nil {
		return engine.Limits{}
	}
	return engine.Limits{MaxInFlight: ep.MaxInFlight, RateLimit: ep.RateLimit, Ordered: ep.Ordered}
}

// Execute relays the task's event to the subscription's endpoint.
func (f *Forwarder) Execute(ctx context.Context, t *store.Task) engine.Outcome {
	var out engine.Outcome
	sub, err := f.x.cfg.Store.GetSubscription(ctx, t.TenantID, t.DestinationID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return failed(out, "subscription_deleted", errors.New("subscription was deleted"), true)
	case err != nil:
		return failed(out, "internal_error", fmt.Errorf("load subscription: %w", err), false)
	}
	ep, out, ok := f.x.endpoint(ctx, t.TenantID, sub.DestinationID)
	if !ok {
		return out
	}
	if t.Event == nil {
		return failed(out, "internal_error", errors.New("task has no event loaded"), false)
	}
	body, contentType, err := forwardBody(sub.Transform, t)
	if err != nil {
		return failed(out, "transform_failed", err, true)
	}
	return f.x.send(ctx, &ep, t, body, contentType, out)
}

func forwardBody(transform string, t *store.Task) ([]byte, string, error) {
	if transform == "" {
		return t.Event.Data, "application/json", nil
	}
	p, err := CompileTransform(transform)
	if err != nil {
		return nil, "", fmt.Errorf("transform: %w", err)
	}
	var data any
	if err := json.Unmarshal(t.Event.Data, &data); err != nil {
		return nil, "", fmt.Errorf("transform: parse event data: %w", err)
	}
	ev := map[string]any{"id": t.Event.ID, "type": t.Event.Type, "source": t.Event.Source, "data": data,
		"headers": t.Event.Headers, "occurred_at": t.Event.OccurredAt}
	res, err := p.Eval(map[string]any{"event": ev, "data": data})
	if err != nil {
		return nil, "", fmt.Errorf("transform: %w", err)
	}
	if s, ok := res.(string); ok {
		return []byte(s), "text/plain; charset=utf-8", nil
	}
	b, err := json.Marshal(res)
	if err != nil {
		return nil, "", fmt.Errorf("transform: result is not JSON: %w", err)
	}
	return b, "application/json", nil
}
