package app_test

import (
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/app/apptest"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/testkit"
)

// startLog starts and stops an app on cfg and returns its "hookline
// listening" log line.
func startLog(t *testing.T, cfg config.Config) string {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	var logs testkit.Buffer
	a := apptest.Start(t, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, apptest.Stop(a))
	line := logs.Line(`msg="hookline listening"`)
	require.NotEmpty(t, line, "the start is logged")
	return line
}

func TestStartLogNamesTheSQLiteDataDir(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	line := startLog(t, cfg)
	require.Contains(t, line, "data_dir="+cfg.DataDir)
	require.NotContains(t, line, "database=")
}

// TestStartLogNamesThePostgresDatabase checks that a node on PostgreSQL
// logs its database, without the password, and its node id instead of a
// data dir it does not use.
func TestStartLogNamesThePostgresDatabase(t *testing.T) {
	t.Parallel()
	dsn := testkit.PostgresSchema(t)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	if _, ok := u.User.Password(); !ok {
		// The test server trusts local connections: a password is sent
		// only if asked for, and the log must not show it either way.
		u.User = url.UserPassword(u.User.Username(), "s3cret-pw")
	}
	pw, _ := u.User.Password()
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "unused")
	cfg.Database = u.String()
	cfg.NodeID = "node-a"
	cfg.EncryptionKey = strings.Repeat("ab", 32)
	cfg.APIKey = clusterKey
	line := startLog(t, cfg)
	require.NotContains(t, line, "data_dir")
	require.NotContains(t, line, "unused")
	require.Contains(t, line, "database=postgres://")
	require.Contains(t, line, "node_id=node-a")
	require.NotContains(t, line, pw)
}
