package redact_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/redact"
)

func TestSplitURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, shown, secret string }{
		{"amqp://app:s3cret@mq.example.com:5672/orders/created", "amqp://app:redacted@mq.example.com:5672/orders/created", "s3cret"},
		{"nats://tok3n@nats.example.com/orders", "nats://redacted@nats.example.com/orders", "tok3n"},
		{"redis://:pw%2Fx@redis.example.com/stream", "redis://:redacted@redis.example.com/stream", "pw/x"},
		{"https://user:pa:ss@example.com/hook?q=1", "https://user:redacted@example.com/hook?q=1", "pa:ss"},
		{"https://example.com/hook", "https://example.com/hook", ""},
		{"kafka://user:@broker/topic", "kafka://user:@broker/topic", ""},
		{"://bad", "://bad", ""},
	}
	for _, tt := range tests {
		shown, secret := redact.SplitURL(tt.raw)
		require.Equal(t, tt.shown, shown, tt.raw)
		require.Equal(t, tt.secret, secret, tt.raw)
		if tt.secret != "" {
			require.NotContains(t, shown, tt.secret, tt.raw)
		}
		joined := redact.JoinURL(shown, secret)
		again, secret2 := redact.SplitURL(joined)
		require.Equal(t, shown, again, tt.raw)
		require.Equal(t, secret, secret2, tt.raw)
	}
	// A shown URL that does not carry the marker where the secret goes is
	// kept as it is: the secret belonged to another URL.
	require.Equal(t, "nats://other:pw@h/s", redact.JoinURL("nats://other:pw@h/s", "x"))
	require.Equal(t, "nats://h/s", redact.JoinURL("nats://h/s", "x"))
	require.Equal(t, "nats://x@h/s", redact.JoinURL("nats://redacted@h/s", "x"))
}

func FuzzSplitURL(f *testing.F) {
	f.Add("amqp://app:s3cret@mq.example.com:5672/orders/created")
	f.Add("nats://tok3n@nats.example.com/orders")
	f.Fuzz(func(t *testing.T, raw string) {
		shown, secret := redact.SplitURL(raw)
		if secret == "" {
			if shown != raw {
				t.Fatalf("no secret but shown %q differs from %q", shown, raw)
			}
			return
		}
		again, secret2 := redact.SplitURL(redact.JoinURL(shown, secret))
		if again != shown || secret2 != secret {
			t.Fatalf("split(join(%q, %q)) = %q, %q", shown, secret, again, secret2)
		}
	})
}
