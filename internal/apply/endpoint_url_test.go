package apply_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/apply"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/wire"
)

// TestEndpointURL: a URL is normalized and split into what is shown and
// its credential; one sent back as shown keeps the credential; errors
// name the field and never echo the credential.
func TestEndpointURL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	ep := apply.NewEndpoint(tenant, time.Now())
	set := func(raw string) error {
		return b.applier.UpdateEndpoint(ctx, &ep, wire.EndpointUpdate{URL: &raw})
	}
	require.NoError(t, set("AMQP://app:pa55@MQ.example.com:5672/orders/order.created?vhost=shop"))
	require.Equal(t, "amqp://app:redacted@MQ.example.com:5672/orders/order.created?vhost=shop", ep.URL)
	require.Equal(t, "pa55", ep.URLSecret)

	require.NoError(t, set("amqp://app:redacted@mq2.example.com/orders/order.created"), "shown: keeps the password")
	require.Equal(t, "amqp://app:redacted@mq2.example.com/orders/order.created", ep.URL)
	require.Equal(t, "pa55", ep.URLSecret)

	require.NoError(t, set("nats://t0ken@nats.example.com/orders"))
	require.Equal(t, "nats://redacted@nats.example.com/orders", ep.URL)
	require.Equal(t, "t0ken", ep.URLSecret)

	require.NoError(t, set("https://hooks.example.com/x"))
	require.Empty(t, ep.URLSecret, "a URL without a credential clears it")
	err := set("https://u:redacted@hooks.example.com/x")
	var fe *field.Error
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "url", fe.Path)

	for raw, want := range map[string]string{
		"kafka://u:s3cret-pw@kafka.example.com/bad topic": "topic",
		"redis://:s3cret-pw@redis.example.com":            "path must name the stream",
		"ftp://u:s3cret-pw@files.example.com/x":           "http or https, or nats, amqp, redis or kafka",
	} {
		err := set(raw)
		require.ErrorAs(t, err, &fe, raw)
		require.Equal(t, "url", fe.Path, raw)
		require.ErrorContains(t, err, want, raw)
		require.NotContains(t, err.Error(), "s3cret-pw", raw)
	}
}
