package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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

func TestValidatePortalFrameAncestors(t *testing.T) {
	t.Parallel()
	c := Default()
	c.PortalFrameAncestors = []string{"'self'", "https:", "https://app.example.com", "https://*.example.com", "http://127.0.0.1:8081",
		"https://app.example.com:*"}
	require.NoError(t, c.Validate())
	for _, bad := range []string{"", "*", "'none'", "app.example.com", "https://a.example.com; script-src *", "https://a b", "https://a,https://b",
		"javascript:", "https://a.example.com/path", "'unsafe-inline'"} {
		c := Default()
		c.PortalFrameAncestors = []string{bad}
		require.ErrorContains(t, c.Validate(), "portal_frame_ancestors", bad)
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

// TestEnvSetsEverySetting sets every variable through the lookup function
// and finds each value in its field. The names are spelled out: a renamed
// variable fails here, as does a setting with an env tag missing from the
// table.
func TestEnvSetsEverySetting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, env, value string
		want            any
	}{
		{"addr", "HOOKLINE_ADDR", "0.0.0.0:9000", "0.0.0.0:9000"},
		{"database", "HOOKLINE_DATABASE", "postgres://db/hookline", "postgres://db/hookline"},
		{"node_id", "HOOKLINE_NODE_ID", "node-a", "node-a"},
		{"cluster_heartbeat", "HOOKLINE_CLUSTER_HEARTBEAT", "500ms", 500 * time.Millisecond},
		{"data_dir", "HOOKLINE_DATA_DIR", "/var/lib/hookline", "/var/lib/hookline"},
		{"allow_private_networks", "HOOKLINE_ALLOW_PRIVATE_NETWORKS", "1", true},
		{"allow_networks", "HOOKLINE_ALLOW_NETWORKS", "10.0.0.0/8, 192.168.1.1,,fd00::/8", []string{"10.0.0.0/8", "192.168.1.1", "fd00::/8"}},
		{"portal_frame_ancestors", "HOOKLINE_PORTAL_FRAME_ANCESTORS", "https://app.example.com 'self'", []string{"https://app.example.com", "'self'"}},
		{"public_url", "HOOKLINE_PUBLIC_URL", "https://hooks.example.com", "https://hooks.example.com"},
		{"dashboard", "HOOKLINE_DASHBOARD", "/ui", "/ui"},
		{"tls_cert", "HOOKLINE_TLS_CERT", "/etc/hookline/fullchain.pem", "/etc/hookline/fullchain.pem"},
		{"tls_key", "HOOKLINE_TLS_KEY", "/etc/hookline/privkey.pem", "/etc/hookline/privkey.pem"},
		{"tls_domains", "HOOKLINE_TLS_DOMAINS", "hooks.example.com,in.example.com", []string{"hooks.example.com", "in.example.com"}},
		{"tls_email", "HOOKLINE_TLS_EMAIL", "ops@example.com", "ops@example.com"},
		{"tls_http_addr", "HOOKLINE_TLS_HTTP_ADDR", ":80", ":80"},
		{"tls_acme_directory", "HOOKLINE_TLS_ACME_DIRECTORY", "https://acme.example.com/dir", "https://acme.example.com/dir"},
		{"smtp.host", "HOOKLINE_SMTP_HOST", "smtp.example.com", "smtp.example.com"},
		{"smtp.port", "HOOKLINE_SMTP_PORT", "2525", 2525},
		{"smtp.tls", "HOOKLINE_SMTP_TLS", "tls", "tls"},
		{"smtp.username", "HOOKLINE_SMTP_USERNAME", "hookline", "hookline"},
		{"smtp.password", "HOOKLINE_SMTP_PASSWORD", "hunter22", "hunter22"},
		{"smtp.from", "HOOKLINE_SMTP_FROM", "Shop <noreply@shop.example>", "Shop <noreply@shop.example>"},
		{"workflow_env", "HOOKLINE_WORKFLOW_ENV", "CRM_TOKEN SHOP_TOKEN", []string{"CRM_TOKEN", "SHOP_TOKEN"}},
		{"api_key", "HOOKLINE_API_KEY", "0123456789abcdef", "0123456789abcdef"},
		{"encryption_key", "HOOKLINE_ENCRYPTION_KEY", "a2V5", "a2V5"},
		{"max_body_bytes", "HOOKLINE_MAX_BODY_BYTES", "2048", int64(2048)},
		{"workers", "HOOKLINE_WORKERS", "16", 16},
		{"max_in_flight", "HOOKLINE_MAX_IN_FLIGHT", "3", 3},
		{"shutdown_timeout", "HOOKLINE_SHUTDOWN_TIMEOUT", "45s", 45 * time.Second},
		{"commit_timeout", "HOOKLINE_COMMIT_TIMEOUT", "2s", 2 * time.Second},
		{"retention", "HOOKLINE_RETENTION", "48h", 48 * time.Hour},
		{"disable_after", "HOOKLINE_DISABLE_AFTER", "1h", time.Hour},
		{"breaker_threshold", "HOOKLINE_BREAKER_THRESHOLD", "4", 4},
		{"breaker_cooldown", "HOOKLINE_BREAKER_COOLDOWN", "1m", time.Minute},
		{"log_level", "HOOKLINE_LOG_LEVEL", "debug", "debug"},
		{"log_format", "HOOKLINE_LOG_FORMAT", "json", "json"},
	}
	vars := map[string]string{}
	for _, tt := range tests {
		vars[tt.env] = tt.value
	}
	cfg, err := Load("", env(vars))
	require.NoError(t, err)
	def := Default()

	byKey := map[string]Setting{}
	for _, s := range Settings() {
		if s.Env != "" {
			byKey[s.Key] = s
		}
	}
	require.Len(t, byKey, len(tests), "every setting with an env tag has a row")
	for _, tt := range tests {
		s, ok := byKey[tt.key]
		if !assert.True(t, ok, "no setting %s with an env tag", tt.key) {
			continue
		}
		assert.Equal(t, tt.env, s.Env, tt.key)
		assert.Equal(t, tt.env, EnvVar(tt.key), tt.key)
		got := reflect.ValueOf(s.Ptr(&cfg)).Elem().Interface()
		assert.Equal(t, tt.want, got, "%s from %s", tt.key, tt.env)
		assert.NotEqual(t, reflect.ValueOf(s.Ptr(&def)).Elem().Interface(), got, "%s: the value differs from the default, so the test sees it set", tt.key)
	}
}

func TestEnvEmptyCountsAsUnset(t *testing.T) {
	t.Parallel()
	cfg, err := Load("", env(map[string]string{"HOOKLINE_ADDR": "", "HOOKLINE_WORKERS": "", "HOOKLINE_ALLOW_NETWORKS": ""}))
	require.NoError(t, err)
	require.Equal(t, Default(), cfg)
}

// TestEnvErrors names each variable that does not parse, with its value,
// in the order of the fields.
func TestEnvErrors(t *testing.T) {
	t.Parallel()
	_, err := Load("", env(map[string]string{
		"HOOKLINE_WORKERS":                "many",
		"HOOKLINE_ALLOW_PRIVATE_NETWORKS": "sure",
		"HOOKLINE_MAX_BODY_BYTES":         "1MB",
		"HOOKLINE_RETENTION":              "30d",
		"HOOKLINE_ADDR":                   "anything goes",
	}))
	require.Error(t, err)
	require.Equal(t, `HOOKLINE_ALLOW_PRIVATE_NETWORKS="sure": strconv.ParseBool: parsing "sure": invalid syntax
HOOKLINE_MAX_BODY_BYTES="1MB": strconv.ParseInt: parsing "1MB": invalid syntax
HOOKLINE_WORKERS="many": strconv.Atoi: parsing "many": invalid syntax
HOOKLINE_RETENTION="30d": time: unknown unit "d" in duration "30d"`, err.Error())
}

// TestSetText covers every kind a setting may have, custom types
// (encoding.TextUnmarshaler) included.
func TestSetText(t *testing.T) {
	t.Parallel()
	var (
		s    string
		b    bool
		i    int
		i64  int64
		d    time.Duration
		list []string
		addr netip.Addr
	)
	require.NoError(t, setText(&s, "x"))
	require.NoError(t, setText(&b, "true"))
	require.NoError(t, setText(&i, "-3"))
	require.NoError(t, setText(&i64, "1099511627776"))
	require.NoError(t, setText(&d, "1h30m"))
	require.NoError(t, setText(&list, " a,b  c, "))
	require.NoError(t, setText(&addr, "10.0.0.1"))
	require.Equal(t, "x", s)
	require.True(t, b)
	require.Equal(t, -3, i)
	require.Equal(t, int64(1)<<40, i64)
	require.Equal(t, 90*time.Minute, d)
	require.Equal(t, []string{"a", "b", "c"}, list)
	require.Equal(t, netip.MustParseAddr("10.0.0.1"), addr)

	require.ErrorContains(t, setText(&addr, "nope"), "nope")
	var f float64
	require.ErrorIs(t, setText(&f, "1.5"), errUnsupported)
}

func TestSettings(t *testing.T) {
	t.Parallel()
	var keys, secrets []string
	flags := map[string]string{}
	for _, s := range Settings() {
		keys = append(keys, s.Key)
		if s.Secret {
			secrets = append(secrets, s.Key)
		}
		if s.Flag != "" {
			flags[s.Key] = s.Flag
			assert.NotEmpty(t, s.Help, "flag --%s has a help tag", s.Flag)
		}
	}
	require.Equal(t, serverKeys(reflect.TypeFor[Config](), ""), keys, "one setting per server key, in field order")
	require.Equal(t, []string{"smtp.password", "api_key", "encryption_key"}, secrets)
	require.Equal(t, map[string]string{
		"addr": "addr", "data_dir": "data-dir", "database": "database", "node_id": "node-id",
		"allow_private_networks": "allow-private-networks", "allow_networks": "allow-network",
		"tls_cert": "tls-cert", "tls_key": "tls-key", "tls_domains": "tls-domain", "tls_email": "tls-email", "tls_http_addr": "tls-http-addr",
		"workflow_env": "workflow-env", "log_level": "log-level", "log_format": "log-format",
	}, flags)
	require.Empty(t, EnvVar("nope"))

	var addr Setting
	for _, s := range Settings() {
		if s.Key == "addr" {
			addr = s
		}
	}
	require.Equal(t, "listen address (env HOOKLINE_ADDR)", addr.Usage())
	var c Config
	*addr.Ptr(&c).(*string) = ":9000"
	require.Equal(t, ":9000", c.Addr)
}
