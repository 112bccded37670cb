package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
)

// ErrBackupExists is a backup whose destination file already exists:
// Backup never overwrites.
var ErrBackupExists = errors.New("backup file already exists")

// Backup writes a consistent copy of the database at src to the new file
// dst with VACUUM INTO, while other processes (a running server) read and
// write src. The copy is one read transaction of src, so it holds exactly
// the transactions committed before it began: in WAL mode the writer goes
// on meanwhile and the copy never waits for it. The copy is compact (no
// free pages) and holds everything the WAL held. It is written to a
// temporary name next to dst, synced, then linked into place, so a backup
// that fails leaves no dst behind and an existing dst is never replaced
// (ErrBackupExists).
//
// src is opened read-only and never created; a missing one is an error
// wrapping fs.ErrNotExist.
func Backup(ctx context.Context, src, dst string) (err error) {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("backup to %s: %w", dst, ErrBackupExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup to %s: %w", dst, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.partial")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	defer func() {
		// Once linked, dst holds the copy and the temporary name goes
		// either way.
		os.Remove(tmpPath)
	}()
	// VACUUM INTO wants an empty or missing file.
	if err := os.Remove(tmpPath); err != nil {
		return fmt.Errorf("backup: %w", err)
	}

	// A WAL database is read through its -shm index like any reader's,
	// so the copy sees the commits still in the WAL. While a server has
	// the database open (its -wal file exists) the backup reads it
	// read-only. Otherwise a read-only reader would create -wal and -shm
	// files and leave them behind, so it opens read-write, never
	// creating the database: as the last connection to close it then
	// removes them, and a server that starts meanwhile shares the
	// database under SQLite's locks. Either way it only reads.
	mode := "ro"
	if _, err := os.Stat(src + "-wal"); errors.Is(err, fs.ErrNotExist) {
		mode = "rw"
	}
	dsn := "file:" + (&url.URL{Path: src}).EscapedPath() + "?mode=" + mode + "&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("backup: open %s: %w", src, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmpPath); err != nil {
		return fmt.Errorf("backup: copy %s: %w", src, classify(err))
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("backup: close %s: %w", src, err)
	}
	if err := syncFile(tmpPath); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// Link, not rename: link fails when dst appeared meanwhile, so it is
	// never replaced.
	if err := os.Link(tmpPath, dst); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("backup to %s: %w", dst, ErrBackupExists)
		}
		return fmt.Errorf("backup: %w", err)
	}
	if err := syncFile(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// syncFile fsyncs the file or directory at path.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}
