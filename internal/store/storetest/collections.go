package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

func collection(t *testing.T, s store.Store, tenantID, name string) store.Collection {
	t.Helper()
	c := store.Collection{TenantID: tenantID, Name: name, Spec: []byte(`{"key":"data.id","version":"data.version"}`),
		Secret: []byte(`{"headers":{"Authorization":"Bearer s3cret"}}`), CreatedAt: base, UpdatedAt: base}
	require.NoError(t, s.CreateCollection(context.Background(), c))
	return c
}

// put is an update that stores data under key whatever is stored.
func put(key, data, version string, at time.Time) store.RecordUpdate {
	return store.RecordUpdate{Key: key, Apply: func(*store.Record) (*store.Record, string, error) {
		return &store.Record{Data: []byte(data), Version: version, EventID: "evt_" + version, UpdatedAt: at}, store.OpUpsert, nil
	}}
}

// requireEmpty requires that a tenant's collection has no record "1", no
// records at all, deleted or not, and no changes.
func requireEmpty(t *testing.T, s store.Store, tenantID, coll string) {
	t.Helper()
	ctx := context.Background()
	require.ErrorIs(t, errOf(s.GetRecord(ctx, tenantID, coll, "1")), store.ErrNotFound)
	recs, err := s.ListRecords(ctx, tenantID, coll, store.RecordQuery{IncludeDeleted: true})
	require.NoError(t, err)
	require.Empty(t, recs)
	changes, err := s.ListChanges(ctx, tenantID, coll, 0, 100)
	require.NoError(t, err)
	require.Empty(t, changes)
}

// apply runs ApplyRecords and requires that no update failed.
func apply(t *testing.T, s store.Store, tenantID, coll string, ups ...store.RecordUpdate) []store.RecordResult {
	t.Helper()
	res, err := s.ApplyRecords(context.Background(), tenantID, coll, ups)
	require.NoError(t, err)
	require.Len(t, res, len(ups))
	for i, r := range res {
		require.NoError(t, r.Err, "update %d", i)
	}
	return res
}

func testCollectionCRUD(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	c := collection(t, s, a, "customers")
	require.ErrorIs(t, s.CreateCollection(ctx, c), store.ErrConflict)
	got, err := s.GetCollection(ctx, a, "customers")
	require.NoError(t, err)
	require.Equal(t, c, got, "the secret is opened again")
	require.ErrorIs(t, errOf(s.GetCollection(ctx, a, "missing")), store.ErrNotFound)

	plain := store.Collection{TenantID: a, Name: "accounts", Spec: []byte(`{"key":"data.id"}`), CreatedAt: base, UpdatedAt: base}
	require.NoError(t, s.CreateCollection(ctx, plain))
	read(t, []store.Collection{plain, c}, "by name; no secret reads back nil")(s.ListCollections(ctx, a))

	upd := c
	upd.Spec, upd.Secret = []byte(`{"key":"data.uid"}`), []byte(`{"dsn":"postgres://u:pw@db/x"}`)
	upd.CreatedAt, upd.UpdatedAt = base.Add(time.Hour), base.Add(time.Minute)
	require.NoError(t, s.UpdateCollection(ctx, upd))
	got, err = s.GetCollection(ctx, a, "customers")
	require.NoError(t, err)
	upd.CreatedAt = base
	require.Equal(t, upd, got, "spec, secret and update time replaced; creation time kept")
	upd.Secret = nil
	require.NoError(t, s.UpdateCollection(ctx, upd))
	got, err = s.GetCollection(ctx, a, "customers")
	require.NoError(t, err)
	require.Nil(t, got.Secret)
	require.ErrorIs(t, s.UpdateCollection(ctx, store.Collection{TenantID: a, Name: "missing", Spec: []byte(`{}`)}), store.ErrNotFound)

	require.NoError(t, s.DeleteCollection(ctx, a, "customers"))
	require.ErrorIs(t, errOf(s.GetCollection(ctx, a, "customers")), store.ErrNotFound)
	require.ErrorIs(t, s.DeleteCollection(ctx, a, "customers"), store.ErrNotFound)
	read(t, []store.Collection{plain})(s.ListCollections(ctx, a))
}

func testCollectionIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	ca := collection(t, s, a, "customers")
	cb := ca
	cb.TenantID, cb.Secret = b, []byte(`{"headers":{"X-Key":"other"}}`)
	require.NoError(t, s.CreateCollection(ctx, cb), "names are unique per tenant")
	collection(t, s, a, "only_a")
	apply(t, s, a, "customers", put("1", `{"id":1}`, "1", base))

	read(t, cb)(s.GetCollection(ctx, b, "customers"))
	require.ErrorIs(t, errOf(s.GetCollection(ctx, b, "only_a")), store.ErrNotFound)
	require.ErrorIs(t, s.UpdateCollection(ctx, store.Collection{TenantID: b, Name: "only_a", Spec: []byte(`{}`)}), store.ErrNotFound)
	require.ErrorIs(t, s.DeleteCollection(ctx, b, "only_a"), store.ErrNotFound)
	read(t, []store.Collection{cb})(s.ListCollections(ctx, b))

	require.ErrorIs(t, errOf(s.ApplyRecords(ctx, b, "only_a", []store.RecordUpdate{put("1", `{}`, "1", base)})), store.ErrNotFound)
	requireEmpty(t, s, b, "customers")

	res := apply(t, s, b, "customers", put("1", `{"id":"b"}`, "1", base))
	require.Equal(t, int64(1), res[0].Change.Seq, "each tenant's collection counts its own changes")
	rec, err := s.GetRecord(ctx, a, "customers", "1")
	require.NoError(t, err)
	require.JSONEq(t, `{"id":1}`, string(rec.Data))
}

var errBoom = errors.New("boom")

func testApplyRecords(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	collection(t, s, a, "customers")
	require.ErrorIs(t, errOf(s.ApplyRecords(ctx, a, "missing", []store.RecordUpdate{put("1", `{}`, "1", base)})), store.ErrNotFound)
	require.ErrorIs(t, errOf(s.GetRecord(ctx, a, "customers", "1")), store.ErrNotFound)

	var seen []*store.Record
	spy := func(u store.RecordUpdate) store.RecordUpdate {
		return store.RecordUpdate{Key: u.Key, Apply: func(cur *store.Record) (*store.Record, string, error) {
			seen = append(seen, cur)
			return u.Apply(cur)
		}}
	}

	// Create.
	res := apply(t, s, a, "customers", spy(put("1", `{"n":1}`, "1", base)))
	require.Nil(t, seen[0], "a key never written has no record")
	want := store.Change{Seq: 1, TenantID: a, Collection: "customers", Key: "1", Op: store.OpUpsert, Data: []byte(`{"n":1}`),
		Version: "1", EventID: "evt_1", At: base}
	require.Equal(t, &want, res[0].Change)
	rec, err := s.GetRecord(ctx, a, "customers", "1")
	require.NoError(t, err)
	require.Equal(t, store.Record{TenantID: a, Collection: "customers", Key: "1", Data: []byte(`{"n":1}`), Version: "1",
		EventID: "evt_1", Seq: 1, CreatedAt: base, UpdatedAt: base}, rec)

	// Update: the creation time stays, whatever Apply says.
	update := spy(store.RecordUpdate{Key: "1", Apply: func(cur *store.Record) (*store.Record, string, error) {
		return &store.Record{Data: []byte(`{"n":2}`), Version: "2", EventID: "evt_2", CreatedAt: base.Add(time.Hour),
			UpdatedAt: base.Add(time.Minute)}, store.OpMerge, nil
	}})
	res = apply(t, s, a, "customers", update)
	require.Equal(t, rec, *seen[1], "Apply gets the stored record")
	require.Equal(t, int64(2), res[0].Change.Seq)
	require.Equal(t, store.OpMerge, res[0].Change.Op)
	rec, err = s.GetRecord(ctx, a, "customers", "1")
	require.NoError(t, err)
	require.Equal(t, base, rec.CreatedAt)
	require.Equal(t, base.Add(time.Minute), rec.UpdatedAt)
	require.Equal(t, int64(2), rec.Seq)

	// Unchanged, failed, tombstone and a new key without a time, in one call.
	unchanged := store.RecordUpdate{Key: "1", Apply: func(*store.Record) (*store.Record, string, error) { return nil, "", nil }}
	failed := store.RecordUpdate{Key: "1", Apply: func(*store.Record) (*store.Record, string, error) {
		return &store.Record{Data: []byte(`{"n":"bad"}`), Version: "9"}, store.OpUpsert, errBoom
	}}
	tombstone := spy(store.RecordUpdate{Key: "1", Apply: func(cur *store.Record) (*store.Record, string, error) {
		return &store.Record{Data: []byte(`{"n":3}`), Deleted: true, Version: "3", EventID: "evt_3", UpdatedAt: base.Add(2 * time.Minute)},
			store.OpDelete, nil
	}})
	before := time.Now().Add(-time.Second)
	res, err = s.ApplyRecords(ctx, a, "customers", []store.RecordUpdate{unchanged, failed, tombstone, put("2", `{"n":1}`, "1", time.Time{})})
	require.NoError(t, err)
	require.Len(t, res, 4)
	require.Equal(t, store.RecordResult{}, res[0], "nil record: unchanged")
	require.ErrorIs(t, res[1].Err, errBoom)
	require.Nil(t, res[1].Change)
	require.Equal(t, "2", seen[2].Version, "a failed update leaves the record untouched")
	require.Equal(t, &store.Change{Seq: 3, TenantID: a, Collection: "customers", Key: "1", Op: store.OpDelete, Version: "3",
		EventID: "evt_3", At: base.Add(2 * time.Minute)}, res[2].Change, "a delete logs no data")
	require.Equal(t, int64(4), res[3].Change.Seq, "failed and unchanged updates take no change number")
	require.WithinRange(t, res[3].Change.At, before, time.Now().Add(time.Second), "no time: now")

	rec, err = s.GetRecord(ctx, a, "customers", "1")
	require.NoError(t, err)
	require.Equal(t, store.Record{TenantID: a, Collection: "customers", Key: "1", Deleted: true, Version: "3", EventID: "evt_3",
		Seq: 3, CreatedAt: base, UpdatedAt: base.Add(2 * time.Minute)}, rec, "a tombstone keeps its version and drops its data")
	rec, err = s.GetRecord(ctx, a, "customers", "2")
	require.NoError(t, err)
	require.Equal(t, res[3].Change.At, rec.UpdatedAt)
	require.Equal(t, rec.UpdatedAt, rec.CreatedAt)

	// A call whose updates all fail consumes no change number.
	res, err = s.ApplyRecords(ctx, a, "customers", []store.RecordUpdate{failed})
	require.NoError(t, err)
	require.ErrorIs(t, res[0].Err, errBoom)
	res = apply(t, s, a, "customers", put("3", `{"n":1}`, "1", base))
	require.Equal(t, int64(5), res[0].Change.Seq)

	changes, err := s.ListChanges(ctx, a, "customers", 0, 100)
	require.NoError(t, err)
	require.Len(t, changes, 5)
	require.Equal(t, want, changes[0], "the returned change is the stored one")
	for i, c := range changes {
		require.Equal(t, int64(i+1), c.Seq)
	}
	require.Equal(t, []string{store.OpUpsert, store.OpMerge, store.OpDelete, store.OpUpsert, store.OpUpsert},
		[]string{changes[0].Op, changes[1].Op, changes[2].Op, changes[3].Op, changes[4].Op})
	require.Nil(t, changes[2].Data)
	require.Equal(t, *res[0].Change, changes[4])
}

func testApplySameKeyTwice(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	collection(t, s, a, "counters")
	res := apply(t, s, a, "counters", incr("c", base), incr("c", base.Add(time.Second)), incr("c", base.Add(2*time.Second)))
	for i, r := range res {
		require.Equal(t, int64(i+1), r.Change.Seq)
		require.JSONEq(t, fmt.Sprintf(`{"n":%d}`, i+1), string(r.Change.Data), "each update sees the one before")
	}
	rec, err := s.GetRecord(ctx, a, "counters", "c")
	require.NoError(t, err)
	require.JSONEq(t, `{"n":3}`, string(rec.Data))
	require.Equal(t, int64(3), rec.Seq)
	require.Equal(t, base, rec.CreatedAt, "created by the first update of the call")
	require.Equal(t, base.Add(2*time.Second), rec.UpdatedAt)

	// Delete and revive in one call: the revival sees the tombstone.
	del := store.RecordUpdate{Key: "c", Apply: func(*store.Record) (*store.Record, string, error) {
		return &store.Record{Deleted: true, Version: "del"}, store.OpDelete, nil
	}}
	var revived *store.Record
	revive := store.RecordUpdate{Key: "c", Apply: func(cur *store.Record) (*store.Record, string, error) {
		revived = cur
		return &store.Record{Data: []byte(`{"n":0}`), Version: "new"}, store.OpUpsert, nil
	}}
	apply(t, s, a, "counters", del, revive)
	require.NotNil(t, revived)
	require.True(t, revived.Deleted)
	require.Equal(t, int64(4), revived.Seq)
	rec, err = s.GetRecord(ctx, a, "counters", "c")
	require.NoError(t, err)
	require.False(t, rec.Deleted)
	require.Equal(t, int64(5), rec.Seq)
	require.Equal(t, base, rec.CreatedAt)
	changes, err := s.ListChanges(ctx, a, "counters", 0, 100)
	require.NoError(t, err)
	require.Len(t, changes, 5)
}

// incr adds one to the record's n.
func incr(key string, at time.Time) store.RecordUpdate {
	return store.RecordUpdate{Key: key, Apply: func(cur *store.Record) (*store.Record, string, error) {
		var v struct{ N int }
		if cur != nil {
			if err := json.Unmarshal(cur.Data, &v); err != nil {
				return nil, "", err
			}
		}
		v.N++
		return &store.Record{Data: fmt.Appendf(nil, `{"n":%d}`, v.N), Version: fmt.Sprint(v.N), UpdatedAt: at}, store.OpUpsert, nil
	}}
}

// testApplyConcurrent increments one counter from 8 goroutines at once:
// no increment is lost, and the change log numbers them 1..400 in the
// order they committed (change n wrote n).
func testApplyConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	collection(t, s, a, "counters")
	const workers, calls = 8, 50
	failing := store.RecordUpdate{Key: "other", Apply: func(*store.Record) (*store.Record, string, error) {
		return nil, "", errBoom
	}}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			<-start
			for range calls {
				res, err := s.ApplyRecords(ctx, a, "counters", []store.RecordUpdate{incr("c", base), failing})
				if !assert.NoError(t, err) {
					return
				}
				assert.NoError(t, res[0].Err)
			}
		})
	}
	close(start)
	wg.Wait()

	rec, err := s.GetRecord(ctx, a, "counters", "c")
	require.NoError(t, err)
	require.JSONEq(t, `{"n":400}`, string(rec.Data))
	require.Equal(t, int64(workers*calls), rec.Seq)
	var after int64
	for after < workers*calls {
		page, err := s.ListChanges(ctx, a, "counters", after, 150)
		require.NoError(t, err)
		require.NotEmpty(t, page, "changes after %d", after)
		for _, c := range page {
			after++
			require.Equal(t, after, c.Seq, "no gaps")
			require.JSONEq(t, fmt.Sprintf(`{"n":%d}`, after), string(c.Data), "change order is commit order")
		}
	}
	rest, err := s.ListChanges(ctx, a, "counters", after, 150)
	require.NoError(t, err)
	require.Empty(t, rest)
}

func testListRecords(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	collection(t, s, a, "items")
	// Keys in byte order: "B" < "a" < "c" < "d" < "e".
	apply(t, s, a, "items", put("a", `{}`, "1", base), put("c", `{}`, "1", base), put("e", `{}`, "1", base),
		put("B", `{}`, "1", base), put("d", `{}`, "1", base))
	apply(t, s, a, "items", store.RecordUpdate{Key: "c", Apply: func(*store.Record) (*store.Record, string, error) {
		return &store.Record{Deleted: true, Version: "2"}, store.OpDelete, nil
	}})
	keys := func(q store.RecordQuery) []string {
		t.Helper()
		recs, err := s.ListRecords(ctx, a, "items", q)
		require.NoError(t, err)
		out := []string{}
		for _, r := range recs {
			out = append(out, r.Key)
		}
		return out
	}
	require.Equal(t, []string{"B", "a", "d", "e"}, keys(store.RecordQuery{}), "tombstones left out")
	require.Equal(t, []string{"B", "a"}, keys(store.RecordQuery{Limit: 2}))
	require.Equal(t, []string{"d", "e"}, keys(store.RecordQuery{Limit: 2, After: "a"}))
	require.Equal(t, []string{}, keys(store.RecordQuery{Limit: 2, After: "e"}))
	require.Equal(t, []string{"B", "a", "c", "d", "e"}, keys(store.RecordQuery{IncludeDeleted: true}))
	require.Equal(t, []string{"c", "d"}, keys(store.RecordQuery{IncludeDeleted: true, After: "a", Limit: 2}))
	recs, err := s.ListRecords(ctx, a, "items", store.RecordQuery{IncludeDeleted: true, After: "a", Limit: 1})
	require.NoError(t, err)
	require.True(t, recs[0].Deleted)
	require.Nil(t, recs[0].Data)

	collection(t, s, a, "many")
	var ups []store.RecordUpdate
	for i := range 105 {
		ups = append(ups, put(fmt.Sprintf("k%03d", i), `{}`, "1", base))
	}
	apply(t, s, a, "many", ups...)
	recs, err = s.ListRecords(ctx, a, "many", store.RecordQuery{})
	require.NoError(t, err)
	require.Len(t, recs, 100, "the default page")
	require.Equal(t, "k099", recs[99].Key)
	recs, err = s.ListRecords(ctx, a, "many", store.RecordQuery{After: "k099"})
	require.NoError(t, err)
	require.Len(t, recs, 5)
}

func testListChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	collection(t, s, a, "items")
	collection(t, s, a, "others")
	for i := range 5 {
		apply(t, s, a, "items", put(fmt.Sprint(i), `{}`, "1", base))
	}
	apply(t, s, a, "others", put("x", `{}`, "1", base))
	seqs := func(after int64, limit int) []int64 {
		t.Helper()
		cs, err := s.ListChanges(ctx, a, "items", after, limit)
		require.NoError(t, err)
		out := []int64{}
		for _, c := range cs {
			require.Equal(t, "items", c.Collection)
			out = append(out, c.Seq)
		}
		return out
	}
	require.Equal(t, []int64{1, 2, 3, 4, 5}, seqs(0, 0), "no limit: the default page")
	require.Equal(t, []int64{3, 4}, seqs(2, 2))
	require.Equal(t, []int64{5}, seqs(4, 10))
	require.Equal(t, []int64{}, seqs(5, 10))
	cs, err := s.ListChanges(ctx, a, "others", 0, 10)
	require.NoError(t, err)
	require.Len(t, cs, 1, "each collection has its own log")
	require.Equal(t, int64(1), cs[0].Seq)
}

// A record's history is its own changes, newest first, paged by change
// number; another key's or another collection's are not in it.
func testListRecordChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	collection(t, s, a, "items")
	collection(t, s, a, "others")
	collection(t, s, b, "items")
	for i := range 3 {
		apply(t, s, a, "items", put("k", fmt.Sprintf(`{"n":%d}`, i), fmt.Sprint(i+1), base.Add(time.Duration(i)*time.Second)),
			put("other", `{}`, fmt.Sprint(i+1), base))
	}
	apply(t, s, a, "items", store.RecordUpdate{Key: "k", Apply: func(*store.Record) (*store.Record, string, error) {
		return &store.Record{Deleted: true, Version: "9", EventID: "evt_del"}, store.OpDelete, nil
	}})
	apply(t, s, a, "others", put("k", `{}`, "1", base))
	apply(t, s, b, "items", put("k", `{}`, "1", base))
	history := func(before int64, limit int) []int64 {
		t.Helper()
		cs, err := s.ListRecordChanges(ctx, a, "items", "k", before, limit)
		require.NoError(t, err)
		out := []int64{}
		for _, c := range cs {
			require.Equal(t, "k", c.Key)
			require.Equal(t, "items", c.Collection)
			require.Equal(t, a, c.TenantID)
			out = append(out, c.Seq)
		}
		return out
	}
	require.Equal(t, []int64{7, 5, 3, 1}, history(0, 0), "newest first")
	require.Equal(t, []int64{7, 5}, history(0, 2))
	require.Equal(t, []int64{3, 1}, history(5, 10))
	require.Equal(t, []int64{}, history(1, 10))
	cs, err := s.ListRecordChanges(ctx, a, "items", "k", 0, 10)
	require.NoError(t, err)
	require.Equal(t, store.OpDelete, cs[0].Op)
	require.Nil(t, cs[0].Data)
	require.JSONEq(t, `{"n":2}`, string(cs[1].Data))
	require.Equal(t, "3", cs[1].Version)
	require.Equal(t, base.Add(2*time.Second), cs[1].At.UTC())
	cs, err = s.ListRecordChanges(ctx, b, "items", "k", 0, 10)
	require.NoError(t, err)
	require.Len(t, cs, 1, "each tenant has its own history")
	cs, err = s.ListRecordChanges(ctx, a, "items", "none", 0, 10)
	require.NoError(t, err)
	require.Empty(t, cs)
}

func testDeleteCollection(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	collection(t, s, a, "gone")
	collection(t, s, a, "kept")
	apply(t, s, a, "gone", put("1", `{}`, "1", base), put("2", `{}`, "1", base))
	apply(t, s, a, "kept", put("1", `{}`, "1", base))
	require.NoError(t, s.DeleteCollection(ctx, a, "gone"))
	require.ErrorIs(t, errOf(s.ApplyRecords(ctx, a, "gone", []store.RecordUpdate{put("3", `{}`, "1", base)})), store.ErrNotFound)

	// A new collection of the same name starts empty.
	collection(t, s, a, "gone")
	requireEmpty(t, s, a, "gone")
	res := apply(t, s, a, "gone", put("1", `{}`, "1", base))
	require.Equal(t, int64(1), res[0].Change.Seq, "the change counter starts again")

	require.NoError(t, errOf(s.GetRecord(ctx, a, "kept", "1")), "other collections keep their records")
}

func testMirrorState(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	collection(t, s, a, "customers")
	apply(t, s, a, "customers", put("1", `{}`, "1", base), put("2", `{}`, "1", base), put("3", `{}`, "1", base))

	m, err := s.GetMirrorState(ctx, a, "customers")
	require.NoError(t, err)
	require.Equal(t, store.MirrorState{TenantID: a, Collection: "customers", LastSeq: 3}, m, "never saved: only the last change")
	require.ErrorIs(t, errOf(s.GetMirrorState(ctx, a, "missing")), store.ErrNotFound)

	failing := store.MirrorState{TenantID: a, Collection: "customers", Target: "db/t", Seq: 2, Error: "connection refused",
		FailingSince: base, RetryAt: base.Add(time.Second), RowsFailed: 1, RowError: "key 1: bad value", UpdatedAt: base.Add(time.Second)}
	require.NoError(t, s.SaveMirrorState(ctx, failing))
	m, err = s.GetMirrorState(ctx, a, "customers")
	require.NoError(t, err)
	failing.LastSeq = 3
	require.Equal(t, failing, m)

	// A slower writer saving an older cursor does not move it back, but
	// its other fields are saved.
	older := store.MirrorState{TenantID: a, Collection: "customers", Target: "db/t", Seq: 1, UpdatedAt: base.Add(2 * time.Second)}
	require.NoError(t, s.SaveMirrorState(ctx, older))
	m, err = s.GetMirrorState(ctx, a, "customers")
	require.NoError(t, err)
	require.Equal(t, int64(2), m.Seq, "the cursor does not go back")
	require.Empty(t, m.Error)
	require.True(t, m.FailingSince.IsZero())
	require.True(t, m.RetryAt.IsZero())

	// Another table starts from where it is told.
	require.NoError(t, s.SaveMirrorState(ctx, store.MirrorState{TenantID: a, Collection: "customers", Target: "db/u", Seq: 0, UpdatedAt: base}))
	m, err = s.GetMirrorState(ctx, a, "customers")
	require.NoError(t, err)
	require.Equal(t, "db/u", m.Target)
	require.Equal(t, int64(0), m.Seq, "a new target's cursor starts again")

	require.ErrorIs(t, s.SaveMirrorState(ctx, store.MirrorState{TenantID: a, Collection: "missing", Target: "x", UpdatedAt: base}), store.ErrNotFound)
	b := tenant(t, s, "b")
	require.ErrorIs(t, errOf(s.GetMirrorState(ctx, b, "customers")), store.ErrNotFound, "another tenant's collection")

	// Deleting the collection deletes its mirror state; a new one of the
	// same name starts from nothing.
	require.NoError(t, s.DeleteCollection(ctx, a, "customers"))
	collection(t, s, a, "customers")
	read(t, store.MirrorState{TenantID: a, Collection: "customers"})(s.GetMirrorState(ctx, a, "customers"))
}
