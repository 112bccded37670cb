package main

import (
	"context"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/testkit"
)

var (
	adminKeyPattern = regexp.MustCompile(`hk_[A-Za-z0-9_-]{20,}`)
	listenAddr      = regexp.MustCompile(`msg="hookline listening" addr=(\S+)`)
)

// TestFirstStartOnBusyPortKeepsTheKey starts serve on an empty data dir
// and a port in use: it fails naming the address and prints no key; the
// next start, on a free port, prints the key, and the key works.
func TestFirstStartOnBusyPortKeepsTheKey(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() })
	dataDir := filepath.Join(t.TempDir(), "data")
	b := &bundle{env: map[string]string{}}

	res := b.run(t, "", "serve", "--addr", busy.Addr().String(), "--data-dir", dataDir).fails(t, "error: cannot listen on "+busy.Addr().String()+": the address is already in use", "--addr or HOOKLINE_ADDR")
	require.NotRegexp(t, adminKeyPattern, res.stdout+res.stderr, "no key printed by a start that failed")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr testkit.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, strings.NewReader(""), &stdout, &stderr,
			func(string) (string, bool) { return "", false })
	}()
	require.Eventually(t, func() bool { return listenAddr.MatchString(stderr.String()) }, 20*time.Second, 10*time.Millisecond,
		"the second start listens; stderr: %s", &stderr)
	key := adminKeyPattern.FindString(stdout.String())
	require.NotEmpty(t, key, "the second start prints the key; stdout: %s", stdout.String())
	require.Contains(t, stdout.String(), "It is shown only this once")

	addr := listenAddr.FindStringSubmatch(stderr.String())[1]
	_, err = client.New("http://"+addr, key).ListAPIKeys(ctx)
	require.NoError(t, err, "the printed key is the tenant's admin key")
	cancel()
	require.Equal(t, 0, <-done, "stderr: %s", &stderr)

	// A third start prints nothing: the key was issued once.
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	var stdout3, stderr3 testkit.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, strings.NewReader(""), &stdout3, &stderr3,
			func(string) (string, bool) { return "", false })
	}()
	require.Eventually(t, func() bool { return listenAddr.MatchString(stderr3.String()) }, 20*time.Second, 10*time.Millisecond)
	require.Empty(t, stdout3.String())
	cancel()
	require.Equal(t, 0, <-done)
}
