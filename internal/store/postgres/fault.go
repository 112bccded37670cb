package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookline/hookline/internal/store"
)

// classify wraps the errors that are faults of the database rather than
// of the request: SQLSTATE 53100 disk_full is store.ErrDiskFull; a failed
// connection (class 08), a server shutting down or starting (57P01-57P03),
// a statement cancelled by statement_timeout (57014), too many
// connections (53300), out of memory (53200), a lock not granted in time
// (55P03) and a read-only server (25006, a standby after a failover) are
// store.ErrUnavailable. Then store.Classify: deadlines and network errors.
func classify(err error) error {
	var pe *pgconn.PgError
	var ce *pgconn.ConnectError
	switch {
	case err == nil, store.Classified(err):
		return err
	case errors.As(err, &pe):
		switch {
		case pe.Code == "53100":
			return fmt.Errorf("%w: %w", store.ErrDiskFull, err)
		case strings.HasPrefix(pe.Code, "08"), pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", pe.Code == "57014",
			pe.Code == "53300", pe.Code == "53200", pe.Code == "55P03", pe.Code == "25006":
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	case errors.As(err, &ce), pgconn.Timeout(err):
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return store.Classify(err)
}

// commitError classifies the error of a COMMIT. The server's answer
// (a PgError: the transaction was rolled back) and an error raised before
// COMMIT was sent (pgconn.SafeToRetry: the context was done already) are
// definite: nothing was committed. Anything else — the connection broke
// or the deadline passed while COMMIT was on its way or its answer was —
// leaves the outcome unknown: store.ErrCommitUnknown.
func commitError(action string, err error) error {
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe), errors.Is(err, pgx.ErrTxCommitRollback):
		return fmt.Errorf("%s: %w", action, classify(err))
	case pgconn.SafeToRetry(err):
		return fmt.Errorf("%s: %w: %w", action, store.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w: %w", action, store.ErrCommitUnknown, err)
}

// beginBounded starts a transaction that the server ends by itself once
// ctx's deadline has passed: statement_timeout cancels a statement still
// running then (one waiting for a lock, say), and
// idle_in_transaction_session_timeout ends the session if the client goes
// quiet for that long — a client whose connection froze cannot send
// COMMIT, and a COMMIT stuck on the way arrives to a session that is gone,
// so it cannot land long after the caller was told it failed. Without a
// deadline it is a plain BEGIN.
func (s *Store) beginBounded(ctx context.Context) (pgx.Tx, error) {
	d, ok := ctx.Deadline()
	if !ok {
		return s.pool.Begin(ctx)
	}
	ms := max(time.Until(d).Milliseconds(), 1)
	return s.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: fmt.Sprintf(
		"BEGIN; SET LOCAL statement_timeout = %d; SET LOCAL idle_in_transaction_session_timeout = %d", ms, ms)})
}

// CheckWrite reports whether a write could commit now: it creates a
// temporary table, puts a few pages in it and commits, which needs a
// working connection, room on the server's disk for new pages and a WAL
// flush. The table goes with the commit (ON COMMIT DROP). The engine asks
// it while writes fail, so /readyz recovers without traffic.
func (s *Store) CheckWrite(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("check write: %w", classify(err))
		}
	}()
	tx, err := s.beginBounded(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE hookline_check_write (b text) ON COMMIT DROP`); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO hookline_check_write SELECT repeat('x', 1000) FROM generate_series(1, 16)`); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	return nil
}
