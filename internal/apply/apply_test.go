package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/netguard"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
	"github.com/hookline/hookline/internal/workflow"
	"github.com/hookline/hookline/wire"
)

const tenant = "ten_apply"

// full declares one resource of every kind, a subscription to the
// declared endpoint and one to the declared collection. Its keys are in
// another order than the one Apply writes in.
const full = `{
	"subscriptions": [
		{"name": "to-billing", "event_types": ["order.*"], "destination": {"kind": "forward", "endpoint": "billing"}},
		{"name": "customers", "destination": {"kind": "sync", "collection": "customers"}}],
	"notify_rules": [{"name": "shipped", "events": ["order.shipped"], "recipient": "data.customer", "template": "shipped", "channels": ["inbox"]}],
	"recipients": [{"id": "c1", "email": "ada@example.com", "name": "Ada"}],
	"templates": [{"name": "shipped", "subject": "Order {{.data.id}} shipped", "text": "On its way."}],
	"workflows": [{"name": "tell", "on": {"events": ["order.paid"]}, "steps": [
		{"id": "tell", "notify": {"recipient": "data.customer", "template": "shipped", "channels": ["inbox"]}}]}],
	"collections": [{"name": "customers", "key": "data.id", "events": {"customer.created": "upsert", "customer.deleted": "delete"}}],
	"sources": [{"name": "shop", "description": "the shop", "verification": {"kind": "none"}}],
	"endpoints": [{"name": "billing", "url": "http://127.0.0.1:9/hooks"}],
	"event_types": [{"name": "order.paid", "description": "an order was paid"}]
}`

// bundle is what an Apply test works with: an Applier on a real SQLite
// store with one tenant, through a tap that records the writes in order
// and can fail one of them, and what the Applier announced.
type bundle struct {
	store   store.Store
	tap     *tap
	applier *apply.Applier

	mu          sync.Mutex
	invalidated []string // tenants, from Invalidate
	typesOf     []string // tenants, from EventTypesChanged
	sources     []string // names, from SourceChanged
}

func setup(t *testing.T) *bundle {
	t.Helper()
	st := sqlitetest.Open(t, store.Tenant{ID: tenant, Name: tenant, CreatedAt: time.Now()},
		store.Tenant{ID: "ten_other", Name: "ten_other", CreatedAt: time.Now()})
	b := &bundle{store: st, tap: &tap{Store: st}}
	b.applier = apply.New(apply.Config{
		Store: b.tap, URLs: netguard.Policy{AllowPrivate: true}, CheckNotify: content.CheckRule,
		Clock:      clock.NewManual(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)),
		Invalidate: func(id string) { b.mu.Lock(); b.invalidated = append(b.invalidated, id); b.mu.Unlock() },
		EventTypesChanged: func(id string) {
			b.mu.Lock()
			b.typesOf = append(b.typesOf, id)
			b.mu.Unlock()
		},
		SourceChanged: func(name string) { b.mu.Lock(); b.sources = append(b.sources, name); b.mu.Unlock() },
	})
	return b
}

func declaration(t *testing.T, src string) wire.Declaration {
	t.Helper()
	var d wire.Declaration
	require.NoError(t, json.Unmarshal([]byte(src), &d))
	return d
}

// changes lists a result's changes as "kind name action".
func changes(res wire.ApplyResult) []string {
	out := make([]string, len(res.Changes))
	for i, c := range res.Changes {
		out[i] = c.Kind + " " + c.Name + " " + c.Action
	}
	return out
}

// stored lists what the tenant has of each kind full declares, as
// "kind name".
func (b *bundle) stored(t *testing.T) []string {
	t.Helper()
	ctx := t.Context()
	var out []string
	if _, err := b.store.GetEventType(ctx, tenant, "order.paid"); err == nil {
		out = append(out, "event_type order.paid")
	}
	eps, err := b.store.ListEndpoints(ctx, tenant, store.Page{Limit: 100})
	require.NoError(t, err)
	for _, ep := range eps {
		out = append(out, "endpoint "+ep.Name)
	}
	srcs, err := b.store.ListSources(ctx, tenant, store.Page{Limit: 100})
	require.NoError(t, err)
	for _, s := range srcs {
		out = append(out, "source "+s.Name)
	}
	if _, err := b.store.GetCollection(ctx, tenant, "customers"); err == nil {
		out = append(out, "collection customers")
	}
	if _, err := b.store.GetWorkflow(ctx, tenant, "tell", 0); err == nil {
		out = append(out, "workflow tell")
	}
	if _, err := b.store.GetTemplate(ctx, tenant, "shipped", 0); err == nil {
		out = append(out, "template shipped")
	}
	if _, err := b.store.GetRecipient(ctx, tenant, "c1"); err == nil {
		out = append(out, "recipient c1")
	}
	if _, err := b.store.GetNotifyRule(ctx, tenant, "shipped"); err == nil {
		out = append(out, "notify_rule shipped")
	}
	subs, err := b.store.ListSubscriptions(ctx, tenant, store.Page{Limit: 100})
	require.NoError(t, err)
	for _, s := range subs {
		out = append(out, "subscription "+s.Name)
	}
	return out
}

// TestApplyCreatesInOrder: every declared resource is created, in the
// documented order whatever the declaration's order (so a subscription is
// written after the endpoint and collection it names), and the tenant's
// caches and routing are told.
func TestApplyCreatesInOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res, err := b.applier.Apply(t.Context(), tenant, declaration(t, full), false)
	require.NoError(t, err)
	want := []string{
		"event_type order.paid created", "endpoint billing created", "source shop created", "collection customers created",
		"workflow tell created", "template shipped created", "recipient c1 created", "notify_rule shipped created",
		"subscription to-billing created", "subscription customers created",
	}
	require.Equal(t, want, changes(res))
	require.False(t, res.DryRun)
	require.Equal(t, []string{
		"CreateEventType order.paid", "CreateEndpoint billing", "CreateSource shop", "CreateCollection customers",
		"CreateWorkflow tell", "CreateTemplate shipped", "UpsertRecipient c1", "CreateNotifyRule shipped",
		"CreateSubscription to-billing", "CreateSubscription customers",
	}, b.tap.done(), "written in the order of the result")

	ctx := t.Context()
	eps, err := b.store.ListEndpoints(ctx, tenant, store.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, eps, 1)
	require.Equal(t, eps[0].ID, res.Changes[1].ID)
	require.Equal(t, eps[0].Secrets[0].Key, res.Changes[1].Secret, "the generated secret is shown once, in the result")
	subs, err := b.store.ListSubscriptions(ctx, tenant, store.Page{Limit: 10})
	require.NoError(t, err)
	byName := map[string]store.Subscription{}
	for _, s := range subs {
		byName[s.Name] = s
	}
	require.Equal(t, eps[0].ID, byName["to-billing"].DestinationID, "a forward subscription names its endpoint by id")
	require.Equal(t, collection.Kind, byName["customers"].Kind)
	require.ElementsMatch(t, []string{"customer.created", "customer.deleted"}, byName["customers"].EventTypes,
		"a sync subscription without event types takes its collection's")
	src, err := b.store.SourceByName(ctx, "shop")
	require.NoError(t, err)
	require.Equal(t, "the shop", src.Description)

	b.mu.Lock()
	defer b.mu.Unlock()
	require.Equal(t, []string{tenant}, b.typesOf)
	require.Contains(t, b.invalidated, tenant)
	require.Equal(t, []string{"shop"}, b.sources)
}

// TestApplyAgainIsUnchanged: a declaration applied again writes nothing
// and reports every resource unchanged; a change to one resource updates
// that one only.
func TestApplyAgainIsUnchanged(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := declaration(t, full)
	_, err := b.applier.Apply(t.Context(), tenant, d, false)
	require.NoError(t, err)
	b.tap.reset()

	res, err := b.applier.Apply(t.Context(), tenant, declaration(t, full), false)
	require.NoError(t, err)
	require.Len(t, res.Changes, 10)
	for _, c := range res.Changes {
		require.Equal(t, apply.Unchanged, c.Action, "%s %s", c.Kind, c.Name)
	}
	require.Empty(t, b.tap.done(), "nothing unchanged is written")
	require.Empty(t, res.Changes[1].Secret, "an existing endpoint's secret is not shown again")

	changed := strings.Replace(full, `"description": "the shop"`, `"description": "the new shop"`, 1)
	res, err = b.applier.Apply(t.Context(), tenant, declaration(t, changed), false)
	require.NoError(t, err)
	require.Contains(t, changes(res), "source shop updated")
	for _, c := range res.Changes {
		if c.Kind != "source" {
			require.Equal(t, apply.Unchanged, c.Action, "%s %s", c.Kind, c.Name)
		}
	}
	require.Equal(t, []string{"UpdateSource shop"}, b.tap.done())
	src, err := b.store.SourceByName(t.Context(), "shop")
	require.NoError(t, err)
	require.Equal(t, "the new shop", src.Description)
}

// TestApplyDryRunWritesNothing: a dry run reports what would change and
// writes nothing, and tells nobody.
func TestApplyDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res, err := b.applier.Apply(t.Context(), tenant, declaration(t, full), true)
	require.NoError(t, err)
	require.True(t, res.DryRun)
	require.Len(t, res.Changes, 10)
	for _, c := range res.Changes {
		require.Equal(t, apply.Created, c.Action, "%s %s", c.Kind, c.Name)
	}
	require.Empty(t, b.stored(t))
	require.Empty(t, b.tap.done())
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Empty(t, b.invalidated)
	require.Empty(t, b.sources)
}

// TestApplyRefusesWholeDeclaration: one resource with a mistake among
// valid ones is an *apply.Error naming it, its name and the field, and
// nothing of the declaration is written.
func TestApplyRefusesWholeDeclaration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		edit     func(d *wire.Declaration)
		resource string
		field    string
		message  string
	}{
		{
			name:     "a field",
			edit:     func(d *wire.Declaration) { d.Sources[0].Verification.Kind = "strype" },
			resource: "sources[0]", field: "verification.kind", message: `sources[0] (shop): verification.kind: "strype" is not one of`,
		},
		{
			name: "a name declared twice",
			edit: func(d *wire.Declaration) {
				d.Endpoints = append(d.Endpoints, d.Endpoints[0])
			},
			resource: "endpoints[1]", field: "name", message: `endpoints[1] (billing): name: endpoint "billing" is declared twice`,
		},
		{
			name:     "a destination that does not exist",
			edit:     func(d *wire.Declaration) { d.Subscriptions[0].Destination.Endpoint = "nowhere" },
			resource: "subscriptions[0]", field: "destination.endpoint",
			message: `subscriptions[0] (to-billing): destination.endpoint: no endpoint named "nowhere" (declare it under endpoints or create it first)`,
		},
		{
			name: "a workflow's mistakes",
			edit: func(d *wire.Declaration) {
				d.Workflows[0].Steps[0].ID = "no good"
				d.Workflows[0].On.Events = nil
			},
			resource: "workflows[0]", field: "on.events",
			message: `workflows[0] (tell): on.events: is required: the event types that start a run, e.g. ["order.created"] (or give on.schedule, or on.manual: true) (and 1 more)`,
		},
		{
			name:     "a notify step the content rules refuse",
			edit:     func(d *wire.Declaration) { d.Workflows[0].Steps[0].Notify.WebhookType = "x.y" },
			resource: "workflows[0]", field: "steps[0].notify",
			message: `workflows[0] (tell): steps[0].notify: webhook_type: is for notify rules only`,
		},
		{
			name:     "a recipient without an id",
			edit:     func(d *wire.Declaration) { d.Recipients[0].ID = "" },
			resource: "recipients[0]", field: "name", message: `recipients[0] (): name: is required in declarations`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			d := declaration(t, full)
			tc.edit(&d)
			res, err := b.applier.Apply(t.Context(), tenant, d, false)
			var ae *apply.Error
			require.ErrorAs(t, err, &ae)
			require.Equal(t, tc.resource, ae.Resource)
			require.Equal(t, tc.field, ae.Field())
			require.True(t, strings.HasPrefix(ae.Error(), tc.message), "%s", ae.Error())
			require.Empty(t, res.Changes)
			require.Empty(t, b.stored(t), "nothing is written")
			require.Empty(t, b.tap.done())
		})
	}
}

// TestApplySourceNameOfAnotherTenant: source names are global; one
// another tenant has is a conflict in the declaring resource.
func TestApplySourceNameOfAnotherTenant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.applier.Apply(t.Context(), "ten_other", declaration(t, `{"sources": [{"name": "shop", "verification": {"kind": "none"}}]}`), false)
	require.NoError(t, err)
	b.tap.reset()
	_, err = b.applier.Apply(t.Context(), tenant, declaration(t, full), false)
	var ae *apply.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "sources[0]", ae.Resource)
	require.Empty(t, ae.Field())
	require.ErrorIs(t, err, store.ErrConflict)
	require.EqualError(t, err, `sources[0] (shop): source name "shop" is taken`)
	require.Empty(t, b.tap.done())
}

// TestApplyCaptureRefusedWritesNothing: the change capture of a postgres
// source is installed before anything is written, so a watched database
// out of reach refuses the declaration, at the source, writing nothing.
func TestApplyCaptureRefusedWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	d := declaration(t, full)
	d.Sources = append(d.Sources, wire.SourceCreate{Name: "shopdb",
		Postgres: &wire.SourcePostgres{DSN: "postgres://u@127.0.0.1:1/shop?connect_timeout=2", Tables: []string{"orders"}}})
	_, err := b.applier.Apply(t.Context(), tenant, d, false)
	var ae *apply.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "sources[1]", ae.Resource)
	require.Equal(t, "postgres", ae.Field())
	require.Contains(t, ae.Error(), "sources[1] (shopdb): postgres: cannot install change capture: ")
	require.Empty(t, b.stored(t))
	require.Empty(t, b.tap.done())

	res, err := b.applier.Apply(t.Context(), tenant, d, true)
	require.NoError(t, err, "a dry run installs nothing")
	require.Contains(t, changes(res), "source shopdb created")
}

// TestApplyWriteFailsMidway: when a write fails, the changes before it
// stay written and are in the result returned with the error, the rest
// are not written, and the tenant's caches and routing are told about
// what was; applying again finishes the job.
func TestApplyWriteFailsMidway(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fault := errors.New("disk on fire")
	b.tap.failOn("CreateTemplate", fault)
	res, err := b.applier.Apply(t.Context(), tenant, declaration(t, full), false)
	require.ErrorIs(t, err, fault)
	require.EqualError(t, err, "apply template shipped: disk on fire")
	written := []string{"event_type order.paid", "endpoint billing", "source shop", "collection customers", "workflow tell"}
	require.Equal(t, written, b.stored(t))
	require.Len(t, res.Changes, len(written))
	for i, c := range res.Changes {
		require.Equal(t, written[i], c.Kind+" "+c.Name)
	}
	b.mu.Lock()
	require.Contains(t, b.invalidated, tenant)
	require.Equal(t, []string{"shop"}, b.sources)
	b.mu.Unlock()

	b.tap.failOn("", nil)
	res, err = b.applier.Apply(t.Context(), tenant, declaration(t, full), false)
	require.NoError(t, err)
	require.Equal(t, []string{
		"event_type order.paid unchanged", "endpoint billing unchanged", "source shop unchanged", "collection customers unchanged",
		"workflow tell unchanged", "template shipped created", "recipient c1 created", "notify_rule shipped created",
		"subscription to-billing created", "subscription customers created",
	}, changes(res))
}

// TestSaveWorkflow: a spec saves a version when it differs from the
// latest; enabling or disabling alone changes no version.
func TestSaveWorkflow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	spec := declaration(t, full).Workflows[0]
	_, err := b.applier.CompileWorkflow(spec)
	require.NoError(t, err)
	sw, action, err := b.applier.SaveWorkflow(t.Context(), tenant, spec)
	require.NoError(t, err)
	require.Equal(t, apply.Created, action)
	require.Equal(t, 1, sw.Version)
	_, action, err = b.applier.SaveWorkflow(t.Context(), tenant, spec)
	require.NoError(t, err)
	require.Equal(t, apply.Unchanged, action)
	off := false
	spec.Enabled = &off
	sw, action, err = b.applier.SaveWorkflow(t.Context(), tenant, spec)
	require.NoError(t, err)
	require.Equal(t, apply.Updated, action)
	require.Equal(t, 1, sw.Version)
	require.False(t, sw.Enabled)
	spec.Description = "v2"
	sw, action, err = b.applier.SaveWorkflow(t.Context(), tenant, spec)
	require.NoError(t, err)
	require.Equal(t, apply.Updated, action)
	require.Equal(t, 2, sw.Version)

	refused := apply.New(apply.Config{Store: b.store, URLs: netguard.Policy{}})
	_, err = refused.CompileWorkflow(spec)
	require.Equal(t, "steps[0].notify", workflow.Errors(err)[0].Path, "without CheckNotify, notify steps are refused")
}

// tap is the store Apply writes through: it records each write, in order,
// and fails the one named by failOn.
type tap struct {
	apply.Store
	mu     sync.Mutex
	writes []string
	fail   string
	err    error
}

func (t *tap) failOn(method string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fail, t.err = method, err
}

func (t *tap) done() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.writes...)
}

func (t *tap) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.writes = nil
}

// write records a write, or refuses it with the fault.
func (t *tap) write(method, name string, do func() error) error {
	t.mu.Lock()
	if method == t.fail {
		t.mu.Unlock()
		return t.err
	}
	t.writes = append(t.writes, method+" "+name)
	t.mu.Unlock()
	return do()
}

func (t *tap) CreateEventType(ctx context.Context, et store.EventType) error {
	return t.write("CreateEventType", et.Name, func() error { return t.Store.CreateEventType(ctx, et) })
}

func (t *tap) UpdateEventType(ctx context.Context, et store.EventType) error {
	return t.write("UpdateEventType", et.Name, func() error { return t.Store.UpdateEventType(ctx, et) })
}

func (t *tap) CreateEndpoint(ctx context.Context, ep store.Endpoint) error {
	return t.write("CreateEndpoint", ep.Name, func() error { return t.Store.CreateEndpoint(ctx, ep) })
}

func (t *tap) UpdateEndpoint(ctx context.Context, ep store.Endpoint) error {
	return t.write("UpdateEndpoint", ep.Name, func() error { return t.Store.UpdateEndpoint(ctx, ep) })
}

func (t *tap) SetEndpointFailing(ctx context.Context, tenantID, id string, since time.Time) error {
	return t.write("SetEndpointFailing", id, func() error { return t.Store.SetEndpointFailing(ctx, tenantID, id, since) })
}

func (t *tap) CreateSource(ctx context.Context, src store.Source) error {
	return t.write("CreateSource", src.Name, func() error { return t.Store.CreateSource(ctx, src) })
}

func (t *tap) UpdateSource(ctx context.Context, src store.Source) error {
	return t.write("UpdateSource", src.Name, func() error { return t.Store.UpdateSource(ctx, src) })
}

func (t *tap) CreateSubscription(ctx context.Context, sub store.Subscription) error {
	return t.write("CreateSubscription", sub.Name, func() error { return t.Store.CreateSubscription(ctx, sub) })
}

func (t *tap) UpdateSubscription(ctx context.Context, sub store.Subscription) error {
	return t.write("UpdateSubscription", sub.Name, func() error { return t.Store.UpdateSubscription(ctx, sub) })
}

func (t *tap) CreateCollection(ctx context.Context, c store.Collection) error {
	return t.write("CreateCollection", c.Name, func() error { return t.Store.CreateCollection(ctx, c) })
}

func (t *tap) UpdateCollection(ctx context.Context, c store.Collection) error {
	return t.write("UpdateCollection", c.Name, func() error { return t.Store.UpdateCollection(ctx, c) })
}

func (t *tap) CreateWorkflow(ctx context.Context, w store.Workflow) error {
	return t.write("CreateWorkflow", w.Name, func() error { return t.Store.CreateWorkflow(ctx, w) })
}

func (t *tap) SetWorkflowEnabled(ctx context.Context, tenantID, name string, enabled bool) error {
	return t.write("SetWorkflowEnabled", name, func() error { return t.Store.SetWorkflowEnabled(ctx, tenantID, name, enabled) })
}

func (t *tap) CreateTemplate(ctx context.Context, tp store.Template) error {
	return t.write("CreateTemplate", tp.Name, func() error { return t.Store.CreateTemplate(ctx, tp) })
}

func (t *tap) UpsertRecipient(ctx context.Context, r store.Recipient) error {
	return t.write("UpsertRecipient", r.ID, func() error { return t.Store.UpsertRecipient(ctx, r) })
}

func (t *tap) CreateNotifyRule(ctx context.Context, r store.NotifyRule) error {
	return t.write("CreateNotifyRule", r.Name, func() error { return t.Store.CreateNotifyRule(ctx, r) })
}

func (t *tap) UpdateNotifyRule(ctx context.Context, r store.NotifyRule) error {
	return t.write("UpdateNotifyRule", r.Name, func() error { return t.Store.UpdateNotifyRule(ctx, r) })
}
