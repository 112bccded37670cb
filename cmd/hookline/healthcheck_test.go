package main

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/app/apptest"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/tlstest"
)

// TestHealthcheck probes a real server as a container's HEALTHCHECK does,
// with the server's settings in the environment: over HTTP on every
// interface, over HTTPS with its certificate files, and nothing
// listening.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	start := func(cfg config.Config) string {
		cfg.DataDir = filepath.Join(t.TempDir(), "data")
		cfg.APIKey = liveKey
		return apptest.Run(t, cfg, app.Options{}).Addr()
	}

	cfg := config.Default()
	cfg.Addr = "0.0.0.0:0"
	_, port, err := net.SplitHostPort(start(cfg))
	require.NoError(t, err)
	b := &bundle{env: map[string]string{"HOOKLINE_ADDR": "0.0.0.0:" + port}}
	res := b.run(t, "", "healthcheck")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, "healthy: GET http://127.0.0.1:"+port+"/healthz: 200 OK\n", res.stdout)

	_, certFile, keyFile := tlstest.Files(t, t.TempDir(), 1)
	cfg = config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	addr := start(cfg)
	b = &bundle{env: map[string]string{"HOOKLINE_ADDR": addr, "HOOKLINE_TLS_CERT": certFile, "HOOKLINE_TLS_KEY": keyFile}}
	res = b.run(t, "", "healthcheck")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, "healthy: GET https://"+addr+"/healthz: 200 OK\n", res.stdout)

	res = b.run(t, "", "healthcheck", "--url", "http://"+addr+"/healthz")
	require.Equal(t, 1, res.code, "plain HTTP to the TLS port")
	require.Contains(t, res.stderr, "error: unhealthy: GET http://"+addr+"/healthz: 400 Bad Request")

	// Nothing listens on a port just freed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	free := ln.Addr().String()
	require.NoError(t, ln.Close())
	b = &bundle{env: map[string]string{"HOOKLINE_ADDR": free}}
	res = b.run(t, "", "healthcheck", "--timeout", "2s")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, "error: unhealthy: Get \"http://"+free+"/healthz\": dial tcp "+free+": connect: connection refused")
}
