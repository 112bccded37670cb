package api

import (
	"sync"
	"time"
)

// cacheTTL bounds how long the API reuses what it looked up for a request
// (API keys, event-type schemas). Changes made through this process drop
// the entry at once; changes through another node show within the TTL.
const cacheTTL = 10 * time.Second

// maxCacheEntries bounds each cache; it is cleared when full.
const maxCacheEntries = 100000

// ttlCache is a small map with expiry, safe for concurrent use.
type ttlCache[V any] struct {
	mu sync.Mutex
	m  map[string]cacheEntry[V]
}

type cacheEntry[V any] struct {
	v   V
	exp time.Time
}

func newTTLCache[V any]() *ttlCache[V] {
	return &ttlCache[V]{m: make(map[string]cacheEntry[V])}
}

func (c *ttlCache[V]) get(k string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok || now.After(e.exp) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[V]) put(k string, v V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCacheEntries {
		clear(c.m)
	}
	c.m[k] = cacheEntry[V]{v: v, exp: now.Add(cacheTTL)}
}

func (c *ttlCache[V]) drop(k string) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

func (c *ttlCache[V]) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
