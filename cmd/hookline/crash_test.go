package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
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
	bin := buildHookline(t)

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

	srv := startServe(t, bin, "crash", "--data-dir", filepath.Join(t.TempDir(), "data"))
	c := srv.client()
	ctx := context.Background()
	_, err := c.CreateEndpoint(ctx, client.EndpointCreate{URL: rc.URL})
	require.NoError(t, err)
	const n = 200
	ids := make([]string, 0, n)
	for i := range n {
		ev, err := c.SendEvent(ctx, client.EventCreate{Type: "order.created", Data: json.RawMessage(`{"i":` + strconv.Itoa(i) + `}`)})
		require.NoError(t, err)
		ids = append(ids, ev.ID)
	}
	require.Eventually(t, func() bool { return inFlight.Load() >= 5 }, 10*time.Second, 5*time.Millisecond)

	srv.signal(t, os.Kill)
	healthy.Store(true)
	srv.restart(t)

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
