package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store/postgres"
)

// TestMigrationStatusOnlyReads asks for the status of a schema no
// migration ran in: every migration is pending, and goose's table is not
// created. After Migrate every one is applied.
func TestMigrationStatusOnlyReads(t *testing.T) {
	t.Parallel()
	d := dsn(t)
	sch := schema(t)
	ctx := context.Background()
	s, err := postgres.Open(ctx, postgres.Config{DSN: d, Box: box(t), Schema: sch, MaxConns: 2, SkipMigrate: true})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })

	status, err := s.MigrationStatus(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, status)
	for _, m := range status {
		require.Equal(t, goose.StatePending, m.State, m.Source.Path)
	}
	conn, err := pgx.Connect(ctx, d)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(ctx) })
	var exists bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, sch+"."+goose.DefaultTablename).Scan(&exists))
	require.False(t, exists, "status created no table")

	require.NoError(t, s.Migrate(ctx))
	status, err = s.MigrationStatus(ctx)
	require.NoError(t, err)
	for _, m := range status {
		require.Equal(t, goose.StateApplied, m.State, m.Source.Path)
	}
}
