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

// TestValidateTLS: the tls_* keys that do not go together are refused
// with a message naming what to do.
func TestValidateTLS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		set  func(*Config)
		want string
	}{
		{"cert without key", func(c *Config) { c.TLSCert = "cert.pem" },
			"tls_key: is required with tls_cert (the certificate's private key, PEM)"},
		{"key without cert", func(c *Config) { c.TLSKey = "key.pem" },
			"tls_cert: is required with tls_key (the certificate, PEM)"},
		{"domain and cert", func(c *Config) { c.TLSDomains, c.TLSCert, c.TLSKey = []string{"hooks.example.com"}, "c.pem", "k.pem" },
			"tls_domains: gets certificates automatically; it cannot be combined with tls_cert and tls_key (a certificate of your own): set one or the other"},
		{"domain with scheme", func(c *Config) { c.TLSDomains = []string{"https://hooks.example.com"} },
			`tls_domains: "https://hooks.example.com" is not a domain name such as hooks.example.com (no scheme, port or wildcard; lower case)`},
		{"wildcard", func(c *Config) { c.TLSDomains = []string{"*.example.com"} },
			`tls_domains: "*.example.com" is not a domain name`},
		{"email without domain", func(c *Config) { c.TLSEmail = "ops@example.com" },
			"tls_email: only applies with tls_domains (automatic certificates)"},
		{"http addr without domain", func(c *Config) { c.TLSHTTPAddr = ":80" },
			"tls_http_addr: only applies with tls_domains (automatic certificates)"},
		{"bad http addr", func(c *Config) { c.TLSDomains, c.TLSHTTPAddr = []string{"hooks.example.com"}, "80" },
			`tls_http_addr: "80" is not a host:port address such as :80`},
		{"bad directory", func(c *Config) { c.TLSDomains, c.TLSACMEDirectory = []string{"hooks.example.com"}, "acme.example.com" },
			`tls_acme_directory: "acme.example.com" is not an http(s) URL`},
		{"bad email", func(c *Config) { c.TLSDomains, c.TLSEmail = []string{"hooks.example.com"}, "ops" },
			`tls_email: "ops" is not an email address`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			tc.set(&c)
			require.ErrorContains(t, c.Validate(), tc.want)
		})
	}
	for _, set := range []func(*Config){
		func(c *Config) { c.TLSCert, c.TLSKey = "cert.pem", "key.pem" },
		func(c *Config) {
			c.TLSDomains, c.TLSEmail, c.TLSHTTPAddr = []string{"hooks.example.com", "in.example.com"}, "ops@example.com", ":80"
			c.TLSACMEDirectory = "https://acme-staging-v02.api.letsencrypt.org/directory"
		},
	} {
		c := Default()
		set(&c)
		require.NoError(t, c.Validate())
	}
}
