package engine

import (
	"time"

	"github.com/hookline/hookline/internal/backoff"
)

// DefaultSchedule is the delay before each retry: the first attempt is
// immediate, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h — eight
// attempts over about 27 hours.
var DefaultSchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// Jitter is the spread applied to every retry delay: ±20%, the one
// policy's (backoff.Jitter).
const Jitter = backoff.Jitter

// MaxRetryAfter caps how long a destination's Retry-After can defer a retry.
const MaxRetryAfter = 24 * time.Hour

// NextRetry returns the delay before the next attempt after attempt number
// attempts (1-based) failed, and false when the schedule is exhausted.
// rnd returns a value in [0, 1) and spreads the delay by ±Jitter. A positive
// retryAfter from the destination replaces the scheduled delay (capped at
// MaxRetryAfter) and is not jittered: the destination asked for that time.
func NextRetry(schedule []time.Duration, attempts int, retryAfter time.Duration, rnd func() float64) (time.Duration, bool) {
	if schedule == nil {
		schedule = DefaultSchedule
	}
	if attempts < 1 || attempts > len(schedule) {
		return 0, false
	}
	if retryAfter > 0 {
		return min(retryAfter, MaxRetryAfter), true
	}
	return backoff.Spread(schedule[attempts-1], rnd), true
}
