package broker_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/delivery/broker"
	"github.com/hookline/hookline/internal/faultproxy"
	"github.com/hookline/hookline/internal/netguard"
	"github.com/hookline/hookline/internal/testkit"
)

// countingDial is the guard's dial (loopback allowed), counting dials.
func countingDial(n *atomic.Int32) broker.Dial {
	dial := netguard.Policy{AllowPrivate: true}.Dial()
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		n.Add(1)
		return dial(ctx, network, addr)
	}
}

// TestPoolReusesAndRetiresConnections publishes through one connection
// per endpoint, opens a new one when the endpoint's URL changes, and
// closes them when retired or when the pool closes.
func TestPoolReusesAndRetiresConnections(t *testing.T) {
	t.Parallel()
	js := testkit.NewJetStream(t)
	var dials atomic.Int32
	p := broker.NewPool(broker.PoolConfig{Dial: countingDial(&dials)})
	ctx := context.Background()
	raw := js.URL("")
	for i := range 3 {
		r, err := p.Publish(ctx, "ten_1", "ep_1", raw, broker.Message{Headers: map[string]string{"webhook-id": "msg_1"}, Body: []byte(`{}`)})
		require.NoError(t, err)
		require.Equal(t, broker.Receipt{System: "nats", Destination: js.Subject, Stream: js.Name, Sequence: uint64(i + 1)}, r)
	}
	require.EqualValues(t, 1, dials.Load(), "three publishes, one connection")
	require.Equal(t, 1, p.Open())

	// The endpoint's URL changed: a new connection, the old one closed.
	other := raw + ".v2"
	_, err := p.Publish(ctx, "ten_1", "ep_1", other, broker.Message{Body: []byte(`{}`)})
	require.Error(t, err, "no stream captures the new subject")
	require.EqualValues(t, 2, dials.Load())
	require.Equal(t, 1, p.Open())

	p.Retire("ten_2", func(string, string) bool { return false })
	require.Equal(t, 1, p.Open(), "another tenant's retirement closes nothing")
	p.Retire("ten_1", func(id, got string) bool { return id == "ep_1" && got == other })
	require.Equal(t, 1, p.Open(), "kept: the endpoint still has that URL")
	p.Retire("ten_1", func(string, string) bool { return false })
	require.Equal(t, 0, p.Open(), "the endpoint is gone")

	_, err = p.Publish(ctx, "ten_1", "ep_2", raw, broker.Message{Body: []byte(`{}`)})
	require.NoError(t, err)
	p.Close()
	require.Equal(t, 0, p.Open())
	_, err = p.Publish(ctx, "ten_1", "ep_2", raw, broker.Message{Body: []byte(`{}`)})
	require.ErrorIs(t, err, broker.ErrClosed)
}

// TestPoolOneConnectionUnderConcurrency: deliveries to one endpoint that
// arrive together share the one connection the first of them opens.
func TestPoolOneConnectionUnderConcurrency(t *testing.T) {
	t.Parallel()
	js := testkit.NewJetStream(t)
	var dials atomic.Int32
	p := broker.NewPool(broker.PoolConfig{Dial: countingDial(&dials)})
	t.Cleanup(p.Close)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := p.Publish(context.Background(), "ten_1", "ep_1", js.URL(""), broker.Message{Body: []byte(`{}`)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, dials.Load())
	require.Len(t, js.Fetch(20), 20)
}

// TestPoolClosesIdleConnections closes a connection no delivery used for
// longer than IdleTimeout, on the next publish of any endpoint.
func TestPoolClosesIdleConnections(t *testing.T) {
	t.Parallel()
	js := testkit.NewJetStream(t)
	var dials atomic.Int32
	clk := clock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	p := broker.NewPool(broker.PoolConfig{Dial: countingDial(&dials), Clock: clk, IdleTimeout: time.Minute})
	t.Cleanup(p.Close)
	raw := js.URL("")
	_, err := p.Publish(context.Background(), "ten_1", "ep_1", raw, broker.Message{Body: []byte(`{}`)})
	require.NoError(t, err)
	clk.Advance(2 * time.Minute)
	_, err = p.Publish(context.Background(), "ten_1", "ep_2", raw, broker.Message{Body: []byte(`{}`)})
	require.NoError(t, err)
	require.Equal(t, 1, p.Open(), "ep_1's idle connection closed")
	require.EqualValues(t, 2, dials.Load())
}

// TestPoolRefusesForbiddenAddress: the SSRF guard's dialer refuses a
// loopback broker, which is a connect error.
func TestPoolRefusesForbiddenAddress(t *testing.T) {
	t.Parallel()
	p := broker.NewPool(broker.PoolConfig{Dial: netguard.Policy{}.Dial(), ConnectTimeout: 5 * time.Second})
	t.Cleanup(p.Close)
	for _, raw := range []string{"nats://127.0.0.1:4222/a", "amqp://127.0.0.1/x/k", "redis://127.0.0.1/s", "kafka://127.0.0.1/t"} {
		r, err := p.Publish(context.Background(), "ten_1", raw, raw, broker.Message{Body: []byte(`{}`)})
		var connect *broker.ConnectError
		require.True(t, errors.As(err, &connect), "%s: %v", raw, err)
		require.ErrorIs(t, err, netguard.ErrForbiddenAddress, raw)
		require.NotEmpty(t, r.System, "the receipt names where it was going")
	}
}

// TestPoolReopensLostConnection: when the broker drops the connection,
// the next publish opens a new one instead of failing on the dead one.
func TestPoolReopensLostConnection(t *testing.T) {
	t.Parallel()
	ch := testkit.RabbitMQ(t)
	q, err := ch.QueueDeclare(testkit.UniqueName("hookline-test-"), false, true, false, false, nil)
	require.NoError(t, err)

	proxy, err := faultproxy.Start(testkit.RabbitMQAddr)
	require.NoError(t, err)
	var dials atomic.Int32
	p := broker.NewPool(broker.PoolConfig{Dial: countingDial(&dials)})
	t.Cleanup(p.Close)
	raw := "amqp://guest:guest@" + proxy.Addr() + "//" + q.Name // the default exchange, to the queue
	publish := func() error {
		_, err := p.Publish(context.Background(), "ten_1", "ep_1", raw, broker.Message{Body: []byte(`{}`)})
		return err
	}
	require.NoError(t, publish())
	require.NoError(t, publish())
	require.EqualValues(t, 1, dials.Load())

	require.NoError(t, proxy.Close()) // the connection drops, and nothing listens there now
	require.Eventually(t, func() bool {
		var connect *broker.ConnectError
		return errors.As(publish(), &connect)
	}, 10*time.Second, 10*time.Millisecond, "a new connection is tried, and refused")
	require.GreaterOrEqual(t, dials.Load(), int32(2))
	got, err := ch.QueueDeclarePassive(q.Name, false, true, false, false, nil)
	require.NoError(t, err)
	require.Equal(t, 2, got.Messages, "the two confirmed publishes are in the queue")
}
