package apply_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/store"
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
