package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value is every percentile", ms(7), 1, 7 * time.Millisecond},
		{"one value p99", ms(7), 99, 7 * time.Millisecond},
		{"median of two is the lower", ms(1, 2), 50, time.Millisecond},
		{"median of odd count", ms(1, 2, 3), 50, 2 * time.Millisecond},
		{"p100 is the max", ms(1, 2, 3), 100, 3 * time.Millisecond},
		{"p50 of 1..100", ms(hundred...), 50, 50 * time.Millisecond},
		{"p95 of 1..100", ms(hundred...), 95, 95 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p99 of ten rounds up to the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p0 clamps to the min", ms(4, 5), 0, 4 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, percentile(tc.sorted, tc.p))
		})
	}
}

func TestSummarizeSortsAndConverts(t *testing.T) {
	t.Parallel()
	l := summarize([]time.Duration{3 * time.Millisecond, time.Millisecond, 2500 * time.Microsecond, 10 * time.Millisecond})
	require.Equal(t, Latency{Count: 4, P50MS: 2.5, P90MS: 10, P95MS: 10, P99MS: 10, MaxMS: 10}, l)
	require.Equal(t, Latency{}, summarize(nil))
}

func TestAccountDuplicatesLossAndLatency(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	accepted := map[string]time.Time{"evt_a": at(0), "evt_b": at(10), "evt_c": at(20)}
	type arr struct {
		id string
		at time.Time
		ok bool
	}
	log := func(arrivals ...arr) map[string]tally {
		m := map[string]*tally{}
		for _, a := range arrivals {
			if m[a.id] == nil {
				m[a.id] = &tally{}
			}
			m[a.id].add(a.at, a.ok)
		}
		out := map[string]tally{}
		for id, t := range m {
			out[id] = *t
		}
		return out
	}
	// Endpoint 1: a once, b twice (a duplicate, arriving out of order), c
	// after two failures, and an event never acknowledged.
	ep1 := log(arr{"evt_a", at(5), true},
		arr{"evt_b", at(40), true}, arr{"evt_b", at(30), true},
		arr{"evt_c", at(21), false}, arr{"evt_c", at(22), false}, arr{"evt_c", at(120), true},
		arr{"evt_x", at(50), true})
	// Endpoint 2: a arrives before its 202 did; b only failed; c is missing.
	ep2 := log(arr{"evt_a", at(-1), true}, arr{"evt_b", at(15), false})

	for _, tc := range []struct {
		name   string
		waited bool
		lost   int
		pend   int
	}{{"waited", true, 2, 0}, {"not waited", false, 0, 2}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := account(groupInput{name: "ok", accepted: accepted, firstAccept: at(0), logs: []map[string]tally{ep1, ep2}, waited: tc.waited})
			require.Equal(t, "ok", g.Name)
			require.Equal(t, 2, g.Endpoints)
			require.Equal(t, tc.waited, g.Waited)
			require.Equal(t, 6, g.Expected)
			require.Equal(t, 4, g.Unique, "a, b, c on ep1 and a on ep2")
			require.Equal(t, 1, g.Duplicates, "b twice on ep1")
			require.Equal(t, tc.lost, g.Lost, "b and c on ep2")
			require.Equal(t, tc.pend, g.Pending)
			require.Equal(t, 1, g.Unacked)
			require.Equal(t, 3, g.FailedAttempts)
			// Latencies: a 5ms, b 20ms (first arrival at 30), c 100ms, a on
			// ep2 clamped to 0.
			require.Equal(t, Latency{Count: 4, P50MS: 5, P90MS: 100, P95MS: 100, P99MS: 100, MaxMS: 100}, g.Latency)
			// Four unique deliveries from the first accept (0) to the last
			// first delivery (120ms).
			require.InDelta(t, 4/0.120, g.DeliveredPerSec, 1e-9)
		})
	}
}

func TestAccountNothingDelivered(t *testing.T) {
	t.Parallel()
	g := account(groupInput{name: "slow", accepted: map[string]time.Time{"evt_a": time.Now()}, logs: []map[string]tally{{}}})
	require.Equal(t, Group{Name: "slow", Endpoints: 1, Expected: 1, Pending: 1}, g)
}

func TestTallyKeepsEarliestSuccess(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var tl tally
	tl.add(t0.Add(time.Second), false)
	require.True(t, tl.first.IsZero(), "a failure is no delivery")
	tl.add(t0.Add(3*time.Second), true)
	tl.add(t0.Add(2*time.Second), true)
	require.Equal(t, tally{first: t0.Add(2 * time.Second), ok: 2, failed: 1}, tl)
}
