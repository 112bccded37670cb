// Package postgres is the PostgreSQL store driver, for running several
// Hookline nodes on one database: tasks are claimed with FOR UPDATE SKIP
// LOCKED under a lease, new work is announced with LISTEN/NOTIFY, and
// destinations are spread over nodes through bucket leases (see
// store.Coordinator, implemented in cluster.go).
package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

var _ store.Store = (*Store)(nil)

// Config configures Open.
type Config struct {
	// DSN is a postgres:// URL or key=value connection string.
	DSN string
	// Box seals secrets at rest. Required.
	Box *secretbox.Box
	// MaxConns bounds the pool; default the URL's pool_max_conns, else 16.
	MaxConns int32
	// Schema, when set, is created if missing and used as the search path
	// (tests give each run its own).
	Schema string
	// SkipMigrate leaves the schema as it is (hookline migrate status).
	SkipMigrate bool
}

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	pool   *pgxpool.Pool
	box    *secretbox.Box
	schema string
	dsn    string
}

// connectTimeout bounds a dial and the startup exchange when the DSN
// sets no connect_timeout; healthCheckPeriod is how often idle pooled
// connections are checked and broken ones dropped.
const (
	connectTimeout    = 5 * time.Second
	healthCheckPeriod = 5 * time.Second
)

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Open connects, applies pending migrations and returns the store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Box == nil {
		return nil, errors.New("open postgres: secret box is required")
	}
	pc, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("open postgres: parse DSN: %w", err)
	}
	if !strings.Contains(cfg.DSN, "pool_max_conns=") {
		pc.MaxConns = 16 // pgxpool's default is the CPU count, at least 4
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	// A server that stopped answering must not hold a dial, or an idle
	// connection it broke, for long: every call has a deadline of its own
	// (a connection whose call timed out is closed), and these bound what
	// happens outside calls.
	if pc.ConnConfig.ConnectTimeout == 0 {
		pc.ConnConfig.ConnectTimeout = connectTimeout
	}
	pc.HealthCheckPeriod = healthCheckPeriod
	if cfg.Schema != "" {
		if !schemaName.MatchString(cfg.Schema) {
			return nil, fmt.Errorf("open postgres: schema %q must be a plain lowercase identifier", cfg.Schema)
		}
		pc.ConnConfig.RuntimeParams["search_path"] = cfg.Schema
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	s := &Store{pool: pool, box: cfg.Box, schema: cfg.Schema, dsn: cfg.DSN}
	if cfg.Schema == "" && cfg.SkipMigrate {
		return s, nil
	}
	if err := s.withMigrateLock(ctx, func() error {
		if cfg.Schema != "" {
			if _, err := pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{cfg.Schema}.Sanitize()); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
		if cfg.SkipMigrate {
			return nil
		}
		return s.up(ctx)
	}); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return s, nil
}

// CommitLanes is how many of the engine's group-commit batches may commit
// at once: PostgreSQL commits transactions side by side (its own group
// commit shares the WAL flush) and the idempotency keys' advisory locks
// keep concurrent batches correct, so a batch need not wait for the round
// trips of the one before it. An eighth of the pool, at least one: two of
// the default 16. More lanes gained more with the database 1 ms away (S1
// over one lane: four +36 %, two +19 %), but with three nodes and
// PostgreSQL on one 2-core machine four lanes cost a fifth of S1 and two
// about nothing (docs/benchmarks.md).
func (s *Store) CommitLanes() int { return max(int(s.pool.Config().MaxConns)/8, 1) }

// migrateLockPrefix starts the text whose hash keys the advisory lock that
// serializes schema creation and migrations; the schema name completes it,
// so schemas (test runs) in one database do not wait for each other.
const migrateLockPrefix = "hookline.migrate:"

// withMigrateLock runs fn holding the schema's migration lock, so nodes
// opening a fresh database together create the schema and apply each
// migration once: CREATE SCHEMA IF NOT EXISTS and goose's version table
// creation both fail with a unique violation when raced, and goose's own
// session locker neither covers the version table nor wakes before its
// next poll. The lock lives on a connection of its own, outside the pool,
// so a pool of one connection still migrates.
func (s *Store) withMigrateLock(ctx context.Context, fn func() error) (err error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return fmt.Errorf("lock migrations: connect: %w", err)
	}
	// Closing the session releases the lock even if the unlock fails.
	defer conn.Close(context.WithoutCancel(ctx))
	const key = `hashtextextended($1 || coalesce(nullif($2, ''), current_schema(), ''), 0)`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`, migrateLockPrefix, s.schema); err != nil {
		return fmt.Errorf("lock migrations: %w", err)
	}
	defer func() {
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`, migrateLockPrefix, s.schema); uerr != nil && err == nil {
			err = fmt.Errorf("unlock migrations: %w", uerr)
		}
	}()
	return fn()
}

func (s *Store) migrator() (*goose.Provider, func() error, error) {
	db := stdlib.OpenDBFromPool(s.pool)
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("load postgres migrations: %w", err)
	}
	return p, db.Close, nil
}

// Migrate applies every pending migration. Nodes may call it at once: it
// holds the schema's migration lock while it runs.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.withMigrateLock(ctx, func() error { return s.up(ctx) }); err != nil {
		return fmt.Errorf("migrate postgres: %w", err)
	}
	return nil
}

func (s *Store) up(ctx context.Context) error {
	p, done, err := s.migrator()
	if err != nil {
		return err
	}
	defer done()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return s.sealLegacy(ctx)
}

// MigrationStatus lists every migration and whether it is applied. It only
// reads: on a database without Hookline's schema (no migration table, which
// goose would create) every migration is pending.
func (s *Store) MigrationStatus(ctx context.Context) ([]*goose.MigrationStatus, error) {
	var migrated bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, goose.DefaultTablename).Scan(&migrated); err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	p, done, err := s.migrator()
	if err != nil {
		return nil, err
	}
	defer done()
	if !migrated {
		var out []*goose.MigrationStatus
		for _, src := range p.ListSources() {
			out = append(out, &goose.MigrationStatus{Source: src, State: goose.StatePending})
		}
		return out, nil
	}
	return p.Status(ctx)
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return classify(s.pool.Ping(ctx)) }

// --- helpers ---

// epoch stands for "no time" in NOT NULL timestamp columns.
var epoch = time.Unix(0, 0).UTC()

func ts(t time.Time) time.Time {
	if t.IsZero() {
		return epoch
	}
	return t
}

func fromTS(t time.Time) time.Time {
	if t.IsZero() || t.Equal(epoch) {
		return time.Time{}
	}
	return t.UTC()
}

func nullTS(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func wrapRead(action string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	default:
		return fmt.Errorf("%s: %w", action, classify(err))
	}
}

func wrapWrite(action string, err error) error {
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe) && pe.Code == "23505":
		return store.ErrConflict
	default:
		return fmt.Errorf("%s: %w", action, classify(err))
	}
}

func affected(action string, tag pgconn.CommandTag, err error) error {
	if err := wrapWrite(action, err); err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

func toJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("postgres: marshal %T: %v", v, err)) // only plain maps and slices reach here
	}
	return b
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func orEmptySlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// inTx runs fn in a transaction and commits what it did; action names the
// call in errors.
func inTx[T any](ctx context.Context, s *Store, action string, fn func(pgx.Tx) (T, error)) (T, error) {
	var zero T
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return zero, fmt.Errorf("%s: begin: %w", action, err)
	}
	defer tx.Rollback(ctx)
	v, err := fn(tx)
	if err != nil {
		return zero, err
	}
	if err := tx.Commit(ctx); err != nil {
		return zero, fmt.Errorf("%s: commit: %w", action, err)
	}
	return v, nil
}

// transact is inTx for a call that returns only an error.
func (s *Store) transact(ctx context.Context, action string, fn func(pgx.Tx) error) error {
	_, err := inTx(ctx, s, action, func(tx pgx.Tx) (struct{}, error) { return struct{}{}, fn(tx) })
	return err
}

// querier is the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queryAll scans every row a query returns; action names the call in
// errors.
func queryAll[T any](ctx context.Context, q querier, action string, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	return collect(rows, scan)
}

// queryOne scans the row a query returns: store.ErrNotFound without one.
func queryOne[T any](ctx context.Context, q querier, action string, scan func(pgx.Row) (T, error), sql string, args ...any) (T, error) {
	v, err := scan(q.QueryRow(ctx, sql, args...))
	return v, wrapRead(action, err)
}

// change runs a statement that must change a row: store.ErrNotFound when
// it changes none, store.ErrConflict on a unique violation.
func (s *Store) change(ctx context.Context, action, sql string, args ...any) error {
	tag, err := s.pool.Exec(ctx, sql, args...)
	return affected(action, tag, err)
}

func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("scan row: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rows: %w", classify(err))
	}
	return out, nil
}

// --- tenants and keys ---

// CreateTenant inserts a tenant.
func (s *Store) CreateTenant(ctx context.Context, t store.Tenant) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)`, t.ID, t.Name, ts(t.CreatedAt))
	return wrapWrite("create tenant", err)
}

func scanTenant(r pgx.Row) (store.Tenant, error) {
	var t store.Tenant
	err := r.Scan(&t.ID, &t.Name, &t.CreatedAt)
	t.CreatedAt = fromTS(t.CreatedAt)
	return t, err
}

// GetTenant returns a tenant by id.
func (s *Store) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	return queryOne(ctx, s.pool, "get tenant", scanTenant, `SELECT id, name, created_at FROM tenants WHERE id = $1`, id)
}

// TenantByName returns a tenant by name.
func (s *Store) TenantByName(ctx context.Context, name string) (store.Tenant, error) {
	return queryOne(ctx, s.pool, "get tenant by name", scanTenant, `SELECT id, name, created_at FROM tenants WHERE name = $1`, name)
}

// ListTenants lists every tenant, oldest first.
func (s *Store) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	return queryAll(ctx, s.pool, "list tenants", scanTenant, `SELECT id, name, created_at FROM tenants ORDER BY created_at, id`)
}

// CountTenants returns the number of tenants.
func (s *Store) CountTenants(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM tenants`).Scan(&n)
	return n, wrapRead("count tenants", err)
}

// CreateAPIKey inserts an API key.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO api_keys (id, tenant_id, name, prefix, hash, admin, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.TenantID, k.Name, k.Prefix, k.Hash, k.Admin, ts(k.CreatedAt))
	return wrapWrite("create api key", err)
}

const apiKeyCols = `id, tenant_id, name, prefix, hash, admin, created_at`

func scanAPIKey(r pgx.Row) (store.APIKey, error) {
	var k store.APIKey
	err := r.Scan(&k.ID, &k.TenantID, &k.Name, &k.Prefix, &k.Hash, &k.Admin, &k.CreatedAt)
	k.CreatedAt = fromTS(k.CreatedAt)
	return k, err
}

// APIKeyByHash finds a key by hash.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (store.APIKey, error) {
	return queryOne(ctx, s.pool, "get api key", scanAPIKey, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1`, hash)
}

// ListAPIKeys lists a tenant's keys.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]store.APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE tenant_id = $1 ORDER BY id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return collect(rows, scanAPIKey)
}

// DeleteAPIKey deletes one of a tenant's keys.
func (s *Store) DeleteAPIKey(ctx context.Context, tenantID, id string) error {
	return s.change(ctx, "delete api key", `DELETE FROM api_keys WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// EndSession records a signed-out session until it expires.
func (s *Store) EndSession(ctx context.Context, id string, expires time.Time) error {
	_, err := s.pool.Exec(ctx, `WITH gone AS (DELETE FROM ended_sessions WHERE expires_at < now())
		INSERT INTO ended_sessions (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, ts(expires))
	return wrapWrite("end session", err)
}

// SessionEnded reports whether a session was signed out.
func (s *Store) SessionEnded(ctx context.Context, id string) (bool, error) {
	var ended bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ended_sessions WHERE id = $1)`, id).Scan(&ended)
	return ended, wrapRead("read ended session", err)
}

// --- event types ---

// CreateEventType inserts an event type.
func (s *Store) CreateEventType(ctx context.Context, et store.EventType) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO event_types (tenant_id, name, description, schema, created_at) VALUES ($1, $2, $3, $4, $5)`,
		et.TenantID, et.Name, et.Description, et.Schema, ts(et.CreatedAt))
	return wrapWrite("create event type", err)
}

func scanEventType(r pgx.Row) (store.EventType, error) {
	var et store.EventType
	err := r.Scan(&et.TenantID, &et.Name, &et.Description, &et.Schema, &et.CreatedAt)
	et.CreatedAt = fromTS(et.CreatedAt)
	return et, err
}

// GetEventType returns an event type.
func (s *Store) GetEventType(ctx context.Context, tenantID, name string) (store.EventType, error) {
	return queryOne(ctx, s.pool, "get event type", scanEventType, `SELECT tenant_id, name, description, schema, created_at FROM event_types
		WHERE tenant_id = $1 AND name = $2`, tenantID, name)
}

// UpdateEventType replaces an event type's description and schema.
func (s *Store) UpdateEventType(ctx context.Context, et store.EventType) error {
	return s.change(ctx, "update event type", `UPDATE event_types SET description = $1, schema = $2 WHERE tenant_id = $3 AND name = $4`,
		et.Description, et.Schema, et.TenantID, et.Name)
}

// ListEventTypes lists a tenant's event types by name.
func (s *Store) ListEventTypes(ctx context.Context, tenantID string) ([]store.EventType, error) {
	return queryAll(ctx, s.pool, "list event types", scanEventType, `SELECT tenant_id, name, description, schema, created_at FROM event_types
		WHERE tenant_id = $1 ORDER BY name`, tenantID)
}

// DropSchema drops a schema and everything in it (tests).
func (s *Store) DropSchema(ctx context.Context, name string) error {
	if !schemaName.MatchString(name) {
		return fmt.Errorf("drop schema: %q is not a plain identifier", name)
	}
	_, err := s.pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+name+` CASCADE`)
	return wrapWrite("drop schema", err)
}
