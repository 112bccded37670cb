package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/testkit"
)

// TestRecoverClosesCircuitWithNothingFailed opens an endpoint's circuit
// while its deliveries are still retrying (none failed for good), then
// recovers it: the circuit closes at once and the held deliveries go, on a
// clock that never reaches the end of the cool-down.
func TestRecoverClosesCircuitWithNothingFailed(t *testing.T) {
	t.Parallel()
	rc, healthy := newFailingReceiver(t, http.StatusServiceUnavailable)
	b := setup(t, withClock(retryClock()), withBreaker(3, 10*time.Minute))
	ep := b.endpoint(client.EndpointCreate{URL: rc.URL, MaxInFlight: 1, RetrySchedule: []string{"1h"}})
	for range 5 {
		b.send("order.created", `{}`)
	}
	circuit := func() string { return b.getEndpoint(ep.ID).Circuit }
	eventually(t, func() bool { return circuit() == "open" }, "three failures open the circuit")
	require.Equal(t, 3, rc.count(), "the other two wait behind the open circuit")

	healthy.Store(true)
	got, err := b.client.RecoverEndpoint(context.Background(), ep.ID, client.Recover{Since: time.Now().Add(-time.Hour)})
	require.NoError(t, err)
	require.Empty(t, got.Deliveries, "nothing failed for good")
	require.Equal(t, "closed", circuit(), "recover closed the circuit")
	eventually(t, func() bool { return rc.count() == 5 }, "the held deliveries went at once")
}

// TestRecoverClosesCircuitOnEveryNode opens an endpoint's circuit on the
// node that dispatches it and recovers the endpoint through the other
// node: the owner's circuit closes.
func TestRecoverClosesCircuitOnEveryNode(t *testing.T) {
	t.Parallel()
	dsn := testkit.PostgresSchema(t)
	rc, healthy := newFailingReceiver(t, http.StatusServiceUnavailable)
	breaker := withBreaker(2, 10*time.Minute)
	nodes := []*node{startNode(t, dsn, "node-a", breaker), startNode(t, dsn, "node-b", breaker)}
	require.Eventually(t, func() bool {
		st := clusterView(t, nodes[0].url)
		return len(st.Nodes) == 2 && len(st.Nodes[0].Buckets) == 32 && len(st.Nodes[1].Buckets) == 32
	}, 15*time.Second, 50*time.Millisecond, "the buckets are shared out")
	ctx := context.Background()
	ep, err := client.New(nodes[0].url, clusterKey).CreateEndpoint(ctx, client.EndpointCreate{URL: rc.URL, MaxInFlight: 1, RetrySchedule: []string{"1h"}})
	require.NoError(t, err)
	for range 4 {
		_, err := client.New(nodes[0].url, clusterKey).SendEvent(ctx, client.EventCreate{Type: "order.created", Data: []byte(`{}`)})
		require.NoError(t, err)
	}
	circuitOn := func(n *node) string {
		got, err := client.New(n.url, clusterKey).GetEndpoint(ctx, ep.ID)
		require.NoError(t, err)
		return got.Circuit
	}
	var owner, other *node
	require.Eventually(t, func() bool {
		for i, n := range nodes {
			if circuitOn(n) == "open" {
				owner, other = n, nodes[1-i]
				return true
			}
		}
		return false
	}, 15*time.Second, 20*time.Millisecond, "two failures open the circuit on the node that dispatches the endpoint")
	require.Equal(t, "closed", circuitOn(other), "the other node holds no circuit of the endpoint")
	require.Equal(t, 2, rc.count())

	healthy.Store(true)
	got, err := client.New(other.url, clusterKey).RecoverEndpoint(ctx, ep.ID, client.Recover{Since: time.Now().Add(-time.Hour)})
	require.NoError(t, err)
	require.Empty(t, got.Deliveries)
	require.Eventually(t, func() bool { return circuitOn(owner) == "closed" }, 10*time.Second, 20*time.Millisecond,
		"recover through another node closed the owner's circuit")
	require.Eventually(t, func() bool { return rc.count() == 4 }, 10*time.Second, 20*time.Millisecond, "the held deliveries went")
}

// TestSubscriptionsShowCircuit: a subscription's circuit breaker is in
// GET /v1/subscriptions and /v1/subscriptions/{id}, like an endpoint's: a
// sync subscription whose fetches keep failing opens its own circuit,
// while another subscription's stays closed.
func TestSubscriptionsShowCircuit(t *testing.T) {
	t.Parallel()
	crm := newReceiver(t, func(_ int, w http.ResponseWriter) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	b := setup(t, withClock(retryClock()), withBreaker(3, 10*time.Minute))
	syncSetup(t, b, map[string]any{"fetch": map[string]any{"url": crm.URL + "/customers/{{ key }}"}})
	ep := b.endpoint(client.EndpointCreate{URL: newReceiver(t, nil).URL})
	fwd, err := b.client.CreateSubscription(context.Background(), client.SubscriptionCreate{
		EventTypes: &[]string{"customer.*"}, Destination: &client.SubDest{Kind: "forward", EndpointID: ep.ID}})
	require.NoError(t, err)
	require.Equal(t, "closed", fwd.Circuit)
	for i := range 5 {
		b.send("customer.updated", fmt.Sprintf(`{"id": "c%d", "updated_at": 1}`, i))
	}
	subs, err := b.client.ListSubscriptions(context.Background(), client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, subs.Data, 2)
	syncSub := subs.Data[0]
	if syncSub.Destination.Kind != "sync" {
		syncSub = subs.Data[1]
	}
	circuit := func(id string) string {
		got, err := b.client.GetSubscription(context.Background(), id)
		require.NoError(t, err)
		return got.Circuit
	}
	eventually(t, func() bool { return circuit(syncSub.ID) == "open" }, "three failed fetches open the sync subscription's circuit")
	require.Equal(t, "closed", circuit(fwd.ID), "the forward subscription's circuit is its own")
	subs, err = b.client.ListSubscriptions(context.Background(), client.ListOptions{})
	require.NoError(t, err)
	for _, s := range subs.Data {
		require.Equal(t, map[string]string{syncSub.ID: "open", fwd.ID: "closed"}[s.ID], s.Circuit, "the list shows each circuit")
	}
}
