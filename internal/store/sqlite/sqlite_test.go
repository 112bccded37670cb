package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

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
