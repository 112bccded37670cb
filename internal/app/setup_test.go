package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/config"
)

// bundle is a running server on a temporary data dir with its admin key.
type bundle struct {
	t       *testing.T
	app     *app.App
	cfg     config.Config
	opts    app.Options
	url     string
	key     string
	client  *client.Client
	stopped bool
}

type setupOpt func(*config.Config, *app.Options)

func withClock(c clock.Clock) setupOpt {
	return func(_ *config.Config, o *app.Options) { o.Clock = c }
}

func withRand(r func() float64) setupOpt {
	return func(_ *config.Config, o *app.Options) { o.Rand = r }
}

func withoutPrivateNetworks() setupOpt {
	return func(c *config.Config, _ *app.Options) { c.AllowPrivateNetworks = false }
}

var keyPattern = regexp.MustCompile(`hk_[A-Za-z0-9_-]+`)

// setup starts a server that may deliver to loopback (httptest receivers),
// polling fast so retries made due by a test clock run promptly.
func setup(t *testing.T, opts ...setupOpt) *bundle {
	t.Helper()
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.AllowPrivateNetworks = true
	o := app.Options{PollInterval: 20 * time.Millisecond}
	for _, fn := range opts {
		fn(&cfg, &o)
	}
	b := &bundle{t: t, cfg: cfg, opts: o}
	var out bytes.Buffer
	b.opts.Out = &out
	b.start()
	b.key = keyPattern.FindString(out.String())
	require.NotEmpty(t, b.key, "first start prints the admin key")
	b.client = client.New(b.url, b.key)
	t.Cleanup(func() {
		if !b.stopped {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			require.NoError(t, b.app.Stop(ctx))
		}
	})
	return b
}

func (b *bundle) start() {
	b.t.Helper()
	a, err := app.New(context.Background(), b.cfg, b.opts)
	require.NoError(b.t, err)
	require.NoError(b.t, a.Start(context.Background()))
	b.app, b.url, b.stopped = a, "http://"+a.Addr(), false
	if b.key != "" {
		b.client = client.New(b.url, b.key)
	}
}

// restart kills the server abruptly (kill=true) or stops it gracefully,
// then starts a new one on the same data dir.
func (b *bundle) restart(kill bool) {
	b.t.Helper()
	if kill {
		b.app.Kill()
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(b.t, b.app.Stop(ctx))
	}
	b.stopped = true
	b.start()
}

// do sends a raw request with the bundle's key (or key when not empty) and
// returns the status and decoded JSON body.
func (b *bundle) do(method, path, body string, headers ...string) (int, map[string]any) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.url+path, bytes.NewBufferString(body))
	require.NoError(b.t, err)
	req.Header.Set("Authorization", "Bearer "+b.key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(b.t, json.Unmarshal(raw, &out), "body: %s", raw)
	}
	return resp.StatusCode, out
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventually(t, cond, 15*time.Second, 10*time.Millisecond, append([]any{msg}, args...)...)
}

func asClientError(err error, target **client.Error) bool {
	return errors.As(err, target)
}
