package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store/postgres"
	"github.com/hookline/hookline/internal/testkit"
)

// TestConcurrentOpen starts eight nodes on a fresh schema at once, each
// with a pool of one connection: all open, and the migrations are applied
// once. Without the migration lock CREATE SCHEMA IF NOT EXISTS and the
// first migration fail with unique violations.
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	d := testkit.PostgresDSN(t) // skips here, never inside the goroutines
	sch := schema(t)
	stores := make([]*postgres.Store, 8)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() {
			<-start
			s, err := postgres.Open(context.Background(), postgres.Config{DSN: d, Box: box(t), Schema: sch, MaxConns: 1})
			if assert.NoError(t, err) {
				stores[i] = s
				t.Cleanup(func() { s.Close() })
			}
		})
	}
	close(start)
	wg.Wait()
	require.NotContains(t, stores, (*postgres.Store)(nil))
	status, err := stores[0].MigrationStatus(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, status)
	for _, m := range status {
		require.Equal(t, "applied", string(m.State), "migration %s", m.Source.Path)
	}
	require.NoError(t, stores[1].Migrate(context.Background()), "migrating an up-to-date schema is a no-op")
}

// TestMigrationStatusOnlyReads asks for the status of a schema no
// migration ran in: every migration is pending, and goose's table is not
// created. After Migrate every one is applied.
func TestMigrationStatusOnlyReads(t *testing.T) {
	t.Parallel()
	d := testkit.PostgresDSN(t)
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

// TestPoolSizeAndCommitLanes: the pool holds 16 connections unless the
// URL's pool_max_conns says otherwise, and an eighth of them (at least
// one) commit the engine writer's batches side by side.
func TestPoolSizeAndCommitLanes(t *testing.T) {
	t.Parallel()
	d := testkit.PostgresDSN(t)
	sch := schema(t)
	sep := "?"
	if strings.Contains(d, "?") {
		sep = "&"
	}
	for _, c := range []struct {
		dsn   string
		lanes int
	}{
		{d, 2},
		{d + sep + "pool_max_conns=32", 4},
		{d + sep + "pool_max_conns=8", 1},
	} {
		s, err := postgres.Open(t.Context(), postgres.Config{DSN: c.dsn, Box: box(t), Schema: sch})
		require.NoError(t, err)
		require.Equal(t, c.lanes, s.CommitLanes(), c.dsn)
		s.Close()
	}
}
