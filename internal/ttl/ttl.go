// Package ttl is a map whose entries hold for a fixed time after they were
// put: for what a process looks up often and may reuse a few seconds, such
// as API keys, event types, endpoints and sync subscriptions, where a
// change made through this process drops the entry at once and one made
// through another node shows once the entry has expired. The caller says
// what time it is, so a test's clock decides.
package ttl

import (
	"sync"
	"time"
)

// Cache holds entries for a fixed time and at most a fixed number of them:
// when full, it starts again empty (the lookups it saves are cheap to make
// again). It is safe for concurrent use.
type Cache[K comparable, V any] struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[K]entry[V]
}

type entry[V any] struct {
	v   V
	put time.Time
}

// New returns a cache whose entries hold for ttl, at most max of them. It
// panics if ttl or max is not positive.
func New[K comparable, V any](ttl time.Duration, max int) *Cache[K, V] {
	if ttl <= 0 || max < 1 {
		panic("ttl: a cache needs a positive time to live and room for an entry")
	}
	return &Cache[K, V]{ttl: ttl, max: max, m: make(map[K]entry[V])}
}

// Get returns the value of k if it was put within the time to live before
// now (and not after now: a clock set back makes it stale).
func (c *Cache[K, V]) Get(k K, now time.Time) (V, bool) {
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if !ok || now.Before(e.put) || now.Sub(e.put) >= c.ttl {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put sets the value of k, put at now.
func (c *Cache[K, V]) Put(k K, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = entry[V]{v: v, put: now}
}

// Delete drops k.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// DeleteFunc drops the entries whose key del reports.
func (c *Cache[K, V]) DeleteFunc(del func(K) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if del(k) {
			delete(c.m, k)
		}
	}
}

// Clear drops every entry.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// Len returns the number of entries, expired ones included.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
