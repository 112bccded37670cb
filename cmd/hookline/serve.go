package main

import (
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/config"
)

// newServeCmd returns `hookline serve`: configuration from defaults, the
// --config YAML file, HOOKLINE_* variables and flags, in that order.
func newServeCmd(g *globals) *cobra.Command {
	var (
		path  string
		flags config.Config
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Hookline server",
		Long: `Run the Hookline server: the REST API under /v1, /metrics, /healthz and
/readyz, and the delivery engine. Data lives in --data-dir (SQLite, WAL).

On first start with an empty data dir it creates the "default" tenant and
prints an admin API key once; set HOOKLINE_API_KEY to register a key of
your choice instead. Deliveries to loopback and private addresses are
refused unless --allow-private-networks or --allow-network CIDR is given.`,
		Args: cobra.NoArgs,
		// serve needs no API key or server URL.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path, g.lookup)
			if err != nil {
				return err
			}
			f := cmd.Flags()
			if f.Changed("addr") {
				cfg.Addr = flags.Addr
			}
			if f.Changed("data-dir") {
				cfg.DataDir = flags.DataDir
			}
			if f.Changed("allow-private-networks") {
				cfg.AllowPrivateNetworks = flags.AllowPrivateNetworks
			}
			if f.Changed("allow-network") {
				cfg.AllowNetworks = flags.AllowNetworks
			}
			if f.Changed("log-level") {
				cfg.LogLevel = flags.LogLevel
			}
			if f.Changed("log-format") {
				cfg.LogFormat = flags.LogFormat
			}
			app.Version = version
			log := newLogger(cmd.ErrOrStderr(), cfg)
			a, err := app.New(cmd.Context(), cfg, app.Options{Logger: log, Out: cmd.OutOrStdout()})
			if err != nil {
				return err
			}
			return a.Run(cmd.Context())
		},
	}
	d := config.Default()
	f := cmd.Flags()
	f.StringVarP(&path, "config", "c", "", "YAML config file (keys in docs/config.md)")
	f.StringVar(&flags.Addr, "addr", d.Addr, "listen address (env "+config.EnvAddr+")")
	f.StringVar(&flags.DataDir, "data-dir", d.DataDir, "data directory (env "+config.EnvDataDir+")")
	f.BoolVar(&flags.AllowPrivateNetworks, "allow-private-networks", false,
		"allow deliveries to loopback/private/link-local addresses (env "+config.EnvAllowPrivateNetworks+")")
	f.StringSliceVar(&flags.AllowNetworks, "allow-network", nil, "CIDR that deliveries may reach although private; repeatable (env "+config.EnvAllowNetworks+")")
	f.StringVar(&flags.LogLevel, "log-level", d.LogLevel, "debug, info, warn or error (env "+config.EnvLogLevel+")")
	f.StringVar(&flags.LogFormat, "log-format", d.LogFormat, "text or json (env "+config.EnvLogFormat+")")
	return cmd
}

func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
