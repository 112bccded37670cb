package apply_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/content/render"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/workflow"
	"github.com/hookline/hookline/wire"
)

// The documents below were stored by the version whose domain packages
// compiled the wire types themselves (before the domains had types of
// their own). Existing databases hold them: they must read back the same,
// and the same spec must store the same bytes.

// storedAt is when the documents below were stored.
var storedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// A collection with every part: operations by name and with a map, a
// fetch and a mirror, whose secrets are stored apart.
const (
	collectionIn = `{"name": "customers", "key": "data.id", "version": "data.updated_at", "record": "data",
		"events": {"customer.deleted": "delete", "customer.*": {"op": "upsert", "map": {"set": {"full": "record.first + ' ' + record.last"}, "rename": {"mail": "email"}, "drop": ["secret"]}}},
		"map": {"drop": ["internal"]},
		"fetch": {"url": "https://api.example.com/c/{{ key }}", "headers": {"Authorization": "Bearer s3cret"}, "record": "response.customer", "timeout": "5s"},
		"mirror": {"dsn": "postgres://u:pw@db:5432/app", "table": "public.customers", "key_column": "cid", "create": true,
			"columns": [{"name": "email", "value": "record.email"}, {"name": "n", "value": "record.n", "type": "bigint"}]}}`
	collectionStored       = `{"name":"customers","key":"data.id","version":"data.updated_at","record":"data","events":{"customer.*":{"op":"upsert","map":{"set":{"full":"record.first + ' ' + record.last"},"rename":{"mail":"email"},"drop":["secret"]}},"customer.deleted":"delete"},"map":{"drop":["internal"]},"fetch":{"url":"https://api.example.com/c/{{ key }}","record":"response.customer","timeout":"5s"},"mirror":{"dsn":"","table":"public.customers","key_column":"cid","columns":[{"name":"email","value":"record.email"},{"name":"n","value":"record.n","type":"bigint"}],"create":true}}`
	collectionStoredSecret = `{"fetch_headers":{"Authorization":"Bearer s3cret"},"mirror_dsn":"postgres://u:pw@db:5432/app"}`
	collectionMinIn        = `{"name": "m", "key": "data.id", "events": {"a.b": "merge"}}`
	collectionMinStored    = `{"name":"m","key":"data.id","events":{"a.b":"merge"}}`
)

func TestStoredCollection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, spec, secret string
	}{
		{"full", collectionIn, collectionStored, collectionStoredSecret},
		{"minimal", collectionMinIn, collectionMinStored, `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var in wire.CollectionSpec
			require.NoError(t, json.Unmarshal([]byte(tc.in), &in))
			c, _, err := apply.Collection(tenant, in, storedAt)
			require.NoError(t, err)
			require.Equal(t, tc.spec, string(c.Spec), "the same spec stores the same bytes")
			require.Equal(t, tc.secret, string(c.Secret))

			stored := store.Collection{TenantID: tenant, Name: in.Name, Spec: []byte(tc.spec), Secret: []byte(tc.secret), CreatedAt: storedAt, UpdatedAt: storedAt}
			spec, err := collection.Parse(stored)
			require.NoError(t, err, "a stored spec compiles")
			require.Equal(t, in.Name, spec.Name)
			def, err := collection.Join(stored)
			require.NoError(t, err)
			require.Equal(t, apply.CollectionDef(in), def, "a stored spec reads back as it was declared")

			out, err := apply.CollectionOut(stored)
			require.NoError(t, err)
			shown := in
			if in.Fetch != nil {
				f := *in.Fetch
				f.Headers = map[string]string{"Authorization": "redacted"}
				shown.Fetch = &f
			}
			if in.Mirror != nil {
				m := *in.Mirror
				m.DSN = collection.RedactDSN(m.DSN)
				shown.Mirror = &m
			}
			require.Equal(t, shown, out.CollectionSpec, "the API shows it as declared, secrets redacted")
		})
	}
}

// The collection.{name}.changed event carries a change as the changes
// feed shows it.
func TestChangedEventIsTheFeedsChange(t *testing.T) {
	t.Parallel()
	c := store.Change{TenantID: tenant, Collection: "customers", Seq: 7, Key: "c1", Op: store.OpUpsert,
		Data: json.RawMessage(`{"id":"c1"}`), Version: "n:42", EventID: "evt_1", At: time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("x", 3600))}
	feed, err := json.Marshal(apply.ChangeOut(c))
	require.NoError(t, err)
	event, err := collection.ChangedData(c)
	require.NoError(t, err)
	require.Equal(t, string(feed), string(event))
	c.Data, c.EventID, c.Op = nil, "", store.OpDelete
	feed, _ = json.Marshal(apply.ChangeOut(c))
	event, _ = collection.ChangedData(c)
	require.Equal(t, string(feed), string(event))
}

// A workflow with a step of every kind, a notify step among them (its
// "enabled" kept as written), saved disabled: enabled is the workflow's
// row, never its stored spec.
const (
	workflowStored     = `{"name":"onboard","description":"d","on":{"events":["user.created"],"if":"data.plan == 'pro'"},"steps":[{"id":"call","http":{"method":"POST","url":"https://x.example.com/{{ event.data.id }}","headers":{"X-A":"b"},"body":"{}","expect":[200,201]},"retry":{"attempts":3,"backoff":"fixed","initial":"2s","max":"1m","statuses":[503]},"timeout":"10s","on_error":"continue"},{"id":"emit","emit":{"type":"user.greeted","data":{"id":"{{ event.data.id }}","n":1}}},{"id":"vars","set":{"x":"1"}},{"id":"branch","if":{"condition":"vars.x == 1","then":"sw","else":"sw"}},{"id":"sw","switch":{"value":"vars.x","cases":{"1":"wait"},"default":"wait"}},{"id":"wait","delay":{"for":"1m"}},{"id":"until","delay":{"until":"{{ event.data.at }}"}},{"id":"w","wait_for":{"event":"user.verified","match":"event.data.id == trigger.data.id","timeout":"1h","on_timeout":"bye"}},{"id":"s","sync":{"collection":"users","record":"event.data"}},{"id":"n","notify":{"name":"welcome","if":"true","recipient":"event.data.id","template":"welcome","channels":["email","inbox"],"category":"onboarding","lookups":[{"name":"acct","collection":"accounts","key":"data.acct"}],"send_at":"event.data.at","page_ttl":"1h","track":false,"enabled":true}},{"id":"bye","fail":{"message":"bye {{ event.id }}"}}],"error_workflow":"oops"}`
	workflowBareStored = `{"name":"bare","on":{"events":["a.b"]},"steps":[{"id":"s","set":{"a":"1"}}]}`
)

func TestStoredWorkflow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := t.Context()
	runner := workflow.New(workflow.Config{Store: b.store, CheckNotify: content.CheckRule})
	for _, tc := range []struct {
		stored  string
		enabled bool
	}{{workflowStored, false}, {workflowBareStored, true}} {
		var in wire.WorkflowSpec
		require.NoError(t, json.Unmarshal([]byte(tc.stored), &in))
		if !tc.enabled {
			in.Enabled = &tc.enabled
		}
		sw, action, err := b.applier.SaveWorkflow(ctx, tenant, in)
		require.NoError(t, err)
		require.Equal(t, apply.Created, action)
		require.Equal(t, tc.stored, string(sw.Spec), "the same spec stores the same bytes")
		require.Equal(t, tc.enabled, sw.Enabled)

		w, _, err := runner.Load(ctx, tenant, in.Name, 0)
		require.NoError(t, err, "a stored spec compiles")
		require.Equal(t, in.On.Events, w.Patterns())
		shown := in
		shown.Enabled = nil
		require.Equal(t, shown, apply.WorkflowOut(sw).WorkflowSpec, "the API shows it as declared")
		_, action, err = b.applier.SaveWorkflow(ctx, tenant, in)
		require.NoError(t, err)
		require.Equal(t, apply.Unchanged, action)
	}
}

// A notify rule with every part, saved disabled.
const ruleStored = `{"name":"shipped","events":["order.shipped"],"if":"data.total \u003e 10","recipient":"data.customer_id","directory":{"collection":"people","email":"record.email","name":"record.name","locale":"record.locale","time_zone":"record.tz"},"template":"shipped","digest_template":"digest","channels":["email","webhook"],"category":"orders","lookups":[{"name":"order","url":"https://x.example.com/o/{{ data.id }}","headers":{"Authorization":"Bearer t"}},{"name":"c","collection":"cust","key":"data.c"}],"send_at":"data.at","page_ttl":"24h","webhook_type":"order.notified","track":false}`

func TestStoredNotifyRule(t *testing.T) {
	t.Parallel()
	var in wire.NotifyRule
	require.NoError(t, json.Unmarshal([]byte(ruleStored), &in))
	off := false
	in.Enabled = &off
	sr, err := apply.NotifyRule(tenant, in, storedAt)
	require.NoError(t, err)
	require.Equal(t, ruleStored, string(sr.Spec), "the same rule stores the same bytes")
	require.False(t, sr.Enabled)

	r, err := content.ParseRule(sr)
	require.NoError(t, err, "a stored rule compiles")
	require.Equal(t, "shipped", r.Name)
	out := apply.NotifyRuleOut(sr)
	shown := in
	shown.Lookups = []wire.Lookup{in.Lookups[0], in.Lookups[1]}
	shown.Lookups[0].Headers = map[string]string{"Authorization": "redacted"}
	require.Equal(t, shown, out.NotifyRule, "the API shows it as declared, lookup headers redacted")
}

// A recipient's prefs with every part, and with empty quiet hours.
const (
	prefsStored      = `{"channels":{"email":false},"categories":{"news":{"inbox":false}},"quiet_hours":{"start":"22:00","end":"07:00"},"digest":{"news":"daily@08:00"}}`
	emptyQuietStored = `{"quiet_hours":{"start":"","end":""}}`
)

func TestStoredRecipientPrefs(t *testing.T) {
	t.Parallel()
	for _, stored := range []string{prefsStored, emptyQuietStored, `{}`} {
		var in wire.RecipientPrefs
		require.NoError(t, json.Unmarshal([]byte(stored), &in))
		rec, err := apply.Recipient(tenant, wire.Recipient{ID: "r1", Prefs: in}, storedAt)
		require.NoError(t, err)
		require.Equal(t, stored, string(rec.Prefs), "the same prefs store the same bytes")
		require.Equal(t, in, apply.RecipientOut(rec).Prefs, "stored prefs read back as declared")
	}
}

// A template with every part.
const templateStored = `{"name":"shipped","subject":"Shipped {{ .data.id }}","text":"t","html":"\u003cp\u003eh\u003c/p\u003e","locales":{"fr":{"subject":"Expédié"}},"default_locale":"en","strict":true}`

func TestStoredTemplate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var in wire.TemplateSpec
	require.NoError(t, json.Unmarshal([]byte(templateStored), &in))
	st, action, err := b.applier.SaveTemplate(t.Context(), tenant, in)
	require.NoError(t, err)
	require.Equal(t, apply.Created, action)
	require.Equal(t, templateStored, string(st.Spec), "the same template stores the same bytes")
	require.Equal(t, in, apply.TemplateOut(st).TemplateSpec)
	spec, err := content.RenderSpec(st.Spec)
	require.NoError(t, err)
	_, err = render.Compile(spec)
	require.NoError(t, err, "a stored template compiles")
}
