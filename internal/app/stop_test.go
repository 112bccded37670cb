package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStopTwice: a Stop after Stop or Kill returns at once with the first
// call's result (a second Stop waited for ever for the server's end,
// which the first had taken), and a Kill after Stop does nothing.
func TestStopTwice(t *testing.T) {
	t.Parallel()
	// returns runs f and fails when it does not return: it would block
	// for ever, so any deadline tells.
	returns := func(t *testing.T, what string, f func() error) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- f() }()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatalf("%s never returns", what)
			return nil
		}
	}
	t.Run("stop", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		first := b.app.Stop(ctx)
		require.NoError(t, first)
		b.stopped = true // a Stop that hangs must not hang the cleanup too
		second := returns(t, "a second Stop", func() error { return b.app.Stop(ctx) })
		require.Equal(t, first, second, "the second Stop returns the first one's result")
		returns(t, "Kill after Stop", func() error { b.app.Kill(); return nil })
		b.start() // the first Stop let the data dir go: a new app starts on it
	})
	t.Run("kill", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.app.Kill()
		b.stopped = true
		returns(t, "a second Kill", func() error { b.app.Kill(); return nil })
		err := returns(t, "Stop after Kill", func() error { return b.app.Stop(context.Background()) })
		require.NoError(t, err, "Stop after Kill has nothing to stop")
	})
}
