package content

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// openStore opens a SQLite store in a temporary directory with the tenant
// id (named name) created at now, a fixed time, which it returns.
func openStore(t *testing.T, id, name string) (*sqlite.Store, time.Time) {
	t.Helper()
	box, err := secretbox.New(make([]byte, secretbox.KeySize))
	require.NoError(t, err)
	st, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(t.TempDir(), "hookline.db"), Box: box})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(t, st.CreateTenant(t.Context(), store.Tenant{ID: id, Name: name, CreatedAt: now}))
	return st, now
}
