package testkit

import (
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/stretchr/testify/require"
)

// RabbitMQ opens a channel on the local RabbitMQ as guest, closed when
// the test ends, or skips tb when RabbitMQ is not reachable.
func RabbitMQ(tb testing.TB) *amqp.Channel {
	tb.Helper()
	Service(tb, "RabbitMQ", RabbitMQAddr)
	conn, err := amqp.Dial("amqp://guest:guest@" + RabbitMQAddr + "/")
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	require.NoError(tb, err)
	return ch
}
