package backoff_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/backoff"
)

func TestSpreadBounds(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, d := range []time.Duration{time.Millisecond, 5 * time.Second, 10 * time.Hour} {
		lo, hi := time.Duration(float64(d)*0.8), time.Duration(float64(d)*1.2)
		var sawLow, sawHigh bool
		for range 2000 {
			got := backoff.Spread(d, r.Float64)
			require.GreaterOrEqual(t, got, lo)
			require.Less(t, got, hi)
			sawLow = sawLow || got < d
			sawHigh = sawHigh || got > d
		}
		require.True(t, sawLow && sawHigh, "jitter spreads both ways around %s", d)
	}
}

func TestSpreadExtremes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rnd  float64
		want time.Duration
	}{
		{0, 8 * time.Second},
		{0.5, 10 * time.Second},
		{0.75, 11 * time.Second},
		{0.9999999999, 12 * time.Second},
	}
	for _, tt := range tests {
		got := backoff.Spread(10*time.Second, func() float64 { return tt.rnd })
		require.InDelta(t, float64(tt.want), float64(got), float64(time.Microsecond), "rnd %v", tt.rnd)
	}
}

func TestExponentialBase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		initial, max time.Duration
		attempt      int
		want         time.Duration
	}{
		{"first", time.Second, time.Hour, 1, time.Second},
		{"below first counts as first", time.Second, time.Hour, 0, time.Second},
		{"negative", time.Second, time.Hour, -3, time.Second},
		{"doubles", time.Second, time.Hour, 2, 2 * time.Second},
		{"doubles again", time.Second, time.Hour, 4, 8 * time.Second},
		{"just under the cap", time.Second, time.Hour, 12, 2048 * time.Second},
		{"capped", time.Second, time.Hour, 13, time.Hour},
		{"stays capped", time.Second, time.Hour, 1000000, time.Hour},
		{"fixed", 3 * time.Second, 3 * time.Second, 7, 3 * time.Second},
		{"initial above max", time.Minute, time.Second, 1, time.Second},
		{"huge cap does not overflow", time.Second, time.Duration(1<<63 - 1), 200, time.Duration(1<<63 - 1)},
		{"odd cap", 15, 31, 2, 30},
		{"zero initial", 0, time.Second, 1000000, 0},
		{"capture reconnect", 100 * time.Millisecond, 30 * time.Second, 10, 30 * time.Second},
	}
	for _, tt := range tests {
		got := backoff.Exponential{Initial: tt.initial, Max: tt.max}.Base(tt.attempt)
		require.Equal(t, tt.want, got, tt.name)
	}
}

func TestExponentialDelayIsSpread(t *testing.T) {
	t.Parallel()
	e := backoff.Exponential{Initial: time.Second, Max: time.Minute}
	for attempt := 1; attempt <= 10; attempt++ {
		base := e.Base(attempt)
		require.Equal(t, base, e.Delay(attempt, func() float64 { return 0.5 }))
		require.Equal(t, time.Duration(float64(base)*0.8), e.Delay(attempt, func() float64 { return 0 }))
		require.Less(t, e.Delay(attempt, func() float64 { return 0.9999999999 }), time.Duration(float64(base)*1.2)+1)
	}
}
