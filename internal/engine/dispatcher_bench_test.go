package engine

import (
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
