package engine

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/store"
)

// BenchmarkDispatch is what the dispatcher does for one task of a busy
// endpoint, as the poller and a worker call it: push it, check its
// limits, take it, release its slot and forget it once its result is
// written.
func BenchmarkDispatch(b *testing.B) {
	d := newDispatcher(clock.Real{}, 10, 1000, 10000, Breaker{Threshold: 10, Cooldown: time.Second, MaxCooldown: time.Minute})
	task := store.Task{ID: "tsk_01KBX3Q4W5E6R7T8Y9U0I1O2P3", TenantID: "ten_01KBX3Q4W5E6R7T8Y9U0I1O2P4",
		Kind: "endpoint", DestinationID: "ep_01KBX3Q4W5E6R7T8Y9U0I1O2P5"}
	d.setLimits(&task, Limits{})
	ts := make([]store.Task, 1)
	b.ReportAllocs()
	for b.Loop() {
		ts[0] = task
		d.needLimits(&ts[0], time.Hour)
		d.push(ts)
		t, probe := d.take()
		if d.ordered(t) {
			b.Fatal("ordered")
		}
		d.release(t, probe, result{ran: true})
		d.forget(t)
	}
}

// BenchmarkDispatchWorkers is the dispatcher at a steady rate below its
// workers' capacity: 64 workers wait for tasks of one endpoint that arrive
// one at a time; each op is one task pushed, then taken, released and
// forgotten by a worker before the next comes. It counts the wake-ups: a
// push or a finished attempt that wakes every waiting worker costs each of
// them a trip through the lock.
func BenchmarkDispatchWorkers(b *testing.B) {
	d := newDispatcher(clock.Real{}, 10, 1000, 10000, Breaker{Threshold: 10, Cooldown: time.Second, MaxCooldown: time.Minute})
	proto := store.Task{TenantID: "ten_01KBX3Q4W5E6R7T8Y9U0I1O2P4", Kind: "endpoint", DestinationID: "ep_01KBX3Q4W5E6R7T8Y9U0I1O2P5"}
	d.setLimits(&proto, Limits{})
	var done sync.WaitGroup
	var finished atomic.Int64
	for range 64 {
		done.Go(func() {
			for {
				t, probe := d.take()
				if t == nil {
					return
				}
				d.release(t, probe, result{ran: true})
				d.forget(t)
				finished.Add(1)
			}
		})
	}
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = fmt.Sprintf("tsk_%026d", i)
	}
	b.ResetTimer()
	for i := range b.N {
		t := proto
		t.ID = ids[i]
		d.push([]store.Task{t})
		for finished.Load() <= int64(i) {
			runtime.Gosched()
		}
	}
	b.StopTimer()
	d.stop()
	done.Wait()
}
