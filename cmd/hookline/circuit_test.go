package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// TestEndpointsShowAndRecoverCircuit opens an endpoint's circuit on a real
// server: list and get show it, and recover closes it although no
// delivery failed for good.
func TestEndpointsShowAndRecoverCircuit(t *testing.T) {
	t.Parallel()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	l := startLive(t)
	ctx := context.Background()
	ep, err := l.client.CreateEndpoint(ctx, client.EndpointCreate{URL: down.URL, MaxInFlight: 1, RetrySchedule: []string{"1h"}})
	require.NoError(t, err)
	for range 11 {
		_, err := l.client.SendEvent(ctx, client.EventCreate{Type: "order.created", Data: json.RawMessage(`{}`)})
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool {
		got, err := l.client.GetEndpoint(ctx, ep.ID)
		return err == nil && got.Circuit == "open"
	}, 10*time.Second, 10*time.Millisecond, "ten failures open the circuit")

	res := l.run(t, "", "endpoints", "list").ok(t)
	require.Regexp(t, `(?m)^ID\s+URL\s+EVENT TYPES\s+FORMAT\s+ENABLED\s+CIRCUIT\s+CREATED$`, res.stdout)
	require.Regexp(t, `(?m)^`+ep.ID+`\s+\S+\s+-\s+json\s+true\s+open\s+\S+$`, res.stdout)
	res = l.run(t, "", "endpoints", "get", ep.ID).ok(t)
	require.Regexp(t, `(?m)^circuit:\s+open$`, res.stdout)

	res = l.run(t, "", "endpoints", "recover", ep.ID).ok(t)
	require.Equal(t, "re-queued 0 failed deliveries\n", res.stdout)
	res = l.run(t, "", "endpoints", "get", ep.ID).ok(t)
	require.Regexp(t, `(?m)^circuit:\s+closed$`, res.stdout, "recover closed the circuit")
}
