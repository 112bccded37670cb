package main

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/openapi/openapitest"
)

// liveKey is the admin API key of servers started by startLive.
const liveKey = "hk_test_live_server_key_0123456789"

// live is a real Hookline server on a temporary data dir.
type live struct {
	app    *app.App
	url    string
	client *client.Client
}

// startLive starts a real server that may deliver to loopback, and stops it
// when the test ends.
func startLive(t *testing.T) *live {
	t.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.AllowPrivateNetworks = true
	cfg.APIKey = liveKey
	a := startApp(t, cfg, app.Options{Wrap: openapitest.Check(t)})
	url := "http://" + a.Addr()
	return &live{app: a, url: url, client: client.New(url, liveKey)}
}

// startApp starts the server of cfg with opts in this process, and stops
// it when the test ends.
func startApp(t *testing.T, cfg config.Config, opts app.Options) *app.App {
	t.Helper()
	a, err := app.New(context.Background(), cfg, opts)
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	t.Cleanup(func() {
		// More than 5 s: net/http's Shutdown counts a connection that has
		// sent no request yet as active for its first 5 s.
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		require.NoError(t, a.Stop(ctx))
	})
	return a
}

// cli is the environment that points the CLI at l.
func (l *live) cli() *bundle {
	return &bundle{env: map[string]string{envServer: l.url, envAPIKey: liveKey}}
}

// run runs the CLI against l.
func (l *live) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return l.cli().run(t, stdin, args...)
}

// syncBuffer is a bytes.Buffer that a command or logger may write while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
