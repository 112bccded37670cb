package app

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/store/sqlite"
)

// ErrBackupPostgres is a backup asked of a PostgreSQL database: it is
// backed up with PostgreSQL's own tools (pg_dump), not by Hookline.
var ErrBackupPostgres = errors.New("hookline backup copies the SQLite database of a data dir; " +
	"back up a PostgreSQL database with pg_dump (see docs/operations.md)")

// Backup writes a consistent copy of the configured SQLite database to the
// new file dst, while a server may be running on it (see sqlite.Backup).
// It takes no lock on the data dir and writes nothing there. A missing
// database is a *NoDatabaseError; an existing dst is
// sqlite.ErrBackupExists.
func Backup(ctx context.Context, cfg config.Config, dst string) error {
	if cfg.Database != "" {
		return ErrBackupPostgres
	}
	src := filepath.Join(cfg.DataDir, "hookline.db")
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return &NoDatabaseError{Path: src}
	}
	return sqlite.Backup(ctx, src, dst)
}
