package bench

import (
	"math"
	"slices"
	"time"
)

// tally is what the receiver saw of one (event, endpoint) pair.
type tally struct {
	// first is the arrival time of the first request answered 2xx; zero
	// while there is none.
	first time.Time
	// ok counts requests answered 2xx; every one after the first is a
	// duplicate.
	ok int
	// failed counts requests answered otherwise (the S4 outage).
	failed int
}

// add records one request that arrived at at and was answered 2xx when ok.
func (t *tally) add(at time.Time, ok bool) {
	if !ok {
		t.failed++
		return
	}
	if t.ok == 0 || at.Before(t.first) {
		t.first = at
	}
	t.ok++
}

// groupInput is what account needs to sum up one group.
type groupInput struct {
	name string
	// accepted maps the id of every accepted event to its accept time.
	accepted map[string]time.Time
	// firstAccept is the earliest accept time.
	firstAccept time.Time
	// logs holds, per endpoint of the group, the tallies by event id.
	logs   []map[string]tally
	waited bool
}

// account sums up what the endpoints of one group received. A delivery
// that arrived before its 202 reached the publisher (the server commits,
// then answers) counts with latency zero.
func account(in groupInput) Group {
	g := Group{Name: in.name, Endpoints: len(in.logs), Waited: in.waited, Expected: len(in.accepted) * len(in.logs)}
	lat := make([]time.Duration, 0, g.Expected)
	var last time.Time
	missing := 0
	for _, log := range in.logs {
		for id, t := range log {
			g.FailedAttempts += t.failed
			if t.ok == 0 {
				continue
			}
			g.Duplicates += t.ok - 1
			acc, ok := in.accepted[id]
			if !ok {
				g.Unacked++
				continue
			}
			g.Unique++
			lat = append(lat, max(t.first.Sub(acc), 0))
			if t.first.After(last) {
				last = t.first
			}
		}
		for id := range in.accepted {
			if log[id].ok == 0 {
				missing++
			}
		}
	}
	if in.waited {
		g.Lost = missing
	} else {
		g.Pending = missing
	}
	if span := last.Sub(in.firstAccept); g.Unique > 0 && span > 0 {
		g.DeliveredPerSec = float64(g.Unique) / span.Seconds()
	}
	g.Latency = summarize(lat)
	return g
}

// summarize returns the percentiles of d, which it sorts.
func summarize(d []time.Duration) Latency {
	slices.Sort(d)
	l := Latency{Count: len(d)}
	if len(d) == 0 {
		return l
	}
	l.P50MS = ms(percentile(d, 50))
	l.P90MS = ms(percentile(d, 90))
	l.P95MS = ms(percentile(d, 95))
	l.P99MS = ms(percentile(d, 99))
	l.MaxMS = ms(d[len(d)-1])
	return l
}

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// sorted: the smallest value at least p percent of the values are not
// greater than. It is zero for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// ms converts d to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
