package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadLayers(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.yaml")
	require.NoError(t, os.WriteFile(path, []byte("addr: 0.0.0.0:9000\nworkers: 8\nallow_networks: [10.0.0.0/8]\n"), 0o600))
	cfg, err := Load(path, env(map[string]string{"HOOKLINE_WORKERS": "16", "HOOKLINE_SHUTDOWN_TIMEOUT": "5s"}))
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0:9000", cfg.Addr)
	require.Equal(t, 16, cfg.Workers, "env overrides the file")
	require.Equal(t, 5*time.Second, cfg.ShutdownTimeout)
	require.Equal(t, []string{"10.0.0.0/8"}, cfg.AllowNetworks)
	require.Equal(t, "./hookline-data", cfg.DataDir, "default kept")
	require.NoError(t, cfg.Validate())
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hookline.yaml")
	require.NoError(t, os.WriteFile(path, []byte("addr: x\nworkerz: 8\n"), 0o600))
	_, err := Load(path, nil)
	require.ErrorContains(t, err, "workerz")
	require.ErrorContains(t, err, "2:", "the error names the line")

	_, err = Load("", env(map[string]string{"HOOKLINE_WORKERS": "many"}))
	require.ErrorContains(t, err, `HOOKLINE_WORKERS="many": strconv.Atoi`)
}

func TestValidate(t *testing.T) {
	t.Parallel()
	c := Default()
	c.Workers = 0
	c.LogLevel = "loud"
	c.AllowNetworks = []string{"nope"}
	err := c.Validate()
	require.ErrorContains(t, err, "workers")
	require.ErrorContains(t, err, "log_level")
	require.ErrorContains(t, err, "allow_networks")
}

func TestValidateDashboard(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"/", "off", "/ui", "/admin/hooks", "/a-b_c"} {
		c := Default()
		c.Dashboard = ok
		require.NoError(t, c.Validate(), ok)
	}
	for _, bad := range []string{"", "ui", "/ui/", "/v1", "/v1/ui", "/in", "/metrics", "/inbox", "/a/../b", "/a b", "//x"} {
		c := Default()
		c.Dashboard = bad
		require.ErrorContains(t, c.Validate(), "dashboard", bad)
	}
}
