package sqlite_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/store/storetest"
)

func open(t *testing.T) store.Store {
	t.Helper()
	box, err := secretbox.New(make([]byte, secretbox.KeySize))
	require.NoError(t, err)
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "hookline.db"), Box: box})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, open)
}

func TestSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	box, err := secretbox.New(make([]byte, secretbox.KeySize))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "hookline.db")
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: path, Box: box})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, s.CreateTenant(ctx, store.Tenant{ID: "ten_1", Name: "a"}))
	const secret = "whsec_dGhpcyBpcyBhIHZlcnkgc2VjcmV0IGtleQ=="
	require.NoError(t, s.CreateEndpoint(ctx, store.Endpoint{ID: "ep_1", TenantID: "ten_1", URL: "https://x",
		Secrets: []store.Secret{{Key: secret}}}))
	require.NoError(t, s.CreateCollection(ctx, store.Collection{TenantID: "ten_1", Name: "c", Spec: []byte(`{}`),
		Secret: []byte(`{"headers":{"Authorization":"` + secret + `"}}`)}))
	require.NoError(t, s.Close())
	for _, name := range []string{"hookline.db", "hookline.db-wal"} {
		raw, err := os.ReadFile(filepath.Join(filepath.Dir(path), name))
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		require.NotContains(t, string(raw), secret, name)
		require.NotContains(t, string(raw), "dGhpcyBpcyBhIHZlcnkgc2VjcmV0IGtleQ", name)
	}
}

// BenchmarkAcceptEvents measures the raw group-commit rate of the schema:
// batches of 500 ~1 KiB events with one task each, fsync on.
func BenchmarkAcceptEvents(b *testing.B) {
	box, err := secretbox.New(make([]byte, secretbox.KeySize))
	require.NoError(b, err)
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(b.TempDir(), "hookline.db"), Box: box})
	require.NoError(b, err)
	defer s.Close()
	ctx := context.Background()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(b, s.CreateTenant(ctx, store.Tenant{ID: "ten_1", Name: "acme", CreatedAt: base}))
	const batch = 500
	b.ResetTimer()
	for range b.N {
		evs := make([]store.NewEvent, batch)
		for i := range evs {
			e := event.Event{ID: event.NewID(event.PrefixEvent, base), TenantID: "ten_1", Type: "a.b", Source: "api",
				Data: json.RawMessage(`{"note":"` + strings.Repeat("x", 900) + `"}`), OccurredAt: base, CreatedAt: base}
			evs[i] = store.NewEvent{Event: e, Tasks: []store.Task{{ID: event.NewID(event.PrefixDelivery, base), TenantID: "ten_1",
				EventID: e.ID, EventType: e.Type, Kind: "endpoint", DestinationID: "ep_1", Status: store.StatusPending, NextAt: base,
				CreatedAt: base, UpdatedAt: base}}}
		}
		if _, err := s.AcceptEvents(ctx, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}
