package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/testkit"
)

// publish posts one event with an idempotency key and returns the status,
// the Retry-After header and the event id (on a 2xx).
func (b *bundle) publish(key, data string) (int, string, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.url+"/v1/events",
		strings.NewReader(`{"type":"order.created","data":`+data+`}`))
	require.NoError(b.t, err)
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	var out struct {
		ID    string `json:"id"`
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	require.NoError(b.t, json.NewDecoder(resp.Body).Decode(&out))
	if resp.StatusCode >= 300 {
		return resp.StatusCode, resp.Header.Get("Retry-After"), out.Error.Code
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), out.ID
}

func (b *bundle) ready() int {
	resp, err := http.Get(b.url + "/readyz")
	require.NoError(b.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestDiskFull fills the SQLite database for real (max_page_count, as a
// full disk): publishes and received webhooks are answered 507 with
// Retry-After and nothing of them is stored, /readyz is 503 while /healthz
// stays 200; once room is made /readyz is 200 again by itself, without a
// request, and every event answered 2xx is delivered.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	b := setup(t, withLease(2*time.Second))
	ctx := context.Background()
	rc := testkit.NewReceiver(t)
	b.endpoint(client.EndpointCreate{URL: rc.URL})
	status, _ := b.do("POST", "/v1/sources", `{"name":"shop","verification":{"kind":"none"}}`)
	require.Equal(t, http.StatusCreated, status)

	var accepted []string
	for i := range 5 {
		status, _, id := b.publish(fmt.Sprint("before-", i), `{"i":1}`)
		require.Equal(t, http.StatusAccepted, status)
		accepted = append(accepted, id)
	}
	st, ok := b.app.Store().(*sqlite.Store)
	require.True(t, ok)
	require.NoError(t, st.LimitGrowth(ctx, 30))

	pad := `{"pad":"` + strings.Repeat("x", 64<<10) + `"}`
	var refused []string
	for i := 0; len(refused) < 3 && i < 200; i++ {
		key := fmt.Sprint("during-", i)
		status, retry, got := b.publish(key, pad)
		switch status {
		case http.StatusAccepted:
			accepted = append(accepted, got)
		case http.StatusInsufficientStorage:
			require.Equal(t, "insufficient_storage", got)
			require.Equal(t, "30", retry)
			refused = append(refused, key)
		default:
			t.Fatalf("publish %s: status %d %s", key, status, got)
		}
	}
	require.Len(t, refused, 3, "the capped database filled up")
	require.Equal(t, http.StatusServiceUnavailable, b.ready(), "/readyz while writes fail")
	resp, err := http.Get(b.url + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Post(b.url+"/in/shop", "application/json", bytes.NewBufferString(pad))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusInsufficientStorage, resp.StatusCode, "a received webhook too")
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	require.Equal(t, http.StatusServiceUnavailable, b.ready(), "a probe does not pass while the disk is full")

	start := time.Now()
	require.NoError(t, st.LimitGrowth(ctx, -1))
	require.Eventually(t, func() bool { return b.ready() == http.StatusOK }, 10*time.Second, 20*time.Millisecond,
		"/readyz recovers by itself")
	t.Logf("/readyz ready %s after room was made", time.Since(start).Round(time.Millisecond))

	for _, key := range refused {
		status, _, _ := b.publish(key, `{"again":true}`)
		require.Equal(t, http.StatusAccepted, status, "%s was not stored: its retry is new, not a duplicate", key)
	}
	require.Eventually(t, func() bool { return rc.GotAll(accepted) }, 20*time.Second, 20*time.Millisecond, "every event answered 2xx is delivered")
}
