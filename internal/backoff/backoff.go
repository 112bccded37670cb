// Package backoff is Hookline's one retry delay policy: a base delay, from
// a schedule or doubling up to a cap, spread by ±20% jitter so that work
// which failed together does not come back in step. It is pure: the
// caller passes the attempt number and the randomness.
package backoff

import "time"

// Jitter is the spread applied to every delay: ±20%.
const Jitter = 0.2

// Spread returns d spread over [d·(1−Jitter), d·(1+Jitter)) by rnd, which
// returns a value in [0, 1) (math/rand/v2's Float64; tests pass a
// constant, 0.5 leaving d unchanged).
func Spread(d time.Duration, rnd func() float64) time.Duration {
	factor := 1 - Jitter + 2*Jitter*rnd()
	return time.Duration(float64(d) * factor)
}

// Exponential is a delay that doubles after each consecutive failure,
// from Initial up to Max. Max equal to Initial makes it fixed.
type Exponential struct {
	Initial time.Duration
	Max     time.Duration
}

// Base returns the delay after the attempt-th consecutive failure (from
// 1; less counts as 1) before jitter: Initial doubled attempt−1 times,
// never more than Max.
func (e Exponential) Base(attempt int) time.Duration {
	d := e.Initial
	// 63 doublings take any positive delay past the largest Duration.
	for range min(attempt-1, 64) {
		if d > e.Max-d { // d*2 > Max, without overflowing
			return e.Max
		}
		d *= 2
	}
	return min(d, e.Max)
}

// Delay returns Base(attempt) spread by ±Jitter with rnd (see Spread).
func (e Exponential) Delay(attempt int, rnd func() float64) time.Duration {
	return Spread(e.Base(attempt), rnd)
}
