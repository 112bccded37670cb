package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMigrateStatusNeverCreates runs migrate status on a data dir that does
// not exist: an error naming the database, and nothing created. After
// migrate up, status lists the applied migrations and changes nothing.
func TestMigrateStatusNeverCreates(t *testing.T) {
	t.Parallel()
	b := &bundle{env: map[string]string{}}
	dir := filepath.Join(t.TempDir(), "typo")

	res := b.run(t, "", "migrate", "status", "--data-dir", dir).fails(t)
	require.Equal(t, "error: no database at "+filepath.Join(dir, "hookline.db")+
		" (run 'hookline serve' or 'hookline migrate up' to create it)\n", res.stderr)
	_, err := os.Stat(dir)
	require.ErrorIs(t, err, os.ErrNotExist, "status created nothing")

	res = b.run(t, "", "migrate", "up", "--data-dir", dir).ok(t)
	require.Contains(t, res.stdout, "applied  00001_")
	entries := func() map[string]int64 {
		des, err := os.ReadDir(dir)
		require.NoError(t, err)
		out := map[string]int64{}
		for _, de := range des {
			fi, err := de.Info()
			require.NoError(t, err)
			out[de.Name()] = fi.ModTime().UnixNano() + fi.Size()
		}
		return out
	}
	before := entries()
	res = b.run(t, "", "migrate", "status", "--data-dir", dir).ok(t)
	require.Contains(t, res.stdout, "applied  00001_")
	require.NotContains(t, res.stdout, "pending")
	require.Equal(t, before, entries(), "status wrote nothing to the data dir")
}
