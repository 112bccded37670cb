package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"time"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// Actions of a change.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
)

// Store is what Apply reads and writes.
type Store interface {
	GetEventType(ctx context.Context, tenantID, name string) (store.EventType, error)
	CreateEventType(ctx context.Context, et store.EventType) error
	UpdateEventType(ctx context.Context, et store.EventType) error

	GetEndpoint(ctx context.Context, tenantID, id string) (store.Endpoint, error)
	ListEndpoints(ctx context.Context, tenantID string, p store.Page) ([]store.Endpoint, error)
	CreateEndpoint(ctx context.Context, ep store.Endpoint) error
	UpdateEndpoint(ctx context.Context, ep store.Endpoint) error
	SetEndpointFailing(ctx context.Context, tenantID, id string, since time.Time) error

	SourceByName(ctx context.Context, name string) (store.Source, error)
	CreateSource(ctx context.Context, src store.Source) error
	UpdateSource(ctx context.Context, src store.Source) error

	ListSubscriptions(ctx context.Context, tenantID string, p store.Page) ([]store.Subscription, error)
	CreateSubscription(ctx context.Context, sub store.Subscription) error
	UpdateSubscription(ctx context.Context, sub store.Subscription) error

	GetCollection(ctx context.Context, tenantID, name string) (store.Collection, error)
	CreateCollection(ctx context.Context, c store.Collection) error
	UpdateCollection(ctx context.Context, c store.Collection) error

	GetWorkflow(ctx context.Context, tenantID, name string, version int) (store.Workflow, error)
	CreateWorkflow(ctx context.Context, w store.Workflow) error
	SetWorkflowEnabled(ctx context.Context, tenantID, name string, enabled bool) error

	GetTemplate(ctx context.Context, tenantID, name string, version int) (store.Template, error)
	CreateTemplate(ctx context.Context, t store.Template) error

	GetRecipient(ctx context.Context, tenantID, id string) (store.Recipient, error)
	UpsertRecipient(ctx context.Context, r store.Recipient) error

	GetNotifyRule(ctx context.Context, tenantID, name string) (store.NotifyRule, error)
	CreateNotifyRule(ctx context.Context, r store.NotifyRule) error
	UpdateNotifyRule(ctx context.Context, r store.NotifyRule) error
}

var _ Store = store.Store(nil)

// URLChecker checks the URL of an endpoint where it is saved
// (netguard.Policy): an HTTP URL, or the host of a message system's.
type URLChecker interface {
	CheckURL(ctx context.Context, raw string) (*url.URL, error)
	CheckHost(ctx context.Context, raw, host string) error
}

// Config configures New.
type Config struct {
	Store Store
	// URLs checks endpoint URLs; required.
	URLs URLChecker
	// Dial connects to the databases of postgres sources to install their
	// change capture (the SSRF guard's dialer); default a plain dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// CheckNotify validates workflows' notify steps (content.CheckRule);
	// nil refuses them.
	CheckNotify func(content.RuleDef) error
	Clock       clock.Clock
	// Invalidate is called with a tenant's id after its resources change
	// (an Apply, a SaveWorkflow that wrote), so routing sees the change at
	// once.
	Invalidate func(tenantID string)
	// EventTypesChanged is called with a tenant's id after an Apply, whose
	// declaration may have changed its event types.
	EventTypesChanged func(tenantID string)
	// SourceChanged is called with the name of each declared source after
	// an Apply.
	SourceChanged func(name string)
}

// Applier applies declarations and checks and saves single resources.
type Applier struct {
	cfg Config
}

// New returns an Applier.
func New(cfg Config) *Applier {
	if cfg.Store == nil || cfg.URLs == nil {
		panic("apply: New needs Store and URLs")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Invalidate == nil {
		cfg.Invalidate = func(string) {}
	}
	if cfg.EventTypesChanged == nil {
		cfg.EventTypesChanged = func(string) {}
	}
	if cfg.SourceChanged == nil {
		cfg.SourceChanged = func(string) {}
	}
	return &Applier{cfg: cfg}
}

// now returns the current time at the precision the store keeps, so an
// answer shows the same times a later read will.
func (a *Applier) now() time.Time { return a.cfg.Clock.Now().UTC().Truncate(time.Millisecond) }

// Apply makes a tenant's resources match d, or with dryRun only reports
// what that would change. See the package documentation for what is
// written when a resource is refused or a write fails: a mistake in d is
// an *Error, and then nothing is written.
func (a *Applier) Apply(ctx context.Context, tenantID string, d wire.Declaration, dryRun bool) (wire.ApplyResult, error) {
	res := wire.ApplyResult{DryRun: dryRun, Changes: []wire.Change{}}
	steps, err := a.plan(ctx, tenantID, d)
	if err != nil {
		return res, err
	}
	if dryRun {
		for _, st := range steps {
			res.Changes = append(res.Changes, st.change)
		}
		return res, nil
	}
	for _, st := range steps {
		if st.install == nil {
			continue
		}
		if err := st.install(ctx); err != nil {
			return res, inResource(st.resource, st.change.Name, err)
		}
	}
	defer func() {
		a.cfg.EventTypesChanged(tenantID)
		a.cfg.Invalidate(tenantID)
		for _, src := range d.Sources {
			a.cfg.SourceChanged(src.Name)
		}
	}()
	for _, st := range steps {
		c := st.change
		if c.Action != Unchanged {
			if err := st.write(ctx); err != nil {
				return res, fmt.Errorf("apply %s %s: %w", c.Kind, c.Name, err)
			}
		}
		res.Changes = append(res.Changes, c)
	}
	return res, nil
}

// step is one resource's change.
type step struct {
	resource string // "sources[1]"
	change   wire.Change
	// install, when set, prepares the change outside the store before any
	// write (a postgres source's capture triggers).
	install func(context.Context) error
	// write makes the change; unset when it is unchanged.
	write func(context.Context) error
}

// plan checks every resource of d and compares it with the stored one. It
// only reads.
func (a *Applier) plan(ctx context.Context, tenantID string, d wire.Declaration) ([]step, error) {
	st := a.cfg.Store
	now := a.now()
	p := &planner{seen: map[string]bool{}}

	planEach(p, "event_type", "event_types", d.EventTypes, func(et wire.EventType) string { return et.Name }, func(et wire.EventType) (step, error) {
		if err := CheckEventType(et); err != nil {
			return step{}, err
		}
		want := store.EventType{TenantID: tenantID, Name: et.Name, Description: et.Description, Schema: schemaBytes(et.Schema), CreatedAt: now}
		cur, err := st.GetEventType(ctx, tenantID, et.Name)
		s := step{change: wire.Change{Kind: "event_type", Name: et.Name}}
		act, err := action(err, cur.Description == want.Description && jsonEqual(cur.Schema, want.Schema))
		if err != nil {
			return s, err
		}
		s.decide(act, func(ctx context.Context) error { return st.CreateEventType(ctx, want) },
			func(ctx context.Context) error { return st.UpdateEventType(ctx, want) })
		return s, nil
	})

	if p.err != nil {
		return nil, p.err
	}
	endpoints, err := listAll(ctx, tenantID, st.ListEndpoints, func(ep store.Endpoint) string { return ep.ID })
	if err != nil {
		return nil, err
	}
	byName := map[string]string{} // endpoint name → id, after this apply
	for _, ep := range endpoints {
		if ep.Name != "" {
			byName[ep.Name] = ep.ID
		}
	}
	planEach(p, "endpoint", "endpoints", d.Endpoints, func(decl wire.EndpointDecl) string { return decl.Name }, func(decl wire.EndpointDecl) (step, error) {
		s, id, err := a.planEndpoint(ctx, tenantID, decl, endpoints, now)
		if err == nil {
			byName[decl.Name] = id
		}
		return s, err
	})

	planEach(p, "source", "sources", d.Sources, func(decl wire.SourceCreate) string { return decl.Name }, func(decl wire.SourceCreate) (step, error) {
		return a.planSource(ctx, tenantID, decl, now)
	})

	collections := map[string]*collection.Spec{} // declared collections
	planEach(p, "collection", "collections", d.Collections, func(decl wire.CollectionSpec) string { return decl.Name }, func(decl wire.CollectionSpec) (step, error) {
		s, spec, err := a.planCollection(ctx, tenantID, decl, now)
		if err == nil {
			collections[decl.Name] = spec
		}
		return s, err
	})

	planEach(p, "workflow", "workflows", d.Workflows, func(decl wire.WorkflowSpec) string { return decl.Name }, func(decl wire.WorkflowSpec) (step, error) {
		return a.planWorkflow(ctx, tenantID, decl)
	})
	planEach(p, "template", "templates", d.Templates, func(decl wire.TemplateSpec) string { return decl.Name }, func(decl wire.TemplateSpec) (step, error) {
		return a.planTemplate(ctx, tenantID, decl)
	})
	planEach(p, "recipient", "recipients", d.Recipients, func(decl wire.Recipient) string { return decl.ID }, func(decl wire.Recipient) (step, error) {
		return a.planRecipient(ctx, tenantID, decl, now)
	})
	planEach(p, "notify_rule", "notify_rules", d.NotifyRules, func(decl wire.NotifyRule) string { return decl.Name }, func(decl wire.NotifyRule) (step, error) {
		return a.planNotifyRule(ctx, tenantID, decl, now)
	})

	if p.err != nil {
		return nil, p.err
	}
	subs, err := listAll(ctx, tenantID, st.ListSubscriptions, func(sub store.Subscription) string { return sub.ID })
	if err != nil {
		return nil, err
	}
	planEach(p, "subscription", "subscriptions", d.Subscriptions, func(decl wire.SubscriptionDecl) string { return decl.Name }, func(decl wire.SubscriptionDecl) (step, error) {
		return a.planSubscription(ctx, tenantID, decl, subs, byName, collections, now)
	})
	if p.err != nil {
		return nil, p.err
	}
	return p.steps, nil
}

// planner gathers the steps of a plan and the names declared so far. Its
// err is the first mistake found: planning stops there.
type planner struct {
	steps []step
	seen  map[string]bool // kind/name
	err   error
}

// planEach plans each declaration of one kind (list names them in
// resources: list[i]) with plan, after checking that name gives it a name
// not declared before. After a mistake, here or before, it does nothing.
func planEach[D any](p *planner, kind, list string, decls []D, name func(D) string, plan func(D) (step, error)) {
	for i, decl := range decls {
		if p.err != nil {
			return
		}
		res, n := fmt.Sprintf("%s[%d]", list, i), name(decl)
		if n == "" {
			p.err = inResource(res, n, field.Errorf("name", "is required in declarations"))
			return
		}
		if p.seen[kind+"/"+n] {
			p.err = inResource(res, n, field.Errorf("name", "%s %q is declared twice", kind, n))
			return
		}
		p.seen[kind+"/"+n] = true
		s, err := plan(decl)
		if err != nil {
			p.err = inResource(res, n, err)
			return
		}
		s.resource = res
		p.steps = append(p.steps, s)
	}
}

// decide makes s do act to its resource: create it when act is Created,
// update it when Updated, nothing when Unchanged.
func (s *step) decide(act string, create, update func(context.Context) error) {
	s.change.Action = act
	switch act {
	case Created:
		s.write = create
	case Updated:
		s.write = update
	}
}

func schemaBytes(raw json.RawMessage) []byte {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	return raw
}

// jsonEqual tells whether two JSON documents have the same value; two
// empty ones are equal, an empty and a non-empty one are not.
func jsonEqual(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

// listPage is how many resources listAll reads at a time.
const listPage = 1000

// listAll pages through a whole list, newest first.
func listAll[T any](ctx context.Context, tenantID string, list func(context.Context, string, store.Page) ([]T, error), id func(T) string) ([]T, error) {
	var out []T
	p := store.Page{Limit: listPage}
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
