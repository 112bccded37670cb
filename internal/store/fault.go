package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// Faults of the database itself, as opposed to the request. Drivers wrap
// the errors they recognise so that errors.Is finds one of these next to
// the driver's own error; Classify recognises the errors every driver
// shares.
var (
	// ErrUnavailable: the database could not be reached, refused or cut the
	// connection, or did not answer within the deadline of the call. Try
	// again later.
	ErrUnavailable = errors.New("database unavailable")
	// ErrDiskFull: the database has no room to write (SQLite's
	// SQLITE_FULL, ENOSPC, PostgreSQL's disk_full). Reads still work.
	ErrDiskFull = errors.New("database disk full")
	// ErrCommitUnknown: a commit was sent but its outcome was not learned
	// in time, so it may or may not have taken effect. Only the engine's
	// group-commit writer tells this apart from ErrUnavailable, which for
	// its batches means "not committed".
	ErrCommitUnknown = errors.New("commit outcome unknown")
)

// Fault returns which of ErrCommitUnknown, ErrDiskFull and ErrUnavailable
// err is, after Classify, or nil for any other error.
func Fault(err error) error {
	return faultOf(Classify(err))
}

// Classified reports whether err is already one of the faults.
func Classified(err error) bool { return faultOf(err) != nil }

func faultOf(err error) error {
	for _, f := range []error{ErrCommitUnknown, ErrDiskFull, ErrUnavailable} {
		if errors.Is(err, f) {
			return f
		}
	}
	return nil
}

// Classify wraps with ErrUnavailable or ErrDiskFull the errors that say
// so whatever the driver: a context deadline, a network error (refused,
// reset, timed out, closed mid-answer) and ENOSPC. Other errors, and those
// already classified, pass unchanged. Drivers call it after their own
// checks (SQLite result codes, PostgreSQL SQLSTATEs).
func Classify(err error) error {
	if err == nil || Classified(err) {
		return err
	}
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	case errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}
