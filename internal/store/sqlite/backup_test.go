package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// TestBackupOfStoppedDatabase backs up a database no process has open (no
// -wal or -shm file): the copy holds its events and the data dir is left
// as it was.
func TestBackupOfStoppedDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "hookline.db")
	s := openAt(t, path)
	require.NoError(t, s.CreateTenant(t.Context(), store.Tenant{ID: "ten_1", Name: "a"}))
	ev := bigEvent("ten_1", 1)
	_, err := s.AcceptEvents(t.Context(), []store.NewEvent{ev})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	list := func() []string {
		des, err := os.ReadDir(dir)
		require.NoError(t, err)
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		return names
	}
	files := list()
	require.Equal(t, []string{"hookline.db"}, files)

	dst := filepath.Join(t.TempDir(), "copy.db")
	require.NoError(t, sqlite.Backup(t.Context(), path, dst))
	require.Equal(t, files, list(), "the backup wrote nothing next to the database")
	c := openAt(t, dst)
	got, err := c.GetEvent(t.Context(), "ten_1", ev.Event.ID)
	require.NoError(t, err)
	require.JSONEq(t, string(ev.Event.Data), string(got.Data))

	require.ErrorIs(t, sqlite.Backup(t.Context(), path, dst), sqlite.ErrBackupExists)
	require.ErrorIs(t, sqlite.Backup(t.Context(), filepath.Join(dir, "missing.db"), filepath.Join(t.TempDir(), "x.db")), os.ErrNotExist)
}
