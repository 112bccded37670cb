package collection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
)

const tenant = "ten_test"

func openStore(t testing.TB) store.Store {
	t.Helper()
	return sqlitetest.Open(t, store.Tenant{ID: tenant, Name: "test", CreatedAt: time.Now()})
}

// newCollection stores spec and returns its compiled form.
func newCollection(t testing.TB, s store.Store, in collection.Def) *collection.Spec {
	t.Helper()
	spec, err := collection.Compile(in)
	require.NoError(t, err)
	body, secret, err := collection.Split(in)
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Millisecond)
	require.NoError(t, s.CreateCollection(context.Background(), store.Collection{TenantID: tenant, Name: in.Name, Spec: body, Secret: secret, CreatedAt: now, UpdatedAt: now}))
	return spec
}

func customers(name string) collection.Def {
	return collection.Def{
		Name: name, Key: "data.id", Version: "data.version",
		Events: map[string]collection.OpDef{
			"customer.created": {Op: "upsert"}, "customer.updated": {Op: "upsert"},
			"customer.patched": {Op: "merge"}, "customer.deleted": {Op: "delete"},
		},
	}
}

var seq atomic.Int64

func ev(typ string, data any) *event.Event {
	b, _ := json.Marshal(data)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seq.Add(1)) * time.Millisecond)
	return &event.Event{ID: event.NewID(event.PrefixEvent, at), TenantID: tenant, Type: typ, Data: b, OccurredAt: at, CreatedAt: at}
}

func apply(t testing.TB, svc *collection.Service, spec *collection.Spec, e *event.Event) collection.Result {
	t.Helper()
	res, ok, err := svc.ApplyEvent(context.Background(), spec, e)
	require.NoError(t, err)
	require.True(t, ok, "no operation for %s", e.Type)
	return res
}

func record(t testing.TB, s store.Store, coll, key string) store.Record {
	t.Helper()
	r, err := s.GetRecord(context.Background(), tenant, coll, key)
	require.NoError(t, err)
	return r
}

func TestSemantics(t *testing.T) {
	s := openStore(t)
	svc := collection.New(collection.Config{Store: s})
	spec := newCollection(t, s, customers("customers"))

	created := ev("customer.created", map[string]any{"id": 7, "version": 1, "name": "Ada", "email": "ada@example.com"})
	require.Equal(t, collection.Applied, apply(t, svc, spec, created).Outcome)
	require.Equal(t, collection.Duplicate, apply(t, svc, spec, created).Outcome, "the same event twice changes nothing")

	patched := ev("customer.patched", map[string]any{"id": 7, "version": 3, "email": nil, "plan": "pro"})
	require.Equal(t, collection.Applied, apply(t, svc, spec, patched).Outcome)
	r := record(t, s, "customers", "7")
	require.JSONEq(t, `{"id":7,"version":3,"name":"Ada","plan":"pro"}`, string(r.Data), "merge patch: null removes, fields add")

	// An upsert older than the merge but newer than the create arrives
	// late: it replaces what the create wrote, the merge's fields stay —
	// as if they had arrived in version order.
	late := ev("customer.updated", map[string]any{"id": 7, "version": 2, "name": "Late", "email": "late@example.com"})
	require.Equal(t, collection.Applied, apply(t, svc, spec, late).Outcome)
	r = record(t, s, "customers", "7")
	require.JSONEq(t, `{"id":7,"version":3,"name":"Late","plan":"pro"}`, string(r.Data))
	require.Equal(t, "n:3", r.Version)

	old := ev("customer.updated", map[string]any{"id": 7, "version": 1, "name": "Old"})
	res := apply(t, svc, spec, old)
	require.Equal(t, collection.Stale, res.Outcome, "an older version is skipped")
	require.Equal(t, int64(3), record(t, s, "customers", "7").Seq)

	t.Run("tombstone", func(t *testing.T) {
		require.Equal(t, collection.Applied, apply(t, svc, spec, ev("customer.deleted", map[string]any{"id": 7, "version": 5})).Outcome)
		require.Equal(t, collection.Stale, apply(t, svc, spec, ev("customer.updated", map[string]any{"id": 7, "version": 3, "name": "Zombie"})).Outcome)
		r := record(t, s, "customers", "7")
		require.True(t, r.Deleted, "a late, older upsert cannot resurrect a deleted record")
		require.Nil(t, r.Data)
		require.Equal(t, collection.Applied, apply(t, svc, spec, ev("customer.created", map[string]any{"id": 7, "version": 6, "name": "Back"})).Outcome)
		require.False(t, record(t, s, "customers", "7").Deleted)
	})

	t.Run("delete before create", func(t *testing.T) {
		require.Equal(t, collection.Applied, apply(t, svc, spec, ev("customer.deleted", map[string]any{"id": 8, "version": 2})).Outcome)
		require.Equal(t, collection.Stale, apply(t, svc, spec, ev("customer.created", map[string]any{"id": 8, "version": 1})).Outcome)
	})

	t.Run("big numbers survive", func(t *testing.T) {
		e := ev("customer.created", nil)
		e.Data = []byte(`{"id": 12345678901234567890, "version": 9007199254740993, "n": 9007199254740993}`)
		require.Equal(t, "12345678901234567890", apply(t, svc, spec, e).Key)
		r := record(t, s, "customers", "12345678901234567890")
		require.Contains(t, string(r.Data), "9007199254740993")
		e2 := ev("customer.updated", nil)
		e2.Data = []byte(`{"id": 12345678901234567890, "version": 9007199254740992}`)
		require.Equal(t, collection.Stale, apply(t, svc, spec, e2).Outcome, "versions compare exactly beyond 2^53")
	})

	t.Run("changes feed", func(t *testing.T) {
		cs, err := s.ListChanges(context.Background(), tenant, "customers", 0, 100)
		require.NoError(t, err)
		for i, c := range cs {
			require.Equal(t, int64(i+1), c.Seq)
		}
		require.Equal(t, store.OpMerge, cs[1].Op)
	})
}

func TestBadInput(t *testing.T) {
	s := openStore(t)
	svc := collection.New(collection.Config{Store: s})
	spec := newCollection(t, s, customers("customers"))
	apply(t, svc, spec, ev("customer.created", map[string]any{"id": 1, "version": 1, "name": "Ada"}))

	for _, tc := range []struct {
		name string
		data string
		code string
		msg  string
	}{
		{"missing key", `{"version": 2}`, "invalid_key", "key: data.id is missing"},
		{"object key", `{"id": {"a": 1}, "version": 2}`, "invalid_key", "a key must be a string or a number"},
		{"missing version", `{"id": 1}`, "invalid_version", "version: data.version is missing"},
		{"bool version", `{"id": 1, "version": true}`, "invalid_version", "a version must be a number or an RFC 3339 time"},
		{"version type changes", `{"id": 1, "version": "2026-01-01T00:00:00Z"}`, "invalid_version", "version type changed: the record's version is a number, this one a time"},
		{"word version", `{"id": 1, "version": "abc"}`, "invalid_version", `"abc" is neither a number nor an RFC 3339 time`},
		{"data not object", `[1,2]`, "invalid_key", "key: data.id is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := ev("customer.updated", nil)
			e.Data = []byte(tc.data)
			_, _, err := svc.ApplyEvent(context.Background(), spec, e)
			var ie *collection.InputError
			require.ErrorAs(t, err, &ie)
			require.Equal(t, tc.code, ie.Code)
			require.ErrorContains(t, err, tc.msg)
			r := record(t, s, "customers", "1")
			require.JSONEq(t, `{"id":1,"version":1,"name":"Ada"}`, string(r.Data), "record untouched")
			require.Equal(t, int64(1), r.Seq)
		})
	}

	t.Run("mapping error", func(t *testing.T) {
		in := customers("mapped")
		in.Map = &collection.MapDef{Set: map[string]string{"total": "record.price * record.qty"}}
		spec := newCollection(t, s, in)
		_, _, err := svc.ApplyEvent(context.Background(), spec, ev("customer.created", map[string]any{"id": 1, "version": 1, "price": "x", "qty": 2}))
		var ie *collection.InputError
		require.ErrorAs(t, err, &ie)
		require.Equal(t, "mapping_failed", ie.Code)
		require.ErrorContains(t, err, "map.set.total")
		_, err = s.GetRecord(context.Background(), tenant, "mapped", "1")
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*collection.Def)
		field string
	}{
		{"bad name", func(c *collection.Def) { c.Name = "Bad Name" }, "name"},
		{"no key", func(c *collection.Def) { c.Key = "" }, "key"},
		{"bad key expr", func(c *collection.Def) { c.Key = "data.id +" }, "key"},
		{"unknown var", func(c *collection.Def) { c.Version = "payload.v" }, "version"},
		{"no events", func(c *collection.Def) { c.Events = nil }, "events"},
		{"bad op", func(c *collection.Def) { c.Events["x.y"] = collection.OpDef{Op: "insert"} }, "events.x.y"},
		{"bad pattern", func(c *collection.Def) { c.Events["a b"] = collection.OpDef{Op: "upsert"} }, "events.a b"},
		{"bad set", func(c *collection.Def) { c.Map = &collection.MapDef{Set: map[string]string{"x": "(("}} }, "map.set.x"},
		{"bad fetch url", func(c *collection.Def) { c.Fetch = &collection.FetchDef{URL: "ftp://x"} }, "fetch.url"},
		{"bad fetch template", func(c *collection.Def) { c.Fetch = &collection.FetchDef{URL: "https://x/{{ key"} }, "fetch.url"},
		{"bad mirror table", func(c *collection.Def) {
			c.Mirror = &collection.MirrorDef{DSN: "postgres://localhost/x", Table: "a;drop"}
		}, "mirror.table"},
		{"bad mirror type", func(c *collection.Def) {
			c.Mirror = &collection.MirrorDef{DSN: "postgres://localhost/x", Table: "t", Columns: []collection.ColumnDef{{Name: "a", Value: "record.a", Type: "blob"}}}
		}, "mirror.columns[0].type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := customers("c")
			tc.edit(&in)
			_, err := collection.Compile(in)
			var fe *field.Error
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.field, fe.Path, err.Error())
		})
	}
}

func TestMapping(t *testing.T) {
	s := openStore(t)
	svc := collection.New(collection.Config{Store: s})
	in := collection.Def{
		Name: "orders", Key: "record.number", Version: "data.updated_at", Record: "data.order",
		Events: map[string]collection.OpDef{
			"order.*": {Op: "upsert"},
			"order.archived": {Op: "upsert", Map: &collection.MapDef{
				Set: map[string]string{"archived": "true"},
			}},
		},
		Map: &collection.MapDef{
			Set:    map[string]string{"total": "record.price * record.qty", "who": "upper(data.by)", "label": `"k-" + key`},
			Rename: map[string]string{"number": "order_number"},
			Drop:   []string{"secret"},
		},
	}
	spec := newCollection(t, s, in)
	res := apply(t, svc, spec, ev("order.created", map[string]any{
		"updated_at": "2026-03-01T10:00:00Z", "by": "ada",
		"order": map[string]any{"number": "A-1", "price": 2.5, "qty": 4, "secret": "x"},
	}))
	require.Equal(t, "A-1", res.Key)
	require.JSONEq(t, `{"order_number":"A-1","price":2.5,"qty":4,"total":10,"who":"ADA","label":"k-A-1"}`, string(record(t, s, "orders", "A-1").Data))
	res = apply(t, svc, spec, ev("order.archived", map[string]any{
		"updated_at": "2026-03-01T11:00:00+01:00", "order": map[string]any{"number": "A-1"},
	}))
	require.Equal(t, collection.Applied, res.Outcome, "11:00+01:00 is the same instant as 10:00Z: the later event wins the tie")
	require.JSONEq(t, `{"number":"A-1","archived":true}`, string(record(t, s, "orders", "A-1").Data), "an operation's own map replaces the default")
}

func TestFetch(t *testing.T) {
	var hits atomic.Int32
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != "Bearer tok" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/customers/1":
			fmt.Fprint(w, `{"customer": {"id": 1, "name": "Ada", "updated_at": 5}}`)
		case "/customers/2":
			http.NotFound(w, r)
		default:
			http.Error(w, "boom", http.StatusBadGateway)
		}
	}))
	defer src.Close()
	s := openStore(t)
	svc := collection.New(collection.Config{Store: s})
	in := collection.Def{
		Name: "customers", Key: "data.id", Version: "record.updated_at",
		Events: map[string]collection.OpDef{"customer.updated": {Op: "upsert"}},
		Fetch: &collection.FetchDef{
			URL: src.URL + "/customers/{{ key }}", Headers: map[string]string{"Authorization": "Bearer tok"}, Record: "response.customer",
		},
	}
	spec := newCollection(t, s, in)
	require.Equal(t, collection.Applied, apply(t, svc, spec, ev("customer.updated", map[string]any{"id": 1})).Outcome)
	require.JSONEq(t, `{"id":1,"name":"Ada","updated_at":5}`, string(record(t, s, "customers", "1").Data))

	// Without a version in the thin payload, a 404 deletes with a version
	// of the event: the collection's versions must not change type, so
	// this collection's version comes from the fetched record only.
	_, _, err := svc.ApplyEvent(context.Background(), spec, ev("customer.updated", map[string]any{"id": 2}))
	require.ErrorContains(t, err, "version")

	_, _, err = svc.ApplyEvent(context.Background(), spec, ev("customer.updated", map[string]any{"id": 3}))
	var fe *collection.FetchError
	require.ErrorAs(t, err, &fe, "a failing source is retried")
	require.ErrorContains(t, err, "502")
}

// TestConverges is the property test: a random stream of upserts, merges
// and deletes, delivered shuffled and with duplicates, ends in exactly the
// state that applying it in order gives.
func TestConverges(t *testing.T) {
	s := openStore(t)
	svc := collection.New(collection.Config{Store: s})
	for round := range 20 {
		rnd := rand.New(rand.NewPCG(uint64(round), 42))
		inOrder := newCollection(t, s, customers(fmt.Sprintf("ordered-%d", round)))
		shuffled := newCollection(t, s, customers(fmt.Sprintf("shuffled-%d", round)))
		var stream []*event.Event
		versions := map[int]int{}
		for range 300 {
			id := rnd.IntN(12)
			versions[id] += 1 + rnd.IntN(3)
			data := map[string]any{"id": id, "version": versions[id]}
			var typ string
			switch rnd.IntN(6) {
			case 0:
				typ = "customer.deleted"
			case 1, 2:
				typ = "customer.patched"
				data[fmt.Sprintf("f%d", rnd.IntN(4))] = rnd.IntN(100)
				if rnd.IntN(3) == 0 {
					data[fmt.Sprintf("f%d", rnd.IntN(4))] = nil
				}
			default:
				typ = "customer.updated"
				data["name"] = fmt.Sprintf("n%d", rnd.IntN(1000))
				data["f0"] = rnd.IntN(100)
			}
			stream = append(stream, ev(typ, data))
		}
		for _, e := range stream {
			apply(t, svc, inOrder, e)
		}
		mixed := append([]*event.Event(nil), stream...)
		for range 60 {
			mixed = append(mixed, stream[rnd.IntN(len(stream))])
		}
		rnd.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })
		for _, e := range mixed {
			apply(t, svc, shuffled, e)
		}
		for id := range versions {
			key := fmt.Sprint(id)
			want := record(t, s, inOrder.Name, key)
			got := record(t, s, shuffled.Name, key)
			require.Equal(t, want.Deleted, got.Deleted, "round %d key %s", round, key)
			require.Equal(t, want.Version, got.Version, "round %d key %s", round, key)
			require.Equal(t, want.EventID, got.EventID, "round %d key %s", round, key)
			if !want.Deleted {
				require.JSONEq(t, string(want.Data), string(got.Data), "round %d key %s", round, key)
			}
		}
	}
}

// TestConcurrentApply: changes applied from many goroutines at once (as
// the sync executor's workers do, batched into shared transactions) end
// as applying them one by one in order does.
func TestConcurrentApply(t *testing.T) {
	s := openStore(t)
	svc := collection.New(collection.Config{Store: s})
	ordered := newCollection(t, s, customers("one-by-one"))
	parallel := newCollection(t, s, customers("parallel"))
	rnd := rand.New(rand.NewPCG(1, 2))
	var stream []*event.Event
	for i := range 2000 {
		typ := []string{"customer.updated", "customer.patched", "customer.deleted"}[rnd.IntN(3)]
		stream = append(stream, ev(typ, map[string]any{"id": rnd.IntN(50), "version": i, fmt.Sprint("f", rnd.IntN(3)): i}))
	}
	for _, e := range stream {
		apply(t, svc, ordered, e)
	}
	work := make(chan *event.Event)
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			for e := range work {
				if _, _, err := svc.ApplyEvent(context.Background(), parallel, e); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for _, i := range rnd.Perm(len(stream)) {
		work <- stream[i]
	}
	close(work)
	for range 16 {
		require.NoError(t, <-errs)
	}
	for id := range 50 {
		key := fmt.Sprint(id)
		want, err1 := s.GetRecord(context.Background(), tenant, "one-by-one", key)
		got, err2 := s.GetRecord(context.Background(), tenant, "parallel", key)
		require.Equal(t, err1, err2)
		require.Equal(t, want.Deleted, got.Deleted, key)
		require.Equal(t, want.Version, got.Version, key)
		if !want.Deleted {
			require.JSONEq(t, string(want.Data), string(got.Data), key)
		}
	}
}

func TestRenameSwap(t *testing.T) {
	s := openStore(t)
	svc := collection.New(collection.Config{Store: s})
	in := customers("swap")
	in.Map = &collection.MapDef{Rename: map[string]string{"a": "b", "b": "a"}}
	spec := newCollection(t, s, in)
	for i := range 20 {
		apply(t, svc, spec, ev("customer.updated", map[string]any{"id": 1, "version": i, "a": "A", "b": "B"}))
		require.JSONEq(t, fmt.Sprintf(`{"id":1,"version":%d,"a":"B","b":"A"}`, i), string(record(t, s, "swap", "1").Data))
	}
}

func TestRedactDSN(t *testing.T) {
	for _, dsn := range []string{
		"postgres://app:s3cret@db:5432/shop",
		"postgres://app@db/shop?password=s3cret",
		"host=db user=app password = s3cret dbname=shop",
		"host=db user=app password='my s3cret' dbname=shop sslpassword=s3cret",
	} {
		out := collection.RedactDSN(dsn)
		require.NotContains(t, out, "s3cret", dsn)
		require.Contains(t, out, "db:5432/shop")
	}
}
