package gcheadroom

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

const (
	// Headroom is the least the heap may grow past the live heap between
	// two collections.
	Headroom = 64 << 20
	// MaxPercent bounds the GC percentage for a live heap near zero.
	MaxPercent = 1000
)

// Percent is the GC percentage (as GOGC) that lets a heap of live bytes
// grow by at least headroom before the next collection: headroom as a
// percentage of live, between 100 (Go's default) and MaxPercent.
func Percent(live, headroom uint64) int {
	if live == 0 {
		return MaxPercent
	}
	return int(min(max(headroom*100/live, 100), MaxPercent))
}

// Start sets the GC percentage to Percent of the live heap and Headroom,
// then again after every collection, until ctx ends: set from the heap
// the last collection found live, the goal never runs more than Headroom
// ahead of it, even while the live heap grows fast (a percentage set on a
// timer would apply a small heap's large one to a heap grown since). When
// lookup (the environment) has GOGC it does nothing: the user's setting
// stands. GOMEMLIMIT, if set, still bounds the heap.
func Start(ctx context.Context, lookup func(string) (string, bool)) {
	if v, ok := lookup("GOGC"); ok && v != "" {
		return
	}
	t := &tuner{ctx: ctx, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	t.set()
	t.arm()
}

// tuner sets the GC percentage. Only the finalizer goroutine uses it after
// Start.
type tuner struct {
	ctx    context.Context
	sample []metrics.Sample
	prev   int
}

// sentinel is garbage whose finalizer runs after the collection that found
// it unreachable. It holds a pointer so that it is not one of the tiny
// allocations that share a block (and so may never be finalized).
type sentinel struct{ _ *byte }

// arm makes the next collection call set, and arm again.
func (t *tuner) arm() {
	runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
		if t.ctx.Err() != nil {
			return
		}
		t.set()
		t.arm()
	})
}

func (t *tuner) set() {
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	if p := Percent(t.sample[0].Value.Uint64(), Headroom); p != t.prev {
		debug.SetGCPercent(p)
		t.prev = p
	}
}
