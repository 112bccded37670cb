package ttl_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/ttl"
)

func TestExpiry(t *testing.T) {
	c := ttl.New[string, int](2*time.Second, 10)
	at := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	c.Put("a", 1, at)
	v, ok := c.Get("a", at)
	require.True(t, ok)
	require.Equal(t, 1, v)
	_, ok = c.Get("a", at.Add(2*time.Second-time.Nanosecond))
	require.True(t, ok, "held until its time to live has passed")
	_, ok = c.Get("a", at.Add(2*time.Second))
	require.False(t, ok, "expired")
	_, ok = c.Get("a", at.Add(-time.Second))
	require.False(t, ok, "a clock set back makes it stale")
	_, ok = c.Get("b", at)
	require.False(t, ok)
}

func TestBoundAndDeletes(t *testing.T) {
	c := ttl.New[string, int](time.Minute, 3)
	at := time.Now()
	for i := range 3 {
		c.Put(fmt.Sprint("t1\x00", i), i, at)
	}
	c.Put("t1\x000", 10, at)
	require.Equal(t, 3, c.Len(), "a key put again takes no more room")
	c.Put("t2\x000", 20, at)
	require.Equal(t, 1, c.Len(), "full: it starts again empty")
	c.Put("t1\x001", 1, at)
	c.Put("t1\x002", 2, at)
	c.DeleteFunc(func(k string) bool { return strings.HasPrefix(k, "t1\x00") })
	require.Equal(t, 1, c.Len())
	_, ok := c.Get("t2\x000", at)
	require.True(t, ok)
	c.Delete("t2\x000")
	require.Equal(t, 0, c.Len())
	c.Put("x", 1, at)
	c.Clear()
	require.Equal(t, 0, c.Len())
}

func TestConcurrentUse(t *testing.T) {
	c := ttl.New[int, int](time.Minute, 100)
	at := time.Now()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				c.Put(i%150, g, at)
				c.Get(i%150, at)
				if i%100 == 0 {
					c.DeleteFunc(func(k int) bool { return k%7 == g })
				}
			}
		})
	}
	wg.Wait()
	require.LessOrEqual(t, c.Len(), 100)
}

func TestNewPanics(t *testing.T) {
	require.Panics(t, func() { ttl.New[string, int](0, 1) })
	require.Panics(t, func() { ttl.New[string, int](time.Second, 0) })
}
