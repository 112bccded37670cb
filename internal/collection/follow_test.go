package collection

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMirrorRetry: a failing mirror retries after 250 ms doubling up to
// 5 s, for ever, each delay spread ±20 %.
func TestMirrorRetry(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	for _, tc := range []struct {
		attempts int
		base     time.Duration
	}{
		{0, 250 * ms}, {1, 250 * ms}, {2, 500 * ms}, {3, time.Second}, {4, 2 * time.Second},
		{5, 4 * time.Second}, {6, 5 * time.Second}, {100, 5 * time.Second},
	} {
		require.Equal(t, tc.base, mirrorRetry(tc.attempts, func() float64 { return 0.5 }), "attempt %d", tc.attempts)
		require.Equal(t, tc.base*8/10, mirrorRetry(tc.attempts, func() float64 { return 0 }), "attempt %d, earliest", tc.attempts)
		require.Less(t, mirrorRetry(tc.attempts, func() float64 { return 0.999999 }), tc.base*12/10, "attempt %d, latest", tc.attempts)
	}
}
