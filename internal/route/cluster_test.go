package route_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/route"
	"github.com/hookline/hookline/internal/testkit"
)

// bus is the cluster's notification channel: every message reaches every
// node, the sender included, as PostgreSQL's NOTIFY does.
type bus struct {
	mu     sync.Mutex
	nodes  []*route.Table
	others []string // messages no table took
}

func (b *bus) Notify(_ context.Context, msg string) error {
	b.mu.Lock()
	nodes := append([]*route.Table(nil), b.nodes...)
	b.mu.Unlock()
	taken := false
	for _, n := range nodes {
		taken = n.Receive(msg) || taken
	}
	if !taken {
		b.mu.Lock()
		b.others = append(b.others, msg)
		b.mu.Unlock()
	}
	return nil
}

func TestCluster(t *testing.T) {
	t.Parallel()
	// One store that both nodes read.
	f := &filler{fill: route.Fill{Entries: []route.Entry{entry("endpoint", "a", "order.created")}, RouteWaits: true}}
	net := &bus{}
	logs := &testkit.Buffer{}
	node := func() *bundle {
		b := setup(t)
		b.table = route.New(route.Config{Clock: b.clock, Cluster: net, Logger: slog.New(slog.NewTextHandler(logs, nil))})
		b.table.Register(f)
		net.nodes = append(net.nodes, b.table)
		return b
	}
	n1, n2 := node(), node()
	for _, n := range []*bundle{n1, n2} {
		require.Equal(t, []string{"endpoint:a"}, n.route(t, ev("order.created", `{}`)))
	}

	// A change saved through node 1 is routed by node 2 at once.
	f.set(route.Fill{Entries: []route.Entry{entry("endpoint", "b", "order.created")}, RouteWaits: true})
	n1.table.Invalidate(tenant)
	require.Equal(t, []string{"endpoint:b"}, n2.route(t, ev("order.created", `{}`)))
	require.Equal(t, []string{"endpoint:b"}, n1.route(t, ev("order.created", `{}`)))

	// A run that starts waiting on node 1 is offered node 2's events, and
	// no longer once it stops.
	ctx := context.Background()
	n1.table.SetWait(ctx, tenant, route.Wait{Kind: "workflow", RunID: "run_1", Rev: 2, Pattern: "payment.*"})
	require.Equal(t, []string{"workflow:run_1"}, n2.route(t, ev("payment.received", `{}`)))
	require.Equal(t, []string{"workflow:run_1"}, n1.route(t, ev("payment.received", `{}`)))
	n2.table.SetWait(ctx, tenant, route.Wait{Kind: "workflow", RunID: "run_1", Rev: 3})
	require.Empty(t, n1.route(t, ev("payment.received", `{}`)))
	require.Empty(t, n2.route(t, ev("payment.received", `{}`)))
	// A keyed wait carries its key and value across.
	n1.table.SetWait(ctx, tenant, route.Wait{Kind: "workflow", RunID: "run_2", Rev: 2, Pattern: "payment.*", Key: "event.data.order", Value: "o1"})
	require.Equal(t, []string{"workflow:run_2"}, n2.route(t, ev("payment.received", `{"order": "o1"}`)))
	require.Empty(t, n2.route(t, ev("payment.received", `{"order": "o2"}`)))

	// The engine's own announcements are not routing messages.
	for _, msg := range []string{"", "rebalance", "close-circuits\nendpoint:ep_1"} {
		require.False(t, n1.table.Receive(msg), "%q", msg)
	}
	require.Empty(t, net.others)
	require.True(t, n1.table.Receive("route-wait\nsomeone-else\n{not json"))
	require.Contains(t, logs.String(), "routing message that does not parse")
}
