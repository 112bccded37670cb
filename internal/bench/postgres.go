package bench

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// pgSchema is a fresh PostgreSQL schema for one scenario's server.
type pgSchema struct {
	// admin is the DSN the schema was made with.
	admin string
	name  string
	// dsn is admin with search_path set to the schema.
	dsn string
}

// validPostgresDSN checks that dsn is a postgres:// or postgresql:// URL.
func validPostgresDSN(dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return fmt.Errorf("%q is not a postgres:// URL", redactDSN(dsn))
	}
	return nil
}

// validStoreDSN checks the DSN of Config.Postgres.
func validStoreDSN(dsn string) error {
	if err := validPostgresDSN(dsn); err != nil {
		return fmt.Errorf("postgres %w", err)
	}
	u, _ := url.Parse(dsn)
	if u.Query().Has("search_path") {
		return fmt.Errorf("postgres DSN must not set search_path: each scenario gets a schema of its own")
	}
	return nil
}

// redactDSN drops the password of dsn, for messages.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// createSchema creates schema name in the database at admin and returns
// it.
func createSchema(ctx context.Context, admin, name string) (*pgSchema, error) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create schema %s: %w", name, err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return nil, fmt.Errorf("parse postgres DSN: %w", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return &pgSchema{admin: admin, name: name, dsn: u.String()}, nil
}

// drop drops the schema and everything in it.
func (s *pgSchema) drop(ctx context.Context) error {
	return execPostgres(ctx, s.admin, "DROP SCHEMA "+pgx.Identifier{s.name}.Sanitize()+" CASCADE")
}

// dropTable drops table, if it exists, from the database at dsn.
func dropTable(ctx context.Context, dsn, table string) error {
	return execPostgres(ctx, dsn, "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize())
}

// execPostgres runs one statement on the database at dsn.
func execPostgres(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("postgres: %s: %w", sql, err)
	}
	return nil
}

// SchemaPrefix begins the names of the PostgreSQL schemas of bench runs.
const SchemaPrefix = "hookline_bench_"

// schemaFor returns the schema name of a scenario of run runID.
func schemaFor(runID, scenario string) string {
	return SchemaPrefix + runID + "_" + strings.ToLower(scenario)
}
