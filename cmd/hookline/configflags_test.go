package main

import (
	"maps"
	"slices"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/config"
)

// TestServeRegistersEveryConfigFlag finds a flag of serve for every
// setting with a flag tag, with the name, type, default and usage it had
// when they were written by hand, and no other flag.
func TestServeRegistersEveryConfigFlag(t *testing.T) {
	t.Parallel()
	noEnv := func(string) (string, bool) { return "", false }
	serve, _, err := newRootCmd(noEnv).Find([]string{"serve"})
	require.NoError(t, err)

	type flag struct{ typ, def, usage string }
	want := map[string]flag{
		"addr":                   {"string", "127.0.0.1:8080", "listen address (env HOOKLINE_ADDR)"},
		"data-dir":               {"string", "./hookline-data", "data directory (env HOOKLINE_DATA_DIR)"},
		"database":               {"string", "", "postgres:// URL to share with other nodes; SQLite in --data-dir when empty (env HOOKLINE_DATABASE)"},
		"node-id":                {"string", "", "this node's name in a PostgreSQL cluster; default the one kept in --data-dir/node_id (env HOOKLINE_NODE_ID)"},
		"allow-private-networks": {"bool", "false", "allow deliveries to loopback/private/link-local addresses (env HOOKLINE_ALLOW_PRIVATE_NETWORKS)"},
		"allow-network":          {"stringSlice", "[]", "CIDR that deliveries may reach although private; repeatable (env HOOKLINE_ALLOW_NETWORKS)"},
		"workflow-env":           {"stringSlice", "[]", "environment variable workflow expressions may read as env.NAME; repeatable (env HOOKLINE_WORKFLOW_ENV)"},
		"log-level":              {"string", "info", "debug, info, warn or error (env HOOKLINE_LOG_LEVEL)"},
		"log-format":             {"string", "text", "text or json (env HOOKLINE_LOG_FORMAT)"},
		"tls-cert":               {"string", "", "PEM certificate (chain) file: serve HTTPS on --addr, with --tls-key (env HOOKLINE_TLS_CERT)"},
		"tls-key":                {"string", "", "PEM private key file of --tls-cert (env HOOKLINE_TLS_KEY)"},
		"tls-domain":             {"stringSlice", "[]", "domain to get a certificate for automatically (ACME, Let's Encrypt); repeatable (env HOOKLINE_TLS_DOMAINS)"},
		"tls-email":              {"string", "", "contact email for the ACME account of --tls-domain (env HOOKLINE_TLS_EMAIL)"},
		"tls-http-addr":          {"string", "", "with --tls-domain: plain-HTTP address (e.g. :80) for ACME HTTP-01 challenges and redirects to HTTPS (env HOOKLINE_TLS_HTTP_ADDR)"},
	}
	var tagged []string
	for _, s := range config.Settings() {
		if s.Flag == "" {
			continue
		}
		tagged = append(tagged, s.Flag)
		fl := serve.Flags().Lookup(s.Flag)
		if !assert.NotNil(t, fl, "serve has no --%s", s.Flag) {
			continue
		}
		assert.Equal(t, s.Short, fl.Shorthand, s.Flag)
		assert.Equal(t, want[s.Flag], flag{fl.Value.Type(), fl.DefValue, fl.Usage}, s.Flag)
	}
	slices.Sort(tagged)
	require.Equal(t, slices.Sorted(maps.Keys(want)), tagged, "the flags of serve that set config settings")
}

// TestConfigFlagsWinOverEnv lays the flags given over a config read from
// the environment; the settings whose flag is not given keep their value.
func TestConfigFlagsWinOverEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"HOOKLINE_ADDR": "0.0.0.0:7000", "HOOKLINE_LOG_LEVEL": "warn", "HOOKLINE_ALLOW_NETWORKS": "10.0.0.0/8",
		"HOOKLINE_DATA_DIR": "/env/data",
	}
	load := func(t *testing.T) config.Config {
		cfg, err := config.Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		require.NoError(t, err)
		return cfg
	}

	cmd := &cobra.Command{Use: "serve"}
	flags := bindConfigFlags(cmd, config.Settings(), config.Default())
	require.NoError(t, cmd.Flags().Parse([]string{
		"--addr", ":9000", "--database", "postgres://db/h", "--node-id", "n1", "--allow-private-networks",
		"--allow-network", "10.1.0.0/16", "--allow-network", "10.2.0.0/16,10.3.0.1", "--workflow-env", "A,B",
		"--log-format", "json",
	}))
	cfg := load(t)
	flags.apply(&cfg)
	want := load(t)
	want.Addr = ":9000"
	want.Database = "postgres://db/h"
	want.NodeID = "n1"
	want.AllowPrivateNetworks = true
	want.AllowNetworks = []string{"10.1.0.0/16", "10.2.0.0/16", "10.3.0.1"}
	want.WorkflowEnv = []string{"A", "B"}
	want.LogFormat = "json"
	require.Equal(t, want, cfg)
	require.Equal(t, "warn", cfg.LogLevel, "no --log-level: the environment's")
	require.Equal(t, "/env/data", cfg.DataDir, "no --data-dir: the environment's, not the flag's default")

	none := &cobra.Command{Use: "serve"}
	unset := bindConfigFlags(none, config.Settings(), config.Default())
	require.NoError(t, none.Flags().Parse(nil))
	cfg = load(t)
	unset.apply(&cfg)
	require.Equal(t, load(t), cfg, "no flag given: nothing changes")
}

// TestSecretFlagHidesDefault binds a flag to a secret setting: its default
// is never printed in the help, while the same flag on a setting that is
// not secret shows it.
func TestSecretFlagHidesDefault(t *testing.T) {
	t.Parallel()
	const secret = "hk_default_that_must_not_show"
	bind := func(isSecret bool) *cobra.Command {
		list := config.Settings()
		i := slices.IndexFunc(list, func(s config.Setting) bool { return s.Key == "api_key" })
		require.GreaterOrEqual(t, i, 0)
		require.True(t, list[i].Secret, "api_key is tagged secret")
		list[i].Flag, list[i].Help, list[i].Secret = "api-key-test", "an admin key", isSecret
		def := config.Default()
		def.APIKey = secret
		cmd := &cobra.Command{Use: "serve"}
		bindConfigFlags(cmd, list, def)
		return cmd
	}
	cmd := bind(true)
	require.Empty(t, cmd.Flags().Lookup("api-key-test").DefValue)
	require.NotContains(t, cmd.Flags().FlagUsages(), secret)
	require.Contains(t, bind(false).Flags().FlagUsages(), secret, "the control: a default is shown when not secret")
}
