package content

import (
	"testing"
	"time"

	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite"
	"github.com/hookline/hookline/internal/store/sqlite/sqlitetest"
)

// openStore opens a SQLite store in a temporary directory with the tenant
// id (named name) created at now, a fixed time, which it returns.
func openStore(t *testing.T, id, name string) (*sqlite.Store, time.Time) {
	t.Helper()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	return sqlitetest.Open(t, store.Tenant{ID: id, Name: name, CreatedAt: now}), now
}
