package redact_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/redact"
)

func TestSentAndReceived(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		configured []string
		sent       bool // hidden in what Hookline sends
		received   bool // hidden in what Hookline receives
	}{
		{name: "Authorization", sent: true, received: true},
		{name: "authorization", sent: true, received: true},
		{name: "Proxy-Authorization", sent: true, received: true},
		{name: "Cookie", sent: true, received: true},
		{name: "Set-Cookie", sent: true, received: true},
		{name: "X-Api-Key", sent: true, received: true},
		{name: "Api-Key", sent: true, received: true},
		{name: "X-Auth-Token", sent: true, received: true},
		{name: "X-Gitlab-Token", sent: true, received: true},
		{name: "X-Client-Secret", sent: true, received: true},
		{name: "X-DB-Password", sent: true, received: true},
		{name: "X-Session-Id", sent: true, received: true},
		{name: "Webhook-Signature", sent: true},
		{name: "webhook-signature", sent: true},
		{name: "X-Hub-Signature-256", sent: true},
		{name: "Stripe-Signature", sent: true},
		{name: "X-Shopify-Hmac-Sha256", sent: true},
		{name: "X-Team", configured: []string{"x-team"}, sent: true, received: true},
		{name: "X-Team"},
		{name: "Content-Type"},
		{name: "Webhook-Id"},
		{name: "Webhook-Timestamp"},
		{name: "Hookline-Delivery-Id"},
		{name: "User-Agent"},
		{name: "X-Github-Event"},
		{name: "X-API-KEY", sent: true, received: true},
		{name: "X-\u212aey", sent: true, received: true}, // KELVIN SIGN lowers to k
		{name: "Ünicode-Token", sent: true, received: true},
		{name: "Ünicode-Name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := map[string]string{tt.name: "s3cr3t", "Content-Length": "2"}
			want := func(hidden bool) map[string]string {
				v := "s3cr3t"
				if hidden {
					v = redact.Marker
				}
				return map[string]string{tt.name: v, "Content-Length": "2"}
			}
			require.Equal(t, want(tt.sent), redact.Sent(h, tt.configured...), "sent")
			require.Equal(t, want(tt.sent), redact.SentHeader(http.Header{tt.name: {"s3cr3t"}, "Content-Length": {"2"}}, tt.configured...), "sent header")
			require.Equal(t, want(tt.received), redact.Received(h, tt.configured...), "received")
			require.Equal(t, "s3cr3t", h[tt.name], "the input is not changed")
		})
	}
}

func TestSentHeaderJoinsValues(t *testing.T) {
	t.Parallel()
	h := http.Header{"Vary": {"Accept", "Origin"}, "Set-Cookie": {"a=1", "b=2"}, "Date": {"Mon, 07 Dec 2026 21:00:00 GMT"}}
	require.Equal(t, map[string]string{"Vary": "Accept, Origin", "Set-Cookie": redact.Marker, "Date": "Mon, 07 Dec 2026 21:00:00 GMT"},
		redact.SentHeader(h))
	require.Equal(t, map[string]string{}, redact.SentHeader(nil), "an empty map, not nil: stored as {}")
}

func TestValues(t *testing.T) {
	t.Parallel()
	require.Nil(t, redact.Values(nil))
	require.Equal(t, map[string]string{"X-Team": redact.Marker, "Authorization": redact.Marker},
		redact.Values(map[string]string{"X-Team": "billing", "Authorization": "Bearer s3cr3t"}))
}

func TestKeep(t *testing.T) {
	t.Parallel()
	stored := map[string]string{"Authorization": "Bearer s3cr3t", "X-Team": "billing"}
	tests := []struct {
		name    string
		in      map[string]string
		want    map[string]string
		missing []string
	}{
		{name: "nil keeps nothing", in: nil, want: nil},
		{name: "marker keeps the stored value",
			in:   map[string]string{"Authorization": redact.Marker, "X-Team": "ops"},
			want: map[string]string{"Authorization": "Bearer s3cr3t", "X-Team": "ops"}},
		{name: "names compare case-insensitively",
			in:   map[string]string{"authorization": redact.Marker},
			want: map[string]string{"authorization": "Bearer s3cr3t"}},
		{name: "a new value replaces the stored one",
			in:   map[string]string{"Authorization": "Bearer n3w"},
			want: map[string]string{"Authorization": "Bearer n3w"}},
		{name: "a header left out is dropped",
			in:   map[string]string{"X-Team": redact.Marker},
			want: map[string]string{"X-Team": "billing"}},
		{name: "a marker for a header never stored is missing",
			in:      map[string]string{"X-Token": redact.Marker, "X-New": redact.Marker, "X-Team": redact.Marker},
			want:    map[string]string{"X-Token": redact.Marker, "X-New": redact.Marker, "X-Team": "billing"},
			missing: []string{"X-New", "X-Token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, missing := redact.Keep(tt.in, stored)
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.missing, missing)
		})
	}
}

func TestMatchingAllocatesNothing(t *testing.T) {
	// Not parallel: AllocsPerRun counts the whole process's allocations.
	allocs := testing.AllocsPerRun(100, func() {
		for _, name := range []string{"Content-Type", "Webhook-Signature", "X-Api-Key", "Hookline-Delivery-Id"} {
			redact.Credential(name)
			redact.Signature(name)
		}
	})
	require.Zero(t, allocs)
}
