// Package lru is a cache of a fixed number of entries that evicts the least
// recently used one: for values that are costly to make again but cheap to
// hold, such as compiled workflow and template versions, whose keys keep
// coming (every new version is a new key) while few are in use.
package lru

import (
	"container/list"
	"sync"
)

// Cache holds at most a fixed number of entries. It is safe for concurrent
// use.
type Cache[K comparable, V any] struct {
	max int

	mu sync.Mutex
	// order holds the entries, most recently used first; byKey finds them.
	order *list.List
	byKey map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key K
	val V
}

// New returns a cache of at most max entries. It panics if max < 1.
func New[K comparable, V any](max int) *Cache[K, V] {
	if max < 1 {
		panic("lru: a cache needs room for an entry")
	}
	return &Cache[K, V]{max: max, order: list.New(), byKey: make(map[K]*list.Element)}
}

// Get returns the value of k and whether it was there, marking it used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry[K, V]).val, true
}

// Add sets the value of k, marking it used, and evicts the least recently
// used entry when the cache is over its size.
func (c *Cache[K, V]) Add(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[k]; ok {
		el.Value.(*entry[K, V]).val = v
		c.order.MoveToFront(el)
		return
	}
	c.byKey[k] = c.order.PushFront(&entry[K, V]{key: k, val: v})
	if c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*entry[K, V]).key)
	}
}

// Len returns the number of entries.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
