// Package apptest starts a Hookline app in the process of a test.
package apptest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/config"
)

// Config is the default configuration on a free loopback port with its
// data in a temporary directory of tb.
func Config(tb testing.TB) config.Config {
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(tb.TempDir(), "data")
	return cfg
}

// Start builds and starts an app on cfg and opts. The caller stops it
// (Stop); Run stops it when the test ends.
func Start(tb testing.TB, cfg config.Config, opts app.Options) *app.App {
	tb.Helper()
	a, err := app.New(context.Background(), cfg, opts)
	require.NoError(tb, err)
	require.NoError(tb, a.Start(context.Background()))
	return a
}

// Stop stops a gracefully, giving it fifteen seconds.
func Stop(a *app.App) error {
	// More than 5 s: net/http's Shutdown counts a connection that has not
	// sent a request yet as active for its first 5 s, and a client that
	// sends requests at once leaves such spare dials behind.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return a.Stop(ctx)
}

// Run starts an app on cfg and opts as Start does and stops it when the
// test ends.
func Run(tb testing.TB, cfg config.Config, opts app.Options) *app.App {
	tb.Helper()
	a := Start(tb, cfg, opts)
	tb.Cleanup(func() { require.NoError(tb, Stop(a)) })
	return a
}
