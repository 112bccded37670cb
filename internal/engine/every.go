package engine

import (
	"context"
	"time"
)

// every calls fn once each interval, the first time one interval from now,
// and at once whenever wake (nil for never) receives, until ctx ends.
func every(ctx context.Context, interval time.Duration, wake <-chan struct{}, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		fn()
	}
}
