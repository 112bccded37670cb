package backoff_test

import (
	"fmt"
	"time"

	"github.com/hookline/hookline/internal/backoff"
)

func ExampleExponential() {
	e := backoff.Exponential{Initial: time.Second, Max: 30 * time.Second}
	middle := func() float64 { return 0.5 } // no jitter
	var delays []time.Duration
	for attempt := 1; attempt <= 7; attempt++ {
		delays = append(delays, e.Delay(attempt, middle))
	}
	fmt.Println(delays)
	fmt.Println(e.Delay(3, func() float64 { return 0 }), "at the least,", e.Delay(3, func() float64 { return 0.999999 }).Round(time.Millisecond), "at the most")
	// Output:
	// [1s 2s 4s 8s 16s 30s 30s]
	// 3.2s at the least, 4.8s at the most
}
