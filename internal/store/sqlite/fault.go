package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/hookline/hookline/internal/store"
)

// classify wraps the SQLite result codes that are faults of the database
// rather than of the request: SQLITE_FULL (a full disk, or the file at its
// max_page_count) is store.ErrDiskFull; a lock held past busy_timeout, an
// interrupted statement, an I/O error, a file that cannot be opened or
// written is store.ErrUnavailable. Then store.Classify.
func classify(err error) error {
	var se *sqlite.Error
	if err == nil || store.Classified(err) || !errors.As(err, &se) {
		return store.Classify(err)
	}
	switch se.Code() & 0xff { // the primary code of an extended one
	case sqlite3.SQLITE_FULL:
		return fmt.Errorf("%w: %w", store.ErrDiskFull, err)
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PROTOCOL:
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return store.Classify(err)
}

// minFreeBytes is the free space CheckWrite wants on the file system of
// the database: a WAL frame, a checkpoint and a few pages.
const minFreeBytes = 1 << 20

// CheckWrite reports whether a write could commit now, without writing:
// the write connection answers, the file may grow (it is below its
// max_page_count, or has free pages to reuse) and its file system has
// room. The engine asks it while writes fail, so /readyz recovers without
// traffic; a read-only ping would pass on a full disk.
func (s *Store) CheckWrite(ctx context.Context) error {
	var pages, maxPages, free int64
	for _, q := range []struct {
		pragma string
		dst    *int64
	}{{"page_count", &pages}, {"max_page_count", &maxPages}, {"freelist_count", &free}} {
		if err := s.w.QueryRowContext(ctx, `PRAGMA `+q.pragma).Scan(q.dst); err != nil {
			return fmt.Errorf("check write: %s: %w", q.pragma, classify(err))
		}
	}
	if free == 0 && pages >= maxPages {
		return fmt.Errorf("check write: %w: the database file is at its limit of %d pages", store.ErrDiskFull, maxPages)
	}
	var path string
	if err := s.w.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
		return fmt.Errorf("check write: database file: %w", classify(err))
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(path), &st); err != nil {
		return fmt.Errorf("check write: free space: %w", classify(err))
	}
	if avail := uint64(st.Bavail) * uint64(st.Bsize); avail < minFreeBytes {
		return fmt.Errorf("check write: %w: %d bytes free beside %s", store.ErrDiskFull, avail, path)
	}
	return nil
}

// LimitGrowth caps the database file at its current size plus pages pages
// (SQLite's max_page_count on the write connection), so that a write
// needing more room fails with SQLITE_FULL exactly as on a full disk; a
// negative pages lifts the cap. For tests of a full disk.
func (s *Store) LimitGrowth(ctx context.Context, pages int) error {
	n := int64(1<<32 - 2) // SQLite's largest max_page_count
	if pages >= 0 {
		if err := s.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&n); err != nil {
			return fmt.Errorf("limit growth: %w", err)
		}
		n += int64(pages)
	}
	if _, err := s.w.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, n)); err != nil {
		return fmt.Errorf("limit growth: %w", err)
	}
	return nil
}
