package lru_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/lru"
)

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c := lru.New[string, int](3)
	c.Add("a", 1)
	c.Add("b", 2)
	c.Add("c", 3)
	_, _ = c.Get("a") // b is now the least recently used
	c.Add("d", 4)
	require.Equal(t, 3, c.Len())
	_, ok := c.Get("b")
	require.False(t, ok, "b was evicted")
	// In this order, which leaves a the least recently used.
	for _, kv := range []struct {
		k    string
		want int
	}{{"a", 1}, {"c", 3}, {"d", 4}} {
		v, ok := c.Get(kv.k)
		require.True(t, ok, kv.k)
		require.Equal(t, kv.want, v, kv.k)
	}

	c.Add("c", 30) // replaced, not added: nothing evicted
	require.Equal(t, 3, c.Len())
	v, _ := c.Get("c")
	require.Equal(t, 30, v)
	c.Add("e", 5)
	_, ok = c.Get("a")
	require.False(t, ok, "a was evicted")
}

func TestCacheStaysBounded(t *testing.T) {
	t.Parallel()
	c := lru.New[int, string](64)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				k := g*1000 + i
				c.Add(k, fmt.Sprint(k))
				if v, ok := c.Get(k - 1); ok {
					assert.Equal(t, fmt.Sprint(k-1), v)
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, 64, c.Len())
}

func TestNewPanicsWithoutRoom(t *testing.T) {
	t.Parallel()
	require.Panics(t, func() { lru.New[string, int](0) })
}
