// Package sqlite is the default store driver: one SQLite file in WAL mode
// through the pure-Go modernc.org/sqlite driver, so the binary needs no cgo.
//
// Writes go through a single connection (SQLite has one writer anyway);
// reads use a small pool of their own so they never queue behind a write.
// synchronous=FULL makes every commit durable across power loss, which is
// what a 202 promises; the engine's group commit amortises the fsync.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/groupcommit"
	"github.com/hookline/hookline/internal/secretbox"
	"github.com/hookline/hookline/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

var _ store.Store = (*Store)(nil)

// Config configures Open.
type Config struct {
	// Path is the database file; it is created when missing.
	Path string
	// Box seals secrets at rest (endpoint secrets and headers, source
	// verification, collection secrets, notify rules). Required.
	Box *secretbox.Box
	// ReadConns is the size of the read pool; default 4.
	ReadConns int
	// Clock is the database's clock for task leases; default the wall
	// clock. SQLite serves one process, so that process's clock is the
	// database's clock: the engine passes its own.
	Clock clock.Clock
}

// Store is the SQLite implementation of store.Store.
type Store struct {
	w     *sql.DB // single connection: all writes
	r     *sql.DB // read pool
	box   *secretbox.Box
	clock clock.Clock
	// runs group-commits SaveRun; it is never stopped: a save after Close
	// fails at the closed connection, as any write does.
	runs *groupcommit.Group[*pendingSave]
}

// Open opens (creating if needed) the database at cfg.Path and applies
// pending migrations.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Box == nil {
		return nil, errors.New("open sqlite: secret box is required")
	}
	dsn := "file:" + (&url.URL{Path: cfg.Path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate"
	wc, err := newConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w := sql.OpenDB(wc)
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", cfg.Path, err)
	}
	if err := Migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	rc, err := newConnector(dsn + "&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite reader: %w", err)
	}
	r := sql.OpenDB(rc)
	n := cfg.ReadConns
	if n <= 0 {
		n = 4
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s := &Store{w: w, r: r, box: cfg.Box, clock: cfg.Clock}
	s.runs = newRunGroup(s)
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if err := s.sealLegacy(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", cfg.Path, err)
	}
	return s, nil
}

// The statements of the hot write paths, run through the connection's
// statement cache (stmtcache.go).
const (
	// INDEXED BY: left alone the planner walks events_tenant backwards
	// for ORDER BY id and the check slows as the log grows.
	sqlIdemCheck = `SELECT ` + eventCols + ` FROM events INDEXED BY events_idempotency
		WHERE tenant_id = ? AND idempotency_key = ? AND created_at >= ? ORDER BY id DESC LIMIT 1`
	sqlInsertEvent = `INSERT INTO events (id, tenant_id, type, source, data, occurred_at, idempotency_key, created_at, raw, headers, traceparent, request_headers)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertTask = `INSERT INTO tasks (id, tenant_id, event_id, event_type, kind, destination_id, status,
		attempts, next_at, lease_until, lease_owner, last_error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlInsertAttempt = `INSERT INTO attempts (id, task_id, tenant_id, number, started_at, duration_us, outcome,
		request_url, request_headers, request_body, response_status, response_headers, response_body, error, kind, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// The guard of store.CompleteTasks: unfinished, same token, and the
	// attempt is the next one.
	sqlCompleteTask = `UPDATE tasks SET status = ?, attempts = ?, next_at = ?, lease_until = 0,
		last_error = ?, updated_at = ? WHERE id = ? AND lease_token = ? AND attempts = ? AND status IN ('pending', 'retrying')`
)

// Migrate applies every pending embedded migration to db.
func Migrate(ctx context.Context, db *sql.DB) error {
	p, err := newMigrator(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	return nil
}

// MigrationStatus opens the database at path without starting a store,
// applies pending migrations when up is set, and lists every migration.
// Without up it only reads: the file is opened read-only and never
// created, so a missing one is an error.
func MigrationStatus(ctx context.Context, path string, up bool) ([]*goose.MigrationStatus, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	if !up {
		dsn = "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&_pragma=busy_timeout(10000)&_pragma=query_only(1)"
		if _, err := os.Stat(path + "-wal"); errors.Is(err, fs.ErrNotExist) {
			// No WAL: no server has it open and all is in the file.
			// immutable reads it without the -wal and -shm files a
			// reader of a WAL database would otherwise create.
			dsn += "&immutable=1"
		}
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	p, err := newMigrator(db)
	if err != nil {
		return nil, err
	}
	if up {
		if _, err := p.Up(ctx); err != nil {
			return nil, fmt.Errorf("migrate sqlite: %w", err)
		}
	}
	return p.Status(ctx)
}

func newMigrator(db *sql.DB) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectSQLite3, db, mustSub(migrations, "migrations"))
	if err != nil {
		return nil, fmt.Errorf("load sqlite migrations: %w", err)
	}
	return p, nil
}

// Close closes both connection pools.
func (s *Store) Close() error {
	return errors.Join(s.r.Close(), s.w.Close())
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return classify(s.r.PingContext(ctx))
}

// --- tenants and keys ---

// CreateTenant inserts a tenant; ErrConflict when the name is taken.
func (s *Store) CreateTenant(ctx context.Context, t store.Tenant) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO tenants (id, name, created_at) VALUES (?, ?, ?)`, t.ID, t.Name, ms(t.CreatedAt))
	return wrapWrite("create tenant", err)
}

func scanTenant(sc scanner) (store.Tenant, error) {
	var t store.Tenant
	var created int64
	err := sc.Scan(&t.ID, &t.Name, &created)
	t.CreatedAt = fromMS(created)
	return t, err
}

// GetTenant returns a tenant by id.
func (s *Store) GetTenant(ctx context.Context, id string) (store.Tenant, error) {
	return queryOne(ctx, s.r, "get tenant", scanTenant, `SELECT id, name, created_at FROM tenants WHERE id = ?`, id)
}

// TenantByName returns a tenant by its unique name.
func (s *Store) TenantByName(ctx context.Context, name string) (store.Tenant, error) {
	return queryOne(ctx, s.r, "get tenant by name", scanTenant, `SELECT id, name, created_at FROM tenants WHERE name = ?`, name)
}

// ListTenants lists every tenant, oldest first.
func (s *Store) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	return queryAll(ctx, s.r, "list tenants", scanTenant, `SELECT id, name, created_at FROM tenants ORDER BY created_at, id`)
}

// CountTenants returns the number of tenants.
func (s *Store) CountTenants(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM tenants`).Scan(&n)
	return n, wrapRead("count tenants", err)
}

// CreateAPIKey inserts an API key.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO api_keys (id, tenant_id, name, prefix, hash, admin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.TenantID, k.Name, k.Prefix, k.Hash, k.Admin, ms(k.CreatedAt))
	return wrapWrite("create api key", err)
}

const apiKeyCols = `id, tenant_id, name, prefix, hash, admin, created_at`

func scanAPIKey(sc scanner) (store.APIKey, error) {
	var k store.APIKey
	var created int64
	err := sc.Scan(&k.ID, &k.TenantID, &k.Name, &k.Prefix, &k.Hash, &k.Admin, &created)
	k.CreatedAt = fromMS(created)
	return k, err
}

// APIKeyByHash finds the key with the given hash.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (store.APIKey, error) {
	return queryOne(ctx, s.r, "get api key", scanAPIKey, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = ?`, hash)
}

// ListAPIKeys lists a tenant's keys, oldest first.
func (s *Store) ListAPIKeys(ctx context.Context, tenantID string) ([]store.APIKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE tenant_id = ? ORDER BY id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return collect(rows, scanAPIKey)
}

// DeleteAPIKey deletes one of a tenant's keys.
func (s *Store) DeleteAPIKey(ctx context.Context, tenantID, id string) error {
	return s.change(ctx, "delete api key", `DELETE FROM api_keys WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

// EndSession records a signed-out session until it expires.
func (s *Store) EndSession(ctx context.Context, id string, expires time.Time) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return wrapWrite("end session", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM ended_sessions WHERE expires_at < ?`, ms(time.Now())); err != nil {
		return wrapWrite("end session", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ended_sessions (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
		id, ms(expires)); err != nil {
		return wrapWrite("end session", err)
	}
	return wrapWrite("end session", tx.Commit())
}

// SessionEnded reports whether a session was signed out.
func (s *Store) SessionEnded(ctx context.Context, id string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM ended_sessions WHERE id = ?`, id).Scan(&n)
	return n > 0, wrapRead("read ended session", err)
}

// --- event types ---

// CreateEventType inserts an event type; ErrConflict when it exists.
func (s *Store) CreateEventType(ctx context.Context, et store.EventType) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO event_types (tenant_id, name, description, schema, created_at) VALUES (?, ?, ?, ?, ?)`,
		et.TenantID, et.Name, et.Description, et.Schema, ms(et.CreatedAt))
	return wrapWrite("create event type", err)
}

func scanEventType(sc scanner) (store.EventType, error) {
	var et store.EventType
	var created int64
	err := sc.Scan(&et.TenantID, &et.Name, &et.Description, &et.Schema, &created)
	et.CreatedAt = fromMS(created)
	return et, err
}

// GetEventType returns an event type by name.
func (s *Store) GetEventType(ctx context.Context, tenantID, name string) (store.EventType, error) {
	et, err := scanEventType(s.r.QueryRowContext(ctx,
		`SELECT tenant_id, name, description, schema, created_at FROM event_types WHERE tenant_id = ? AND name = ?`, tenantID, name))
	return et, wrapRead("get event type", err)
}

// UpdateEventType replaces an event type's description and schema.
func (s *Store) UpdateEventType(ctx context.Context, et store.EventType) error {
	return s.change(ctx, "update event type", `UPDATE event_types SET description = ?, schema = ? WHERE tenant_id = ? AND name = ?`,
		et.Description, et.Schema, et.TenantID, et.Name)
}

// ListEventTypes lists a tenant's event types by name.
func (s *Store) ListEventTypes(ctx context.Context, tenantID string) ([]store.EventType, error) {
	rows, err := s.r.QueryContext(ctx,
		`SELECT tenant_id, name, description, schema, created_at FROM event_types WHERE tenant_id = ? ORDER BY name`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list event types: %w", err)
	}
	return collect(rows, scanEventType)
}

// --- helpers ---

type scanner interface {
	Scan(dest ...any) error
}

// inTx runs fn in a write transaction and commits what it did; action
// names the call in errors.
func inTx[T any](ctx context.Context, s *Store, action string, fn func(*sql.Tx) (T, error)) (T, error) {
	var zero T
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return zero, fmt.Errorf("%s: begin: %w", action, err)
	}
	defer tx.Rollback()
	v, err := fn(tx)
	if err != nil {
		return zero, err
	}
	if err := tx.Commit(); err != nil {
		return zero, fmt.Errorf("%s: commit: %w", action, err)
	}
	return v, nil
}

// transact is inTx for a call that returns only an error.
func (s *Store) transact(ctx context.Context, action string, fn func(*sql.Tx) error) error {
	_, err := inTx(ctx, s, action, func(tx *sql.Tx) (struct{}, error) { return struct{}{}, fn(tx) })
	return err
}

// queryer is a connection pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryAll scans every row a query returns; action names the call in
// errors.
func queryAll[T any](ctx context.Context, q queryer, action string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	return collect(rows, scan)
}

// queryOne scans the row a query returns: store.ErrNotFound without one.
func queryOne[T any](ctx context.Context, q queryer, action string, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(q.QueryRowContext(ctx, query, args...))
	return v, wrapRead(action, err)
}

// change runs a statement on the writer that must change a row:
// store.ErrNotFound when it changes none, store.ErrConflict on a unique
// violation.
func (s *Store) change(ctx context.Context, action, query string, args ...any) error {
	res, err := s.w.ExecContext(ctx, query, args...)
	return affected(action, res, err)
}

func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
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

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func wrapRead(action string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	default:
		return fmt.Errorf("%s: %w", action, classify(err))
	}
}

func wrapWrite(action string, err error) error {
	if err == nil {
		return nil
	}
	if strings.Contains(err.Error(), "UNIQUE constraint failed") || strings.Contains(err.Error(), "constraint failed: PRIMARY KEY") {
		return store.ErrConflict
	}
	return fmt.Errorf("%s: %w", action, classify(err))
}

func affected(action string, res sql.Result, err error) error {
	if err := wrapWrite(action, err); err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sqlite: marshal %T: %v", v, err)) // only maps/slices of plain values reach here
	}
	return string(b)
}

func unmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
