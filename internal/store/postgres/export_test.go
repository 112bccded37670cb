package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Classify, CommitError and BeginBounded are classify, commitError and
// beginBounded, for the tests of faults.
var (
	Classify    = classify
	CommitError = commitError
)

func (s *Store) BeginBounded(ctx context.Context) (pgx.Tx, error) { return s.beginBounded(ctx) }
