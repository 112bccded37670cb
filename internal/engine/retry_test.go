package engine

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNextRetryBounds(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for attempt := 1; attempt <= len(DefaultSchedule); attempt++ {
		base := DefaultSchedule[attempt-1]
		lo, hi := time.Duration(float64(base)*0.8), time.Duration(float64(base)*1.2)
		var sawLow, sawHigh bool
		for range 2000 {
			d, ok := NextRetry(nil, attempt, 0, r.Float64)
			require.True(t, ok)
			require.GreaterOrEqual(t, d, lo)
			require.LessOrEqual(t, d, hi)
			sawLow = sawLow || d < base
			sawHigh = sawHigh || d > base
		}
		require.True(t, sawLow && sawHigh, "jitter spreads both ways at attempt %d", attempt)
	}
	_, ok := NextRetry(nil, len(DefaultSchedule)+1, 0, r.Float64)
	require.False(t, ok, "eight attempts in all")
}

func TestNextRetryExtremes(t *testing.T) {
	t.Parallel()
	d, _ := NextRetry(nil, 1, 0, func() float64 { return 0 })
	require.Equal(t, 4*time.Second, d)
	d, _ = NextRetry(nil, 1, 0, func() float64 { return 0.9999999999 })
	require.InDelta(t, float64(6*time.Second), float64(d), float64(time.Millisecond))
	d, _ = NextRetry(nil, 7, 0, func() float64 { return 0.5 })
	require.Equal(t, 10*time.Hour, d)
}

func TestNextRetryCustomScheduleAndRetryAfter(t *testing.T) {
	t.Parallel()
	half := func() float64 { return 0.5 }
	s := []time.Duration{time.Second, time.Minute}
	d, ok := NextRetry(s, 2, 0, half)
	require.True(t, ok)
	require.Equal(t, time.Minute, d)
	_, ok = NextRetry(s, 3, 0, half)
	require.False(t, ok)
	d, ok = NextRetry(s, 1, 90*time.Second, half)
	require.True(t, ok)
	require.Equal(t, 90*time.Second, d, "Retry-After replaces the schedule")
	d, _ = NextRetry(s, 1, 100*time.Hour, half)
	require.Equal(t, MaxRetryAfter, d)
	_, ok = NextRetry(s, 2+1, time.Second, half)
	require.False(t, ok, "Retry-After does not add attempts")
}
