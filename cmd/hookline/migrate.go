package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/config"
)

// newMigrateCmd returns `hookline migrate [up|status]`: the embedded,
// versioned schema migrations of the configured database. serve applies
// them on start too; status writes nothing.
func newMigrateCmd(g *globals) *cobra.Command {
	var database, dataDir string
	run := func(up bool) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load("", g.lookup)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("database") {
				cfg.Database = database
			}
			if cmd.Flags().Changed("data-dir") {
				cfg.DataDir = dataDir
			}
			err = app.Migrate(cmd.Context(), cfg, up, cmd.OutOrStdout())
			if noDB := (*app.NoDatabaseError)(nil); errors.As(err, &noDB) {
				return fmt.Errorf("%w (run 'hookline serve' or 'hookline migrate up' to create it)", err)
			}
			return err
		}
	}
	cmd := &cobra.Command{
		Use:   "migrate [up|status]",
		Short: "Apply or list the database schema migrations",
		Args:  cobra.NoArgs,
		// migrate needs no API key.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE:              run(true),
	}
	cmd.AddCommand(
		&cobra.Command{Use: "up", Short: "Apply pending migrations and list them all", Args: cobra.NoArgs, RunE: run(true)},
		&cobra.Command{Use: "status", Short: "List migrations and whether each is applied", Args: cobra.NoArgs, RunE: run(false)},
	)
	d := config.Default()
	cmd.PersistentFlags().StringVar(&database, "database", "", "postgres:// URL; SQLite in --data-dir when empty (env "+config.EnvVar("database")+")")
	cmd.PersistentFlags().StringVar(&dataDir, "data-dir", d.DataDir, "data directory of the SQLite database (env "+config.EnvVar("data_dir")+")")
	return cmd
}
