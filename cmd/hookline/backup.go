package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/config"
)

// newBackupCmd returns `hookline backup FILE`: a consistent copy of the
// SQLite database of a data dir, taken while the server runs.
func newBackupCmd(g *globals) *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Copy the SQLite database to FILE while the server runs",
		Long: `Write a consistent copy of the SQLite database in --data-dir to FILE,
which must not exist. The server may keep running and accepting events:
the copy holds every transaction committed before it began (SQLite's
VACUUM INTO, one read transaction). Nothing in the data dir is written.

Secrets in the database are sealed with the encryption key: keep a copy of
--data-dir/encryption.key (or of HOOKLINE_ENCRYPTION_KEY) with the backup,
or the copy's secrets cannot be opened. To restore, stop the server, put
FILE in place of --data-dir/hookline.db (removing hookline.db-wal and
hookline.db-shm) next to that key, and start it.

A PostgreSQL database is backed up with pg_dump, not with this command.
See docs/operations.md.`,
		Args: argsNamed("FILE"),
		// backup needs no API key.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load("", g.lookup)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("data-dir") {
				cfg.DataDir = dataDir
			}
			if err := app.Backup(cmd.Context(), cfg, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s\n", filepath.Join(cfg.DataDir, "hookline.db"), args[0])
			if cfg.EncryptionKey == "" {
				fmt.Fprintf(cmd.OutOrStdout(), "keep %s with it: the copy's secrets are sealed with that key\n",
					filepath.Join(cfg.DataDir, "encryption.key"))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", config.Default().DataDir, "data directory of the SQLite database (env "+config.EnvVar("data_dir")+")")
	return cmd
}
