// Package sqlitetest opens a SQLite store for a test of a package that
// needs a real store under it.
package sqlitetest

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// Open opens a SQLite store in a temporary directory of tb, sealed with
// an all-zero key and closed when the test ends, with the tenants
// created.
func Open(tb testing.TB, tenants ...store.Tenant) *sqlite.Store {
	tb.Helper()
	box, err := secretbox.New(make([]byte, secretbox.KeySize))
	require.NoError(tb, err)
	st, err := sqlite.Open(tb.Context(), sqlite.Config{Path: filepath.Join(tb.TempDir(), "hookline.db"), Box: box})
	require.NoError(tb, err)
	tb.Cleanup(func() { st.Close() })
	for _, t := range tenants {
		require.NoError(tb, st.CreateTenant(tb.Context(), t))
	}
	return st
}
