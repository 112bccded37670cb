package workflow

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRetrySchedule is the schedule docs/workflows.md documents: the wait
// after each failed attempt before jitter, then spread by ±20%.
func TestRetrySchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy RetryDef
		want   []time.Duration // after attempt 1, 2, …
	}{
		{"defaults", RetryDef{Attempts: 20},
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}},
		{"capped", RetryDef{Attempts: 20, Initial: "1s", Max: "30s"},
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}},
		{"default max is an hour", RetryDef{Attempts: 20, Initial: "10m"},
			[]time.Duration{10 * time.Minute, 20 * time.Minute, 40 * time.Minute, time.Hour, time.Hour}},
		{"fixed", RetryDef{Attempts: 5, Backoff: "fixed", Initial: "2s"},
			[]time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{"fixed ignores max", RetryDef{Attempts: 5, Backoff: "fixed", Initial: "2m", Max: "1m"},
			[]time.Duration{2 * time.Minute, 2 * time.Minute}},
		{"initial above max", RetryDef{Attempts: 5, Initial: "2m", Max: "1m"},
			[]time.Duration{time.Minute, time.Minute}},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, tt := range tests {
		rt, err := compileRetry("retry", &tt.policy)
		require.NoError(t, err, tt.name)
		for i, base := range tt.want {
			attempt := i + 1
			require.Equal(t, base, rt.delay.Delay(attempt, func() float64 { return 0.5 }), "%s: attempt %d", tt.name, attempt)
			lo, hi := time.Duration(float64(base)*0.8), time.Duration(float64(base)*1.2)
			require.Equal(t, lo, rt.delay.Delay(attempt, func() float64 { return 0 }), "%s: attempt %d shortest", tt.name, attempt)
			for range 100 {
				d := rt.delay.Delay(attempt, r.Float64)
				require.GreaterOrEqual(t, d, lo, "%s: attempt %d", tt.name, attempt)
				require.Less(t, d, hi, "%s: attempt %d", tt.name, attempt)
			}
		}
	}
}
