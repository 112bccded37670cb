package gcheadroom

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	// Headroom is the least the heap may grow past the live heap between
	// two collections.
	Headroom = 64 << 20
	// MaxPercent bounds the GC percentage for a live heap near zero.
	MaxPercent = 1000
	// interval is how often the live heap is read and the percentage set.
	interval = time.Second
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
// then again every second until ctx ends. When lookup (the environment)
// has GOGC it does nothing: the user's setting stands. GOMEMLIMIT, if
// set, still bounds the heap.
func Start(ctx context.Context, lookup func(string) (string, bool)) {
	if v, ok := lookup("GOGC"); ok && v != "" {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	set := func(prev int) int {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return prev
		}
		if p := Percent(sample[0].Value.Uint64(), Headroom); p != prev {
			debug.SetGCPercent(p)
			return p
		}
		return prev
	}
	prev := set(0)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				prev = set(prev)
			}
		}
	}()
}
