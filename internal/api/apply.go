package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"time"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/signature"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/workflow"
)

// Change actions.
const (
	actionCreated   = "created"
	actionUpdated   = "updated"
	actionUnchanged = "unchanged"
)

func (s *Server) apply(w http.ResponseWriter, r *http.Request, a *auth) error {
	var d client.Declaration
	if err := decode(r, &d); err != nil {
		return err
	}
	res, err := s.Apply(r.Context(), a.tenantID, d, r.URL.Query().Get("dry_run") == "true")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// Apply makes a tenant's resources match d: everything is validated first,
// then event types, endpoints, sources and subscriptions are created or
// updated by name, in that order. Resources not in d are left alone.
// Validation errors name the resource (e.g. "sources[1]") in
// details.resource. With dryRun nothing is written.
func (s *Server) Apply(ctx context.Context, tenantID string, d client.Declaration, dryRun bool) (client.ApplyResult, error) {
	res := client.ApplyResult{DryRun: dryRun, Changes: []client.Change{}}
	plan, err := s.plan(ctx, tenantID, d)
	if err != nil {
		return res, err
	}
	for _, step := range plan {
		c := step.change
		if !dryRun && c.Action != actionUnchanged {
			if err := step.write(ctx); err != nil {
				return res, fmt.Errorf("apply %s %s: %w", c.Kind, c.Name, err)
			}
		}
		res.Changes = append(res.Changes, c)
	}
	if !dryRun {
		s.eventTypes.clear()
		s.cfg.Invalidate(tenantID)
		for _, src := range d.Sources {
			s.cfg.SourceChanged(src.Name)
		}
	}
	return res, nil
}

type applyStep struct {
	change client.Change
	write  func(context.Context) error
}

// declErr prefixes a validation error with the resource it belongs to.
func declErr(resource, name string, err error) error {
	var ae *apiError
	if !asValidation(err, &ae) {
		return err
	}
	out := *ae
	out.message = fmt.Sprintf("%s (%s): %s", resource, name, ae.message)
	out.details = map[string]any{"resource": resource, "name": name}
	for k, v := range ae.details {
		out.details[k] = v
	}
	return &out
}

func (s *Server) plan(ctx context.Context, tenantID string, d client.Declaration) ([]applyStep, error) {
	var steps []applyStep
	now := s.now()
	seen := map[string]bool{}
	unique := func(kind, resource, name string) error {
		if name == "" {
			return declErr(resource, name, invalid("name", "is required in declarations"))
		}
		if seen[kind+"/"+name] {
			return declErr(resource, name, invalid("name", "%s %q is declared twice", kind, name))
		}
		seen[kind+"/"+name] = true
		return nil
	}

	for i, et := range d.EventTypes {
		res := fmt.Sprintf("event_types[%d]", i)
		if err := unique("event_type", res, et.Name); err != nil {
			return nil, err
		}
		if err := validateEventType(et); err != nil {
			return nil, declErr(res, et.Name, err)
		}
		want := store.EventType{TenantID: tenantID, Name: et.Name, Description: et.Description, Schema: schemaBytes(et.Schema), CreatedAt: now}
		cur, err := s.store.GetEventType(ctx, tenantID, et.Name)
		step := applyStep{change: client.Change{Kind: "event_type", Name: et.Name}}
		switch {
		case errors.Is(err, store.ErrNotFound):
			step.change.Action = actionCreated
			step.write = func(ctx context.Context) error { return s.store.CreateEventType(ctx, want) }
		case err != nil:
			return nil, err
		case cur.Description == want.Description && jsonEqual(cur.Schema, want.Schema):
			step.change.Action = actionUnchanged
		default:
			step.change.Action = actionUpdated
			step.write = func(ctx context.Context) error { return s.store.UpdateEventType(ctx, want) }
		}
		steps = append(steps, step)
	}

	endpoints, err := listAll(ctx, tenantID, s.store.ListEndpoints, func(ep store.Endpoint) string { return ep.ID })
	if err != nil {
		return nil, err
	}
	byName := map[string]string{} // endpoint name → id, after this apply
	for _, ep := range endpoints {
		if ep.Name != "" {
			byName[ep.Name] = ep.ID
		}
	}
	for i, decl := range d.Endpoints {
		res := fmt.Sprintf("endpoints[%d]", i)
		if err := unique("endpoint", res, decl.Name); err != nil {
			return nil, err // already names the resource
		}
		step, id, err := s.planEndpoint(ctx, tenantID, decl, endpoints, now)
		if err != nil {
			return nil, declErr(res, decl.Name, err)
		}
		byName[decl.Name] = id
		steps = append(steps, step)
	}

	for i, decl := range d.Sources {
		res := fmt.Sprintf("sources[%d]", i)
		if err := unique("source", res, decl.Name); err != nil {
			return nil, err
		}
		step, err := s.planSource(ctx, tenantID, decl, now)
		if err != nil {
			return nil, declErr(res, decl.Name, err)
		}
		steps = append(steps, step)
	}

	collections := map[string]*collection.Spec{} // declared collections
	for i, decl := range d.Collections {
		res := fmt.Sprintf("collections[%d]", i)
		if err := unique("collection", res, decl.Name); err != nil {
			return nil, err
		}
		step, spec, err := s.planCollection(ctx, tenantID, decl, now)
		if err != nil {
			return nil, declErr(res, decl.Name, err)
		}
		collections[decl.Name] = spec
		steps = append(steps, step)
	}

	for i, decl := range d.Workflows {
		res := fmt.Sprintf("workflows[%d]", i)
		if err := unique("workflow", res, decl.Name); err != nil {
			return nil, err
		}
		step, err := s.planWorkflow(ctx, tenantID, decl)
		if err != nil {
			return nil, declErr(res, decl.Name, err)
		}
		steps = append(steps, step)
	}

	for i, decl := range d.Templates {
		res := fmt.Sprintf("templates[%d]", i)
		if err := unique("template", res, decl.Name); err != nil {
			return nil, err
		}
		if err := templateInvalid(decl); err != nil {
			return nil, declErr(res, decl.Name, err)
		}
		step := applyStep{change: client.Change{Kind: "template", Name: decl.Name}}
		spec, _ := json.Marshal(decl)
		cur, err := s.store.GetTemplate(ctx, tenantID, decl.Name, 0)
		switch {
		case errors.Is(err, store.ErrNotFound):
			step.change.Action = actionCreated
		case err != nil:
			return nil, err
		case jsonEqual(cur.Spec, spec):
			step.change.Action = actionUnchanged
		default:
			step.change.Action = actionUpdated
		}
		step.write = func(ctx context.Context) error {
			_, _, err := s.storeTemplate(ctx, tenantID, decl)
			return err
		}
		steps = append(steps, step)
	}
	for i, decl := range d.Recipients {
		res := fmt.Sprintf("recipients[%d]", i)
		if err := unique("recipient", res, decl.ID); err != nil {
			return nil, err
		}
		rec, err := checkRecipient(tenantID, decl, now)
		if err != nil {
			return nil, declErr(res, decl.ID, err)
		}
		step := applyStep{change: client.Change{Kind: "recipient", Name: decl.ID}}
		cur, err := s.store.GetRecipient(ctx, tenantID, decl.ID)
		if err == nil {
			// Opt-outs the recipient made (unsubscribe links) outlive
			// applying the file again, unless the file states them.
			rec.Prefs = keepOptOuts(cur.Prefs, decl.Prefs)
		}
		switch {
		case errors.Is(err, store.ErrNotFound):
			step.change.Action = actionCreated
		case err != nil:
			return nil, err
		case cur.Email == rec.Email && cur.Name == rec.Name && cur.Locale == rec.Locale && cur.TimeZone == rec.TimeZone &&
			jsonEqual(cur.Prefs, rec.Prefs) && jsonEqual(cur.Data, rec.Data):
			step.change.Action = actionUnchanged
		default:
			step.change.Action = actionUpdated
			rec.CreatedAt = cur.CreatedAt
		}
		step.write = func(ctx context.Context) error { return s.store.UpsertRecipient(ctx, rec) }
		steps = append(steps, step)
	}
	for i, decl := range d.NotifyRules {
		res := fmt.Sprintf("notify_rules[%d]", i)
		if err := unique("notify_rule", res, decl.Name); err != nil {
			return nil, err
		}
		cur, curErr := s.store.GetNotifyRule(ctx, tenantID, decl.Name)
		if curErr == nil {
			keepRedacted(&decl, cur)
		}
		rule, err := s.notifyRule(tenantID, decl, now)
		if err != nil {
			return nil, declErr(res, decl.Name, err)
		}
		step := applyStep{change: client.Change{Kind: "notify_rule", Name: decl.Name}}
		switch err := curErr; {
		case errors.Is(err, store.ErrNotFound):
			step.change.Action = actionCreated
			step.write = func(ctx context.Context) error { return s.store.CreateNotifyRule(ctx, rule) }
		case err != nil:
			return nil, err
		case jsonEqual(cur.Spec, rule.Spec) && cur.Enabled == rule.Enabled:
			step.change.Action = actionUnchanged
		default:
			step.change.Action = actionUpdated
			rule.CreatedAt = cur.CreatedAt
			step.write = func(ctx context.Context) error { return s.store.UpdateNotifyRule(ctx, rule) }
		}
		steps = append(steps, step)
	}

	subs, err := listAll(ctx, tenantID, s.store.ListSubscriptions, func(sub store.Subscription) string { return sub.ID })
	if err != nil {
		return nil, err
	}
	for i, decl := range d.Subscriptions {
		res := fmt.Sprintf("subscriptions[%d]", i)
		if err := unique("subscription", res, decl.Name); err != nil {
			return nil, err
		}
		step, err := s.planSubscription(ctx, tenantID, decl, subs, byName, collections, now)
		if err != nil {
			return nil, declErr(res, decl.Name, err)
		}
		steps = append(steps, step)
	}
	return steps, nil
}

func validateEventType(et client.EventType) error {
	if err := event.ValidateType(et.Name); err != nil {
		return fieldErr("name", err)
	}
	if len(et.Description) > maxDescription {
		return invalid("description", "must be at most %d characters", maxDescription)
	}
	if b := schemaBytes(et.Schema); b != nil {
		if len(b) > maxSchemaSize {
			return invalid("schema", "must be at most %d bytes", maxSchemaSize)
		}
		if _, err := compileSchema(b); err != nil {
			return fieldErr("schema", err)
		}
	}
	return nil
}

func schemaBytes(raw json.RawMessage) []byte {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	return raw
}

func jsonEqual(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// listAll pages through a whole list, newest first.
func listAll[T any](ctx context.Context, tenantID string, list func(context.Context, string, store.Page) ([]T, error), id func(T) string) ([]T, error) {
	var out []T
	p := store.Page{Limit: maxPageLimit}
	for {
		page, err := list(ctx, tenantID, p)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < p.Limit {
			return out, nil
		}
		p.Cursor = id(page[len(page)-1])
	}
}

func (s *Server) planEndpoint(ctx context.Context, tenantID string, decl client.EndpointDecl, existing []store.Endpoint,
	now time.Time) (applyStep, string, error) {
	in := decl.EndpointCreate
	step := applyStep{change: client.Change{Kind: "endpoint", Name: in.Name}}
	idx := slices.IndexFunc(existing, func(ep store.Endpoint) bool { return ep.Name != "" && ep.Name == in.Name })
	// A declaration states the whole endpoint: fields it leaves out take
	// their defaults. Identity, secrets and history are kept.
	ep := newEndpoint(tenantID, now)
	var before store.Endpoint
	if idx >= 0 {
		before = existing[idx]
		ep.ID, ep.CreatedAt, ep.UpdatedAt, ep.Secrets = before.ID, before.CreatedAt, before.UpdatedAt, before.Secrets
		ep.FailingSince = before.FailingSince
		if in.Headers != nil {
			// Only for header values declared as shown (redacted), which
			// keep the current ones; the declared headers replace these.
			ep.Headers = before.Headers
		}
	}
	if err := s.applyEndpoint(ctx, &ep, createToUpdate(in)); err != nil {
		return step, "", err
	}
	if in.Enabled == nil && idx >= 0 {
		// Unless the declaration says, an endpoint disabled at run time
		// (410 Gone, by hand) stays disabled.
		ep.Enabled, ep.DisabledReason = before.Enabled, before.DisabledReason
	}
	if decl.Secret != "" {
		if _, err := signature.DecodeSecret(decl.Secret); err != nil {
			return step, "", fieldErr("secret", err)
		}
		if len(ep.Secrets) == 0 || ep.Secrets[0].Key != decl.Secret {
			ep.Secrets = []store.Secret{{Key: decl.Secret}}
		}
	}
	step.change.ID = ep.ID
	switch {
	case idx < 0:
		if len(ep.Secrets) == 0 {
			secret, err := signature.GenerateSecret()
			if err != nil {
				return step, "", err
			}
			ep.Secrets = []store.Secret{{Key: secret}}
			step.change.Secret = secret
		}
		step.change.Action = actionCreated
		step.write = func(ctx context.Context) error { return s.store.CreateEndpoint(ctx, ep) }
	case reflect.DeepEqual(before, ep):
		step.change.Action = actionUnchanged
	default:
		ep.UpdatedAt = now
		step.change.Action = actionUpdated
		reenabled := ep.Enabled && !before.Enabled && !ep.FailingSince.IsZero()
		if reenabled {
			ep.FailingSince = time.Time{} // a fresh start, as with PATCH
		}
		step.write = func(ctx context.Context) error {
			if err := s.store.UpdateEndpoint(ctx, ep); err != nil {
				return err
			}
			if reenabled {
				return s.store.SetEndpointFailing(ctx, ep.TenantID, ep.ID, time.Time{})
			}
			return nil
		}
	}
	return step, ep.ID, nil
}

func (s *Server) planSource(ctx context.Context, tenantID string, decl client.SourceCreate, now time.Time) (applyStep, error) {
	step := applyStep{change: client.Change{Kind: "source", Name: decl.Name}}
	cur, err := s.store.SourceByName(ctx, decl.Name)
	exists := err == nil
	switch {
	case exists && cur.TenantID != tenantID:
		return step, errorf(http.StatusConflict, codeConflict, "source name %q is taken", decl.Name)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return step, err
	}
	if decl.Verification == nil && decl.Postgres == nil {
		return step, invalid("verification", `is required, e.g. {"kind": "github", "secrets": ["…"]} or {"kind": "none"}`)
	}
	src := store.Source{ID: event.NewID(event.PrefixSource, now), TenantID: tenantID, Config: []byte("{}"), CreatedAt: now, UpdatedAt: now}
	if exists {
		src = cur
	}
	// A declaration states the whole source: groups it leaves out are reset.
	src.Config = []byte("{}")
	src.Description = ""
	src.Enabled = true
	parsed, err := applySource(&src, decl)
	if err != nil {
		return step, err
	}
	step.change.ID = src.ID
	switch {
	case !exists:
		step.change.Action = actionCreated
		step.write = func(ctx context.Context) error {
			if err := s.installCapture(ctx, parsed); err != nil {
				return err
			}
			return s.store.CreateSource(ctx, src)
		}
	case cur.Description == src.Description && cur.Enabled == src.Enabled && jsonEqual(cur.Config, src.Config) &&
		jsonEqual(cur.Verification, src.Verification):
		step.change.Action = actionUnchanged
	default:
		src.UpdatedAt = now
		step.change.Action = actionUpdated
		step.write = func(ctx context.Context) error {
			if err := s.installCapture(ctx, parsed); err != nil {
				return err
			}
			return s.store.UpdateSource(ctx, src)
		}
	}
	return step, nil
}

func (s *Server) planSubscription(ctx context.Context, tenantID string, decl client.SubscriptionDecl, existing []store.Subscription,
	endpoints map[string]string, collections map[string]*collection.Spec, now time.Time) (applyStep, error) {
	step := applyStep{change: client.Change{Kind: "subscription", Name: decl.Name}}
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
			return step, invalid("destination.endpoint", "no endpoint named %q (declare it under endpoints or create it first)", decl.Destination.Endpoint)
		}
		destID = id
	case collection.Kind:
		name := decl.Destination.Collection
		spec, ok := collections[name]
		if !ok {
			c, err := s.store.GetCollection(ctx, tenantID, name)
			if errors.Is(err, store.ErrNotFound) {
				return step, invalid("destination.collection", "no collection named %q (declare it under collections or create it first)", name)
			}
			if err != nil {
				return step, err
			}
			in, err := collection.Join(c)
			if err != nil {
				return step, err
			}
			if spec, err = collection.Compile(in); err != nil {
				return step, err
			}
		}
		if len(types) == 0 {
			types = spec.Patterns()
		}
		destID = name
	default:
		return step, invalid("destination.kind", "must be %q (with endpoint) or %q (with collection)", delivery.KindForward, collection.Kind)
	}
	in := client.SubscriptionCreate{Name: &decl.Name, EventTypes: &types, Filter: &decl.Filter, Transform: &decl.Transform, Enabled: &enabled}
	if err := s.applySubscription(ctx, tenantID, &sub, in); err != nil {
		return step, err
	}
	sub.Kind, sub.DestinationID = decl.Destination.Kind, destID
	step.change.ID = sub.ID
	switch {
	case idx < 0:
		step.change.Action = actionCreated
		step.write = func(ctx context.Context) error { return s.store.CreateSubscription(ctx, sub) }
	case reflect.DeepEqual(before, sub):
		step.change.Action = actionUnchanged
	default:
		sub.UpdatedAt = now
		step.change.Action = actionUpdated
		step.write = func(ctx context.Context) error { return s.store.UpdateSubscription(ctx, sub) }
	}
	return step, nil
}

// planCollection creates a declared collection or replaces its spec when
// it differs.
func (s *Server) planCollection(ctx context.Context, tenantID string, decl client.CollectionSpec, now time.Time) (applyStep, *collection.Spec, error) {
	step := applyStep{change: client.Change{Kind: "collection", Name: decl.Name}}
	spec, err := s.collectionSpec(decl)
	if err != nil {
		return step, nil, err
	}
	specJSON, secret, err := collection.Split(decl)
	if err != nil {
		return step, nil, err
	}
	want := store.Collection{TenantID: tenantID, Name: decl.Name, Spec: specJSON, Secret: secret, CreatedAt: now, UpdatedAt: now}
	cur, err := s.store.GetCollection(ctx, tenantID, decl.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		step.change.Action = actionCreated
		step.write = func(ctx context.Context) error { return s.store.CreateCollection(ctx, want) }
	case err != nil:
		return step, nil, err
	case jsonEqual(cur.Spec, want.Spec) && jsonEqual(cur.Secret, want.Secret):
		step.change.Action = actionUnchanged
	default:
		want.CreatedAt = cur.CreatedAt
		step.change.Action = actionUpdated
		step.write = func(ctx context.Context) error { return s.store.UpdateCollection(ctx, want) }
	}
	return step, spec, nil
}

// planWorkflow saves a declared workflow as a new version when it differs
// from the latest.
func (s *Server) planWorkflow(ctx context.Context, tenantID string, decl client.WorkflowSpec) (applyStep, error) {
	step := applyStep{change: client.Change{Kind: "workflow", Name: decl.Name}}
	if _, err := workflow.Compile(decl, workflow.Options{CheckNotify: s.cfg.CheckNotify}); err != nil {
		return step, workflowInvalid(err, nil)
	}
	enabled := decl.Enabled == nil || *decl.Enabled
	bare := decl
	bare.Enabled = nil
	spec, err := json.Marshal(bare)
	if err != nil {
		return step, err
	}
	cur, err := s.store.GetWorkflow(ctx, tenantID, decl.Name, 0)
	switch {
	case errors.Is(err, store.ErrNotFound):
		step.change.Action = actionCreated
	case err != nil:
		return step, err
	case jsonEqual(cur.Spec, spec) && cur.Enabled == enabled:
		step.change.Action = actionUnchanged
		return step, nil
	default:
		step.change.Action = actionUpdated
	}
	step.write = func(ctx context.Context) error {
		_, err := s.storeWorkflow(ctx, tenantID, decl)
		return err
	}
	return step, nil
}

// keepOptOuts is declared prefs with the stored channel and category
// opt-outs the declaration does not mention.
func keepOptOuts(stored []byte, declared client.RecipientPrefs) []byte {
	var cur client.RecipientPrefs
	_ = json.Unmarshal(stored, &cur)
	for ch, on := range cur.Channels {
		if _, ok := declared.Channels[ch]; !ok && !on {
			if declared.Channels == nil {
				declared.Channels = map[string]bool{}
			}
			declared.Channels[ch] = false
		}
	}
	for cat, chs := range cur.Categories {
		for ch, on := range chs {
			if _, ok := declared.Categories[cat][ch]; !ok && !on {
				if declared.Categories == nil {
					declared.Categories = map[string]map[string]bool{}
				}
				if declared.Categories[cat] == nil {
					declared.Categories[cat] = map[string]bool{}
				}
				declared.Categories[cat][ch] = false
			}
		}
	}
	b, _ := json.Marshal(declared)
	return b
}
