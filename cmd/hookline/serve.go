package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/gcheadroom"
)

// newServeCmd returns `hookline serve`: configuration from defaults, the
// --config YAML file, HOOKLINE_* variables and flags, in that order.
func newServeCmd(g *globals) *cobra.Command {
	var (
		path  string
		watch bool
		flags *configFlags
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Hookline server",
		Long: `Run the Hookline server: the REST API under /v1, /metrics, /healthz and
/readyz, and the delivery engine. Data lives in --data-dir (SQLite, WAL),
or with --database in PostgreSQL, shared with other nodes.

On first start with an empty database it creates the "default" tenant and
prints an admin API key once; set HOOKLINE_API_KEY to register a key of
your choice instead. Deliveries to loopback and private addresses are
refused unless --allow-private-networks or --allow-network CIDR is given.

The --config file may also declare resources, as for 'hookline apply',
under these keys:

` + declarationKeysList() + `

They are applied to the "default" tenant before the server listens, and a
mistake in them stops the start with FILE:LINE. On SIGHUP, and with --watch
whenever the file changes, the file is read and applied again without
restarting the listener: a file with a mistake is logged and refused, and
changed server keys are logged as needing a restart. Without --config,
SIGHUP is ignored.`,
		Args: cobra.NoArgs,
		// serve needs no API key or server URL.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, _ []string) error {
			if watch && path == "" {
				return usagef(cmd, "--watch needs --config FILE")
			}
			var (
				cfg config.Config
				raw []byte
				rl  *reloader
				err error
			)
			if path == "" {
				cfg, err = config.Load("", g.lookup)
			} else {
				rl = &reloader{path: path, lookup: g.lookup}
				cfg, raw, err = rl.load()
			}
			if err != nil {
				return err
			}
			// Flags the user set win over the file and the environment.
			flags.apply(&cfg)
			log := newLogger(cmd.ErrOrStderr(), cfg)
			gcheadroom.Start(cmd.Context(), g.lookup)
			a, err := app.New(cmd.Context(), cfg, app.Options{Logger: log, Out: cmd.OutOrStdout(), Build: g.build})
			if err != nil {
				return err
			}
			if rl == nil {
				// Without a file there is nothing to reload; SIGHUP is
				// ignored rather than ending the process.
				signal.Ignore(syscall.SIGHUP)
				return a.Run(cmd.Context())
			}
			rl.log, rl.apply = log, a.Apply
			if err := rl.applyDeclaration(cmd.Context(), cfg, raw); err != nil {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), cfg.ShutdownTimeout)
				defer cancel()
				_ = a.Stop(ctx)
				return err
			}
			return runReloading(cmd.Context(), a, rl, watch)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&path, "config", "c", "", "YAML config file: server keys and declared resources (docs/config.md); reloaded on SIGHUP")
	f.BoolVar(&watch, "watch", false, "reload the --config file when it changes (checked every second)")
	flags = bindConfigFlags(cmd, config.Settings(), config.Default())
	return cmd
}

// runReloading runs a until ctx ends, reloading rl's file on SIGHUP and,
// with watch, when it changes. Reloads end before a stops, so none races
// the shutdown.
func runReloading(ctx context.Context, a *app.App, rl *reloader, watch bool) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	if watch {
		t := time.NewTicker(watchInterval)
		defer t.Stop()
		tick = t.C
	}

	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	reloadCtx, stopReload := context.WithCancel(ctx)
	defer stopReload()
	runErr := make(chan error, 1)
	go func() {
		runErr <- a.Run(runCtx)
		// The server failed on its own: stop reloading.
		stopReload()
	}()
	rl.run(reloadCtx, hup, tick)
	stopRun()
	return <-runErr
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
