// Package config holds the server configuration: defaults, then an optional
// YAML file, then HOOKLINE_* environment variables, then flags (applied by
// the CLI), then Validate. A setting's struct tags name its YAML key,
// variable and flag (see Setting); nothing maps them by hand.
//
// The same YAML file may declare resources (event_types, endpoints,
// sources and the rest of DeclarationKeys) that serve and `hookline apply
// -f` apply; see declare.go. Problems in the file are *FileError values
// naming the line.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/telemetry"
	"github.com/hookline/hookline/wire"
)

// Config is the configuration of `hookline serve`. Every key is documented
// in docs/config.md.
type Config struct {
	// Addr is the listen address of the HTTP server.
	Addr string `yaml:"addr" env:"HOOKLINE_ADDR" flag:"addr" help:"listen address"`
	// Database is empty for SQLite in DataDir, or a postgres:// URL shared
	// by several nodes.
	Database string `yaml:"database" env:"HOOKLINE_DATABASE" flag:"database" help:"postgres:// URL to share with other nodes; SQLite in --data-dir when empty"`
	// NodeID names this node in a PostgreSQL cluster; default the name
	// kept in DataDir/node_id (created on first start), so a restarted
	// node takes its task leases back at once, or hostname-pid when
	// another process holds that file.
	NodeID string `yaml:"node_id" env:"HOOKLINE_NODE_ID" flag:"node-id" help:"this node's name in a PostgreSQL cluster; default the one kept in --data-dir/node_id"`
	// ClusterHeartbeat is how often a node renews its membership and
	// bucket leases (both last 5 heartbeats: engine.ClusterConfig).
	ClusterHeartbeat time.Duration `yaml:"cluster_heartbeat" env:"HOOKLINE_CLUSTER_HEARTBEAT"`
	// DataDir holds the SQLite database and the encryption key file; it is
	// not used with a PostgreSQL Database (which needs EncryptionKey).
	DataDir string `yaml:"data_dir" env:"HOOKLINE_DATA_DIR" flag:"data-dir" help:"data directory"`
	// AllowPrivateNetworks lets deliveries reach loopback, private and
	// link-local addresses.
	AllowPrivateNetworks bool `yaml:"allow_private_networks" env:"HOOKLINE_ALLOW_PRIVATE_NETWORKS" flag:"allow-private-networks" help:"allow deliveries to loopback/private/link-local addresses"`
	// AllowNetworks lists CIDRs that deliveries may reach even though they
	// are private.
	AllowNetworks []string `yaml:"allow_networks" env:"HOOKLINE_ALLOW_NETWORKS" flag:"allow-network" help:"CIDR that deliveries may reach although private; repeatable"`
	// PublicURL is where this server is reached from outside (tracked
	// links, open pixels, unsubscribe links, hosted pages), e.g.
	// "https://hooks.example.com". Empty: no link tracking.
	PublicURL string `yaml:"public_url" env:"HOOKLINE_PUBLIC_URL"`
	// TLSCert and TLSKey are PEM files: with them the server listens with
	// HTTPS (and HTTP/2) on Addr. They are read again when they change, so
	// a renewed certificate needs no restart.
	TLSCert string `yaml:"tls_cert" env:"HOOKLINE_TLS_CERT" flag:"tls-cert" help:"PEM certificate (chain) file: serve HTTPS on --addr, with --tls-key"`
	TLSKey  string `yaml:"tls_key" env:"HOOKLINE_TLS_KEY" flag:"tls-key" help:"PEM private key file of --tls-cert"`
	// TLSDomains are the domains the server gets certificates for from an
	// ACME certificate authority (Let's Encrypt), instead of TLSCert.
	TLSDomains []string `yaml:"tls_domains" env:"HOOKLINE_TLS_DOMAINS" flag:"tls-domain" help:"domain to get a certificate for automatically (ACME, Let's Encrypt); repeatable"`
	// TLSEmail is the contact address given to the ACME authority.
	TLSEmail string `yaml:"tls_email" env:"HOOKLINE_TLS_EMAIL" flag:"tls-email" help:"contact email for the ACME account of --tls-domain"`
	// TLSHTTPAddr, with TLSDomains, is a plain-HTTP listener answering
	// the ACME HTTP-01 challenge and redirecting the rest to HTTPS;
	// empty: the TLS-ALPN-01 challenge on Addr only.
	TLSHTTPAddr string `yaml:"tls_http_addr" env:"HOOKLINE_TLS_HTTP_ADDR" flag:"tls-http-addr" help:"with --tls-domain: plain-HTTP address (e.g. :80) for ACME HTTP-01 challenges and redirects to HTTPS"`
	// TLSACMEDirectory is the ACME directory URL; default Let's Encrypt.
	TLSACMEDirectory string `yaml:"tls_acme_directory" env:"HOOKLINE_TLS_ACME_DIRECTORY"`
	// SMTP is the mail server of the email channel; no host: no email.
	SMTP SMTP `yaml:"smtp"`
	// Dashboard is where the web dashboard is served on the API's
	// listener: "/" (the default), a path prefix such as "/ui", or "off".
	Dashboard string `yaml:"dashboard" env:"HOOKLINE_DASHBOARD"`
	// PortalFrameAncestors are the pages that may show the customer
	// portal in a frame: Content-Security-Policy frame-ancestors sources
	// such as "https://app.example.com" or "https://*.example.com".
	// Empty: 'self', the server's own pages only.
	PortalFrameAncestors []string `yaml:"portal_frame_ancestors" env:"HOOKLINE_PORTAL_FRAME_ANCESTORS"`
	// WorkflowEnv names the environment variables workflow expressions may
	// read as env.NAME (secrets such as API tokens); no others are visible.
	WorkflowEnv []string `yaml:"workflow_env" env:"HOOKLINE_WORKFLOW_ENV" flag:"workflow-env" help:"environment variable workflow expressions may read as env.NAME; repeatable"`
	// APIKey, when set, is registered as an admin key of the default tenant.
	APIKey string `yaml:"api_key" env:"HOOKLINE_API_KEY" secret:"true"`
	// EncryptionKey (32 bytes, hex or base64) encrypts secrets at rest;
	// when empty a key file is created in DataDir.
	EncryptionKey string `yaml:"encryption_key" env:"HOOKLINE_ENCRYPTION_KEY" secret:"true"`
	// MaxBodyBytes bounds API request bodies.
	MaxBodyBytes int64 `yaml:"max_body_bytes" env:"HOOKLINE_MAX_BODY_BYTES"`
	// Workers is the number of deliveries attempted at once.
	Workers int `yaml:"workers" env:"HOOKLINE_WORKERS"`
	// MaxInFlight bounds concurrent deliveries per endpoint.
	MaxInFlight int `yaml:"max_in_flight" env:"HOOKLINE_MAX_IN_FLIGHT"`
	// ShutdownTimeout bounds the graceful drain on SIGINT/SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout" env:"HOOKLINE_SHUTDOWN_TIMEOUT"`
	// CommitTimeout bounds a publish (POST /v1/events, /in/{source}): one
	// the database cannot commit in time is answered 503.
	CommitTimeout time.Duration `yaml:"commit_timeout" env:"HOOKLINE_COMMIT_TIMEOUT"`
	// Retention is how long finished events, deliveries and attempts are
	// kept before background pruning deletes them.
	Retention time.Duration `yaml:"retention" env:"HOOKLINE_RETENTION"`
	// DisableAfter disables an endpoint that has failed without a single
	// success for this long, and emits endpoint.disabled.
	DisableAfter time.Duration `yaml:"disable_after" env:"HOOKLINE_DISABLE_AFTER"`
	// BreakerThreshold is the number of consecutive failures that opens an
	// endpoint's circuit; BreakerCooldown how long it stays open before a
	// probe (doubling after a failed probe, up to 10 minutes).
	BreakerThreshold int           `yaml:"breaker_threshold" env:"HOOKLINE_BREAKER_THRESHOLD"`
	BreakerCooldown  time.Duration `yaml:"breaker_cooldown" env:"HOOKLINE_BREAKER_COOLDOWN"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level" env:"HOOKLINE_LOG_LEVEL" flag:"log-level" help:"debug, info, warn or error"`
	// LogFormat is text or json.
	LogFormat string `yaml:"log_format" env:"HOOKLINE_LOG_FORMAT" flag:"log-format" help:"text or json"`

	// Tracing is the OpenTelemetry tracing of the standard OTEL_*
	// variables (telemetry.Vars), read through Load's lookup; it has no
	// YAML key or flag.
	Tracing telemetry.Config `yaml:"-"`

	// Declaration holds the resources declared in the same file under the
	// keys of DeclarationKeys. serve applies them to the default tenant at
	// start and on reload; they are not server settings.
	wire.Declaration `yaml:",inline"`
}

// Default returns the defaults. Those of settings the engine and the
// delivery executor also fall back to when left zero are theirs, so each
// lives in one place.
func Default() Config {
	return Config{
		Addr:             "127.0.0.1:8080",
		Dashboard:        "/",
		DataDir:          "./hookline-data",
		MaxBodyBytes:     1 << 20,
		Workers:          engine.DefaultWorkers,
		MaxInFlight:      engine.DefaultMaxInFlight,
		ShutdownTimeout:  30 * time.Second,
		CommitTimeout:    engine.DefaultCommitTimeout,
		ClusterHeartbeat: engine.DefaultHeartbeat,
		Retention:        engine.DefaultRetention,
		DisableAfter:     delivery.DefaultDisableAfter,
		BreakerThreshold: engine.DefaultBreaker.Threshold,
		BreakerCooldown:  engine.DefaultBreaker.Cooldown,
		LogLevel:         "info",
		LogFormat:        "text",
	}
}

// Load returns the defaults overlaid by the YAML file at path (if path is
// not empty) and by HOOKLINE_* variables read through lookup. ${NAME}
// references in the file's declaration are expanded through lookup too.
// A mistake in the file is a *FileError.
func Load(path string, lookup func(string) (string, bool)) (Config, error) {
	if path == "" {
		cfg := Default()
		return cfg, cfg.applyEnv(lookup)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Default(), fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, lookup)
}

// Parse is Load for a file already read: data is the contents of the file
// at path, which only names it in errors.
func Parse(path string, data []byte, lookup func(string) (string, bool)) (Config, error) {
	cfg := Default()
	if err := decodeFile(path, data, &cfg, lookup); err != nil {
		return cfg, err
	}
	if err := cfg.applyEnv(lookup); err != nil {
		return cfg, err
	}
	return cfg, nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// SMTP configures the email channel.
type SMTP struct {
	Host string `yaml:"host" env:"HOOKLINE_SMTP_HOST"`
	// Port defaults by TLS: 587 (starttls), 465 (tls), 25 (none).
	Port int `yaml:"port" env:"HOOKLINE_SMTP_PORT"`
	// TLS is "starttls" (the default), "tls" (implicit TLS) or "none"
	// (only for a local relay).
	TLS      string `yaml:"tls" env:"HOOKLINE_SMTP_TLS"`
	Username string `yaml:"username" env:"HOOKLINE_SMTP_USERNAME"`
	// Password; prefer HOOKLINE_SMTP_PASSWORD over the file.
	Password string `yaml:"password" env:"HOOKLINE_SMTP_PASSWORD" secret:"true"`
	// From is the sender, e.g. "Shop <noreply@shop.example>".
	From string `yaml:"from" env:"HOOKLINE_SMTP_FROM"`
}

// RestartKeys returns the YAML keys of the server settings that differ
// between c and next. They take effect only when the server restarts; the
// declaration is not among them, as it is applied while running.
func (c Config) RestartKeys(next Config) []string {
	var keys []string
	cv, nv := reflect.ValueOf(c), reflect.ValueOf(next)
	t := cv.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous || f.Tag.Get("yaml") == "-" {
			continue
		}
		a, b := cv.Field(i), nv.Field(i)
		if a.Kind() == reflect.Slice && a.Len() == 0 && b.Len() == 0 {
			continue
		}
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			keys = append(keys, name)
		}
	}
	return keys
}

// Validate checks every key and names the first bad one.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Addr == "" {
		bad("addr", "is required")
	}
	if c.DataDir == "" {
		bad("data_dir", "is required")
	}
	for _, n := range c.AllowNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			if _, err := netip.ParseAddr(n); err != nil {
				bad("allow_networks", "%q is not a CIDR or IP address", n)
			}
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("public_url", "%q is not an http(s) URL such as https://hooks.example.com", c.PublicURL)
		}
	}
	if err := checkDashboard(c.Dashboard); err != nil {
		bad("dashboard", "%v", err)
	}
	for _, src := range c.PortalFrameAncestors {
		if !frameSource.MatchString(src) {
			bad("portal_frame_ancestors", "%q is not a frame-ancestors source such as https://app.example.com, https://*.example.com or 'self'", src)
		}
	}
	c.validateTLS(bad)
	if c.SMTP.Host != "" && c.SMTP.From == "" {
		bad("smtp.from", "is required with smtp.host, e.g. \"Shop <noreply@shop.example>\"")
	}
	switch c.SMTP.TLS {
	case "", "starttls", "tls", "none":
	default:
		bad("smtp.tls", "must be starttls, tls or none, got %q", c.SMTP.TLS)
	}
	if c.SMTP.Port < 0 || c.SMTP.Port > 65535 {
		bad("smtp.port", "must be a port number, got %d", c.SMTP.Port)
	}
	for _, n := range c.WorkflowEnv {
		if !envName.MatchString(n) {
			bad("workflow_env", "%q is not an environment variable name", n)
		}
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20 {
		bad("max_body_bytes", "must be from 1024 to %d, got %d", 64<<20, c.MaxBodyBytes)
	}
	if c.Workers < 1 || c.Workers > 10000 {
		bad("workers", "must be from 1 to 10000, got %d", c.Workers)
	}
	if c.MaxInFlight < 1 || c.MaxInFlight > 1000 {
		bad("max_in_flight", "must be from 1 to 1000, got %d", c.MaxInFlight)
	}
	if c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		bad("database", "must be a postgres:// URL, or empty for SQLite in data_dir")
	}
	if c.ClusterHeartbeat < 100*time.Millisecond || c.ClusterHeartbeat > time.Minute {
		bad("cluster_heartbeat", "must be from 100ms to 1m, got %s", c.ClusterHeartbeat)
	}
	if c.Retention < time.Hour {
		bad("retention", "must be at least 1h, got %s", c.Retention)
	}
	if c.DisableAfter < time.Minute {
		bad("disable_after", "must be at least 1m, got %s", c.DisableAfter)
	}
	if c.BreakerThreshold < 1 || c.BreakerThreshold > 10000 {
		bad("breaker_threshold", "must be from 1 to 10000, got %d", c.BreakerThreshold)
	}
	if c.BreakerCooldown < time.Second || c.BreakerCooldown > 10*time.Minute {
		bad("breaker_cooldown", "must be from 1s to 10m, got %s", c.BreakerCooldown)
	}
	if c.ShutdownTimeout < 0 {
		bad("shutdown_timeout", "must not be negative")
	}
	if c.CommitTimeout < 100*time.Millisecond || c.CommitTimeout > time.Minute {
		bad("commit_timeout", "must be from 100ms to 1m, got %s", c.CommitTimeout)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("log_format", "must be text or json, got %q", c.LogFormat)
	}
	if c.APIKey != "" && len(c.APIKey) < 16 {
		bad("api_key", "must be at least 16 characters")
	}
	return errors.Join(errs...)
}

// reservedPrefixes are the first path segments of the server's own routes,
// which the dashboard cannot be moved under.
var reservedPrefixes = []string{"v1", "in", "metrics", "healthz", "readyz", "t", "o", "u", "p", "inbox"}

// checkDashboard checks the dashboard key: "off", "/", or a clean path
// prefix of letters, digits, '-', '_' and '/' that no route of the server
// starts with.
func checkDashboard(v string) error {
	if v == "off" || v == "/" {
		return nil
	}
	if !dashboardPath.MatchString(v) {
		return fmt.Errorf("must be /, off or a path such as /ui (letters, digits, -, _ and /, no trailing /), got %q", v)
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(v, "/"), "/")
	for _, r := range reservedPrefixes {
		if first == r {
			return fmt.Errorf("%q is taken by the server's own /%s routes", v, r)
		}
	}
	return nil
}

// frameSource is a source of a frame-ancestors directive that a list may
// hold: 'self', a scheme (https:), or a scheme and host with an optional
// leading *. and port. Nothing that could end the directive (; , space).
var frameSource = regexp.MustCompile(`^('self'|https?:|https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:([0-9]{1,5}|\*))?)$`)

var dashboardPath = regexp.MustCompile(`^(/[A-Za-z0-9_-]+)+$`)
