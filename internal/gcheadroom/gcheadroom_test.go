package gcheadroom_test

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"

	"github.com/hookline/hookline/internal/gcheadroom"
)

func TestPercent(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, gcheadroom.MaxPercent},
		{1 * mib, gcheadroom.MaxPercent}, // 6,400% capped
		{16 * mib, 400},
		{32 * mib, 200},
		{64 * mib, 100},
		{1024 * mib, 100}, // never below Go's default
	} {
		if got := gcheadroom.Percent(tc.live, gcheadroom.Headroom); got != tc.want {
			t.Errorf("Percent(%d MiB) = %d, want %d", tc.live/mib, got, tc.want)
		}
	}
}

// env is a lookup of the environment vars.
func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// The two tests below set the process's GC percentage, so they do not run
// in parallel.

// TestStartKeepsGOGC: a GOGC in the environment is the user's setting and
// stays.
func TestStartKeepsGOGC(t *testing.T) {
	old := debug.SetGCPercent(50)
	defer debug.SetGCPercent(old)
	gcheadroom.Start(t.Context(), env(map[string]string{"GOGC": "50"}))
	if got := percent(); got != 50 {
		t.Fatalf("GC percent %d after Start with GOGC=50, want 50", got)
	}
}

// TestStartSetsPercent: without GOGC the percentage follows the live heap
// at once, not only after the first tick.
func TestStartSetsPercent(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	runtime.GC() // the live heap as of now, not of an earlier test
	gcheadroom.Start(t.Context(), env(map[string]string{"GOGC": ""}))
	if got := percent(); got <= 100 {
		t.Fatalf("GC percent %d after Start with a small live heap, want more than 100", got)
	}
}

// TestStartFollowsCollections: after a collection that finds a large live
// heap the percentage comes down to Go's default, so the goal stays within
// Headroom of the live heap.
func TestStartFollowsCollections(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	runtime.GC() // the live heap as of now, not of an earlier test
	gcheadroom.Start(t.Context(), env(nil))
	if p := percent(); p <= 100 {
		t.Fatalf("GC percent %d with a small live heap, want more than 100", p)
	}
	live := make([][]byte, 0, 96)
	for range 96 {
		live = append(live, make([]byte, 1<<20))
	}
	// The finalizer goroutine sets the percentage after a collection:
	// poll for it.
	for i := 0; percent() != 100; i++ {
		if i == 1000 {
			t.Fatalf("GC percent %d with 96 MiB live, want 100", percent())
		}
		runtime.GC()
		runtime.Gosched()
	}
	runtime.KeepAlive(live)
}

// percent is the GC percentage in effect.
func percent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}
