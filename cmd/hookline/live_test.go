package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/app/apptest"
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
// when the test ends; opts change its options (its clock, say).
func startLive(t *testing.T, opts ...func(*app.Options)) *live {
	t.Helper()
	cfg := apptest.Config(t)
	cfg.AllowPrivateNetworks = true
	cfg.APIKey = liveKey
	o := app.Options{Wrap: openapitest.Check(t)}
	for _, fn := range opts {
		fn(&o)
	}
	a := apptest.Run(t, cfg, o)
	url := "http://" + a.Addr()
	return &live{app: a, url: url, client: client.New(url, liveKey)}
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

// deletes runs `group delete name` against l, checks that it says it
// deleted the noun name, and that `group get name` is a 404 from then on.
func (l *live) deletes(t *testing.T, group, noun, name string) {
	t.Helper()
	res := l.run(t, "", group, "delete", name).ok(t)
	require.Equal(t, "deleted "+noun+" "+name+"\n", res.stdout)
	l.run(t, "", group, "get", name).fails(t, "HTTP 404")
}
