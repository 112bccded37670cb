package bench

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTimetable(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tt := timetable{start: t0, rate: 2000}
	require.Equal(t, t0, tt.due(0))
	require.Equal(t, t0.Add(500*time.Microsecond), tt.due(1))
	require.Equal(t, t0.Add(10*time.Second), tt.due(20000))
	// No drift: the 1,000,000th event is due exactly rate later, not the
	// sum of a million rounded periods.
	tt = timetable{start: t0, rate: 3}
	require.Equal(t, t0.Add(333333333*time.Nanosecond), tt.due(1))
	require.Equal(t, t0.Add(1_000_000*time.Second/3), tt.due(1_000_000))
}

func TestEventShapeSize(t *testing.T) {
	t.Parallel()
	for _, size := range []int{MinEventSize, DefaultEventSize, 4096} {
		s := newEventShape("bench.0a1b2c3d.s1", size)
		var b []byte
		for _, seq := range []int{0, 7, 12345, 99999999} {
			b = s.body(b[:0], seq)
			require.Len(t, b, size, "size %d seq %d", size, seq)
			var ev struct {
				Type string `json:"type"`
				Data struct {
					Seq  int    `json:"seq"`
					Note string `json:"note"`
				} `json:"data"`
			}
			require.NoError(t, json.Unmarshal(b, &ev))
			require.Equal(t, "bench.0a1b2c3d.s1", ev.Type)
			require.Equal(t, seq, ev.Data.Seq)
		}
	}
	// Too small for the rest: no padding, never cut.
	b := newEventShape("bench.type", 10).body(nil, 3)
	require.JSONEq(t, `{"type":"bench.type","data":{"seq":3,"note":""}}`, string(b))
}

// msDur returns v milliseconds.
func msDur(v int) time.Duration { return time.Duration(v) * time.Millisecond }

// fakeSend answers events after the delay their seq maps to (default
// 10 ms) in the synctest bubble's virtual time, and records when each was
// sent.
type fakeSend struct {
	mu     sync.Mutex
	delay  map[int]time.Duration
	sentAt map[int]time.Time
	fail   map[int]bool
}

func (f *fakeSend) send(ctx context.Context, seq int, _ []byte) (string, time.Time, error) {
	f.mu.Lock()
	f.sentAt[seq] = time.Now()
	d, ok := f.delay[seq]
	fail := f.fail[seq]
	f.mu.Unlock()
	if !ok {
		d = 10 * time.Millisecond
	}
	// The answer's delay, on the bubble's clock; a cancelled publish
	// stops waiting as a real request would.
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return "", time.Time{}, ctx.Err()
	}
	if fail {
		return "", time.Time{}, errors.New("status 503")
	}
	return "evt_" + strconv.Itoa(seq), time.Now(), nil
}

// runFake publishes 5 events with one worker at rate (0: closed loop);
// the first takes 250 ms to answer, the others 10 ms.
func runFake(t *testing.T, rate float64) (published, *fakeSend, time.Time) {
	t.Helper()
	f := &fakeSend{delay: map[int]time.Duration{0: 250 * time.Millisecond}, sentAt: map[int]time.Time{}, fail: map[int]bool{}}
	p := &publisher{send: f.send, shape: newEventShape("t", MinEventSize), events: 5, workers: 1, rate: rate}
	start := time.Now()
	out := p.run(context.Background())
	require.EqualValues(t, 5, p.accepted.Load())
	return out, f, start
}

func TestPublisherOpenLoopCountsTheWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// 10 events/s: due at 0, 100, 200, 300, 400 ms. Event 0 holds the
		// only publisher until 250 ms, so events 1 and 2 go out late and
		// their latency counts the wait from when they were due.
		out, f, start := runFake(t, 10)
		require.Equal(t, []time.Duration{msDur(250), msDur(160), msDur(70), msDur(10), msDur(10)}, out.latency)
		for seq, want := range []int{0, 250, 260, 300, 400} {
			require.Equal(t, msDur(want), f.sentAt[seq].Sub(start), "event %d sent", seq)
		}
		require.Equal(t, msDur(410), out.wall, "first send to last answer")
		require.Len(t, out.accepted, 5)
		require.Equal(t, start.Add(msDur(250)), out.firstAccept)
		require.Equal(t, start.Add(msDur(410)), out.accepted["evt_4"])
	})
}

func TestPublisherClosedLoop(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// As fast as answered: each event is due when it is sent, so the
		// wait behind event 0 is not counted (the open loop's point).
		out, _, _ := runFake(t, 0)
		require.Equal(t, []time.Duration{msDur(250), msDur(10), msDur(10), msDur(10), msDur(10)}, out.latency)
		require.Equal(t, msDur(290), out.wall)
	})
}

func TestPublisherErrorsAndStop(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := &fakeSend{delay: map[int]time.Duration{}, sentAt: map[int]time.Time{}, fail: map[int]bool{1: true}}
		p := &publisher{send: f.send, shape: newEventShape("t", MinEventSize), events: 3, workers: 2, rate: 100}
		out := p.run(context.Background())
		require.Equal(t, 1, out.errors)
		require.EqualError(t, out.firstErr, "status 503")
		require.Len(t, out.accepted, 2)
		require.Len(t, out.latency, 2, "failed publishes have no publish latency")

		// An open-loop run stops waiting for its next slot when its
		// context ends.
		ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		defer cancel()
		f = &fakeSend{delay: map[int]time.Duration{}, sentAt: map[int]time.Time{}, fail: map[int]bool{}}
		p = &publisher{send: f.send, shape: newEventShape("t", MinEventSize), events: 1000, workers: 4, rate: 10}
		out = p.run(ctx)
		require.Len(t, out.accepted, 3, "due at 0, 100 and 200 ms")
	})
}
