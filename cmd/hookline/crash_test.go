package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// TestKillDashNineLosesNothing runs the real binary, SIGKILLs it while
// deliveries hang in flight and more wait in the queue, starts it again on
// the same data dir and checks every accepted event is delivered.
func TestKillDashNineLosesNothing(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "hookline")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	var healthy atomic.Bool
	var inFlight atomic.Int32
	var mu sync.Mutex
	seen := map[string]int{}
	release := make(chan struct{})
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
		if !healthy.Load() {
			inFlight.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	t.Cleanup(func() { close(release) })

	const key = "hk_test_kill_dash_nine_key_0123456789"
	addr := freeAddr(t)
	dataDir := filepath.Join(dir, "data")
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve", "--addr", addr, "--data-dir", dataDir, "--allow-private-networks")
		cmd.Env = append(os.Environ(), "HOOKLINE_API_KEY="+key)
		var logs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		require.Eventually(t, func() bool {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, 20*time.Second, 20*time.Millisecond, "server ready; logs: %s", &logs)
		return cmd
	}

	srv := start()
	c := client.New("http://"+addr, key)
	ctx := context.Background()
	_, err = c.CreateEndpoint(ctx, client.EndpointCreate{URL: rc.URL})
	require.NoError(t, err)
	const n = 200
	ids := make([]string, 0, n)
	for i := range n {
		ev, err := c.SendEvent(ctx, client.EventCreate{Type: "order.created", Data: json.RawMessage(`{"i":` + strconv.Itoa(i) + `}`)})
		require.NoError(t, err)
		ids = append(ids, ev.ID)
	}
	require.Eventually(t, func() bool { return inFlight.Load() >= 5 }, 10*time.Second, 5*time.Millisecond)

	require.NoError(t, srv.Process.Signal(os.Kill))
	_ = srv.Wait()
	healthy.Store(true)
	start()

	require.Eventually(t, func() bool {
		page, err := c.ListDeliveries(ctx, client.DeliveryListOptions{Status: client.DeliverySucceeded, ListOptions: client.ListOptions{Limit: 1000}})
		return err == nil && len(page.Data) == n
	}, 30*time.Second, 20*time.Millisecond, "every accepted event delivered after the restart")
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		require.GreaterOrEqual(t, seen[id], 1, "event %s reached the receiver", id)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}
