package app

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNodeIDIsKeptInTheDataDir: a PostgreSQL node without node_id takes
// the name kept in its data dir, the same after a restart; a second
// process on the same data dir, while the first runs, takes hostname-pid.
func TestNodeIDIsKeptInTheDataDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	host, _ := os.Hostname()

	first, lock := nodeID(dir)
	require.True(t, strings.HasPrefix(first, host+"-"), first)
	stored, err := os.ReadFile(filepath.Join(dir, "node_id"))
	require.NoError(t, err)
	require.Equal(t, first, strings.TrimSpace(string(stored)))

	other, otherLock := nodeID(dir)
	require.NotEqual(t, first, other, "two live processes never share a name")
	require.Equal(t, host+"-"+strconv.Itoa(os.Getpid()), other)
	require.NoError(t, otherLock.Close())

	require.NoError(t, lock.Close())
	again, lock := nodeID(dir)
	require.Equal(t, first, again, "a restart keeps its name")
	require.NoError(t, lock.Close())
}
