package engine_test

import (
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/store"
)

// since returns each attempt's start as an offset from t0.
func since(t0 time.Time, cs []call) []time.Duration {
	out := make([]time.Duration, len(cs))
	for i, c := range cs {
		out[i] = c.start.Sub(t0)
	}
	return out
}

// TestRoundRobinAcrossDestinations: with one worker, destinations with
// work waiting take turns, one task each, whatever order their tasks
// were accepted in.
func TestRoundRobinAcrossDestinations(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, func(c *engine.Config) { c.Workers = 1 })
		r.takes("dst_busy", time.Second)
		r.send(t, "dst_busy") // holds the one worker while the rest queue
		synctest.Wait()
		r.send(t, "dst_a", "dst_a", "dst_a", "dst_b", "dst_b", "dst_b", "dst_c", "dst_c", "dst_c")
		time.Sleep(2 * time.Second)
		synctest.Wait()
		var order []string
		for _, c := range r.attempts()[1:] {
			order = append(order, c.dest)
		}
		require.Equal(t, []string{"dst_a", "dst_b", "dst_c", "dst_a", "dst_b", "dst_c", "dst_a", "dst_b", "dst_c"}, order)
	})
}

// TestSlowDestinationHoldsOnlyItsSlots: a destination whose attempts
// take a minute holds at most max_in_flight workers; another destination
// is delivered at its own pace meanwhile.
func TestSlowDestinationHoldsOnlyItsSlots(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, func(c *engine.Config) { c.Workers, c.MaxInFlight = 8, 2 })
		r.takes("dst_slow", time.Minute)
		r.takes("dst_fast", time.Second)
		t0 := time.Now()
		slow := r.sendN(t, "dst_slow", 10)
		fast := r.sendN(t, "dst_fast", 10)

		time.Sleep(5 * time.Second)
		synctest.Wait()
		require.Len(t, r.attempts("dst_fast"), 10, "10 attempts, 2 at a time, 1 s each")
		for _, id := range fast {
			require.Equal(t, store.StatusSucceeded, r.task(t, id).Status)
		}
		require.Len(t, r.attempts("dst_slow"), 2, "the slow one has its two slots and no more")
		require.Equal(t, 2, r.peakInFlight("dst_fast"))

		time.Sleep(5*time.Minute - time.Since(t0))
		synctest.Wait()
		for _, id := range slow {
			require.Equal(t, store.StatusSucceeded, r.task(t, id).Status)
		}
		require.Equal(t, 2, r.peakInFlight("dst_slow"))
		require.Equal(t, 5*time.Minute, time.Since(t0), "10 attempts of 1 min, 2 at a time")
	})
}

// TestMaxInFlight: a destination has at most its max_in_flight attempts
// running at once (the engine's default unless it sets its own, one when
// ordered), and uses all of them.
func TestMaxInFlight(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		limits engine.Limits
		want   int
	}{
		{name: "engine default", want: 3},
		{name: "own limit", limits: engine.Limits{MaxInFlight: 5}, want: 5},
		{name: "ordered", limits: engine.Limits{MaxInFlight: 5, Ordered: true}, want: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				r := newRig(t, func(c *engine.Config) { c.MaxInFlight = 3 })
				r.setLimits("dst_1", tc.limits)
				r.takes("dst_1", time.Second)
				t0 := time.Now()
				ids := r.send(t, slices.Repeat([]string{"dst_1"}, 15)...)
				time.Sleep(time.Minute)
				synctest.Wait()
				for _, id := range ids {
					require.Equal(t, store.StatusSucceeded, r.task(t, id).Status)
				}
				require.Equal(t, tc.want, r.peakInFlight("dst_1"))
				cs := r.attempts("dst_1")
				require.Len(t, cs, 15)
				last := cs[len(cs)-1].end.Sub(t0)
				require.Equal(t, time.Duration((15+tc.want-1)/tc.want)*time.Second, last, "every slot used")
			})
		})
	}
}

// TestCircuitBreaker walks a destination's circuit through its states on
// the clock: closed until Threshold failures in a row, open for Cooldown
// (no attempt, though the retry is due), half-open for one probe, open
// again for twice as long (at most MaxCooldown) when the probe fails, and
// closed by a probe that succeeds. Other destinations are not held up.
func TestCircuitBreaker(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, func(c *engine.Config) {
			c.Breaker = engine.Breaker{Threshold: 3, Cooldown: 30 * time.Second, MaxCooldown: time.Minute}
		})
		down := engine.Outcome{Err: errDown, Schedule: slices.Repeat([]time.Duration{time.Second}, 10)}
		r.script("dst_1", func(n int) step {
			switch {
			case n <= 3:
				return step{out: down}
			case n <= 5: // the probes that fail take a second
				return step{took: time.Second, out: down}
			}
			return step{}
		})
		t0 := time.Now()
		at := func(d time.Duration) {
			time.Sleep(t0.Add(d).Sub(time.Now()))
			synctest.Wait()
		}
		circuit := func() string { return r.eng.Circuit(testKind, "dst_1") }
		id := r.send(t, "dst_1")[0]
		require.Equal(t, "closed", circuit())

		at(2 * time.Second) // failures at 0, 1 s and 2 s
		require.Len(t, r.attempts("dst_1"), 3)
		require.Equal(t, "open", circuit())

		at(10 * time.Second)
		ok := r.send(t, "dst_ok")[0]
		synctest.Wait()
		require.Equal(t, store.StatusSucceeded, r.task(t, ok).Status, "another destination goes on")
		at(32*time.Second - time.Millisecond)
		require.Len(t, r.attempts("dst_1"), 3, "no attempt while open, though the retry was due at 3 s")
		require.Equal(t, "open", circuit())

		at(32*time.Second + 500*time.Millisecond)
		require.Len(t, r.attempts("dst_1"), 4, "one probe")
		require.Equal(t, "half-open", circuit())

		at(34 * time.Second) // the probe failed at 33 s: open for 60 s
		require.Equal(t, "open", circuit())
		at(93*time.Second + 500*time.Millisecond)
		require.Len(t, r.attempts("dst_1"), 5, "the second probe")
		at(94*time.Second + time.Millisecond) // failed at 94 s: open for MaxCooldown, 60 s
		require.Equal(t, "open", circuit())

		at(3 * time.Minute)
		require.Equal(t, "closed", circuit(), "the third probe succeeded")
		got := r.task(t, id)
		require.Equal(t, store.StatusSucceeded, got.Status)
		require.Equal(t, 6, got.Attempts)
		require.Equal(t, []time.Duration{0, time.Second, 2 * time.Second, 32 * time.Second, 93 * time.Second, 154 * time.Second},
			since(t0, r.attempts("dst_1")))
	})
}

// TestOrderedWaitsForThePreviousTask: on an ordered destination a task
// whose elder is waiting for a retry waits too, and each attempt starts
// after the one before it has ended.
func TestOrderedWaitsForThePreviousTask(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		r.setLimits("dst_1", engine.Limits{Ordered: true})
		r.script("dst_1", func(n int) step {
			if n == 1 {
				return step{took: time.Second, out: engine.Outcome{Err: errDown, Schedule: []time.Duration{5 * time.Second}}}
			}
			return step{took: time.Second}
		})
		t0 := time.Now()
		ids := r.sendN(t, "dst_1", 3)
		time.Sleep(time.Minute)
		synctest.Wait()
		cs := r.attempts("dst_1")
		var order []string
		for _, c := range cs {
			order = append(order, c.taskID)
		}
		require.Equal(t, []string{ids[0], ids[0], ids[1], ids[2]}, order, "the first is retried before the second runs")
		for i := 1; i < len(cs); i++ {
			require.False(t, cs[i].start.Before(cs[i-1].end), "attempt %d starts after the one before it ended", i+1)
		}
		retried := cs[1].start.Sub(t0)
		require.GreaterOrEqual(t, retried, 6*time.Second, "failed at 1 s, retried 5 s later")
		require.LessOrEqual(t, retried, 6*time.Second+testPoll)
		require.LessOrEqual(t, cs[3].end.Sub(cs[1].start), 3*time.Second+testPoll, "no wait once the first succeeded")
		for _, id := range ids {
			require.Equal(t, store.StatusSucceeded, r.task(t, id).Status)
		}
	})
}

// TestRateLimit: a destination limited to 2 attempts a second takes a
// burst of 2, then one every 500 ms.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		r.setLimits("dst_1", engine.Limits{RateLimit: 2})
		t0 := time.Now()
		r.send(t, slices.Repeat([]string{"dst_1"}, 6)...)
		time.Sleep(time.Minute)
		synctest.Wait()
		starts := since(t0, r.attempts("dst_1"))
		require.Len(t, starts, 6)
		require.Equal(t, []time.Duration{0, 0}, starts[:2], "the burst")
		for i := 2; i < len(starts); i++ {
			gap := starts[i] - starts[i-1]
			require.GreaterOrEqual(t, gap, 499*time.Millisecond, "attempt %d", i+1)
			require.LessOrEqual(t, gap, 501*time.Millisecond, "attempt %d", i+1)
		}
	})
}
