package collection_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/store"
)

func TestFind(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	newCollection(t, s, customers("c"))
	var ups []store.RecordUpdate
	for _, k := range []string{"a", "a/1", "a/2", "ab", "b", "gone"} {
		ups = append(ups, store.RecordUpdate{Key: k, Apply: func(*store.Record) (*store.Record, string, error) {
			if k == "gone" {
				return &store.Record{Deleted: true, Version: "n:1"}, store.OpDelete, nil
			}
			return &store.Record{Data: []byte(`{"name":"` + k + `"}`), Version: "n:1"}, store.OpUpsert, nil
		}})
	}
	_, err := s.ApplyRecords(ctx, tenant, "c", ups)
	require.NoError(t, err)

	find := func(q collection.FindQuery) ([]string, string) {
		t.Helper()
		f, err := collection.Find(ctx, s, tenant, "c", q)
		require.NoError(t, err)
		var keys []string
		for _, r := range f.Records {
			keys = append(keys, r.Key)
		}
		return keys, f.Next
	}
	keys, next := find(collection.FindQuery{Limit: 3})
	require.Equal(t, []string{"a", "a/1", "a/2"}, keys)
	require.Equal(t, "a/2", next)
	keys, next = find(collection.FindQuery{After: next, Limit: 3})
	require.Equal(t, []string{"ab", "b"}, keys, "the tombstone is left out")
	require.Empty(t, next)
	keys, _ = find(collection.FindQuery{Limit: 10, IncludeDeleted: true})
	require.Contains(t, keys, "gone")

	// A prefix: the key equal to it first, then those after it that start
	// with it, and the scan ends at the first that does not.
	keys, next = find(collection.FindQuery{Prefix: "a", Limit: 10})
	require.Equal(t, []string{"a", "a/1", "a/2", "ab"}, keys)
	require.Empty(t, next)
	keys, next = find(collection.FindQuery{Prefix: "a/", Limit: 1})
	require.Equal(t, []string{"a/1"}, keys)
	keys, next = find(collection.FindQuery{Prefix: "a/", After: next, Limit: 1})
	require.Equal(t, []string{"a/2"}, keys)
	keys, _ = find(collection.FindQuery{Prefix: "a/", After: next, Limit: 1})
	require.Empty(t, keys)
	keys, _ = find(collection.FindQuery{Prefix: "a", After: "a/1", Limit: 10})
	require.Equal(t, []string{"a/2", "ab"}, keys, "a later page does not repeat the prefix key")

	f, err := collection.CompileFilter(`record.name endsWith "2" || key == "b"`)
	require.NoError(t, err)
	keys, next = find(collection.FindQuery{Filter: f, Limit: 10})
	require.Equal(t, []string{"a/2", "b"}, keys)
	require.Empty(t, next)
	keys, _ = find(collection.FindQuery{Filter: f, Prefix: "a", Limit: 10})
	require.Equal(t, []string{"a/2"}, keys)

	bad, err := collection.CompileFilter(`record.name`)
	require.NoError(t, err)
	_, err = collection.Find(ctx, s, tenant, "c", collection.FindQuery{Filter: bad, Limit: 10})
	var fe *collection.FilterError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "a", fe.Key)
	_, err = collection.CompileFilter(`record.(`)
	require.Error(t, err)
}
