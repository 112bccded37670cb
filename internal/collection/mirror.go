package collection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/store"
)

// seqColumn holds, in a mirror table, the collection change that last
// wrote the row: the version guard of the mirror.
const seqColumn = "hookline_seq"

var (
	identRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)
	mirrorTypes = map[string]bool{
		"text": true, "jsonb": true, "bigint": true, "integer": true, "numeric": true,
		"double precision": true, "boolean": true, "timestamptz": true, "date": true,
	}
)

type mirror struct {
	// dsn is the connection string (a secret: never shown, see RedactDSN).
	dsn string
	// target names the database and table (mirrorTarget).
	target  string
	table   pgx.Identifier
	keyCol  string
	cols    []mirrorCol
	create  bool
	upsert  string
	delete  string
	createQ string
}

type mirrorCol struct {
	name, typ string
	val       *value
}

func compileMirror(m *MirrorDef) (*mirror, error) {
	if m.DSN == "" {
		return nil, fieldErr("mirror.dsn", `is required, e.g. "postgres://user:pass@db:5432/app"`)
	}
	if _, err := pgx.ParseConfig(m.DSN); err != nil {
		return nil, fieldErr("mirror.dsn", "is not a PostgreSQL connection string: %s", redactErr(err, m.DSN))
	}
	parts := strings.Split(m.Table, ".")
	if m.Table == "" || len(parts) > 2 {
		return nil, fieldErr("mirror.table", `must be "table" or "schema.table"`)
	}
	for _, p := range parts {
		if !identRe.MatchString(p) {
			return nil, fieldErr("mirror.table", "%q is not a plain identifier (letters, digits, _)", p)
		}
	}
	out := &mirror{dsn: m.DSN, table: pgx.Identifier(parts), keyCol: m.KeyColumn, create: m.Create}
	out.target = mirrorTarget(m.DSN, out.table)
	if out.keyCol == "" {
		out.keyCol = "id"
	}
	if !identRe.MatchString(out.keyCol) {
		return nil, fieldErr("mirror.key_column", "%q is not a plain identifier", out.keyCol)
	}
	cols := m.Columns
	if len(cols) == 0 {
		cols = []ColumnDef{{Name: "data", Value: "record", Type: "jsonb"}}
	}
	if len(cols) > maxMirrorCols {
		return nil, fieldErr("mirror.columns", "at most %d columns", maxMirrorCols)
	}
	seen := map[string]bool{out.keyCol: true, seqColumn: true}
	for i, c := range cols {
		at := fmt.Sprintf("mirror.columns[%d]", i)
		if !identRe.MatchString(c.Name) {
			return nil, fieldErr(at+".name", "%q is not a plain identifier", c.Name)
		}
		if seen[c.Name] {
			return nil, fieldErr(at+".name", "column %q appears twice (or is the key or %s column)", c.Name, seqColumn)
		}
		seen[c.Name] = true
		typ := strings.ToLower(c.Type)
		if typ == "" {
			typ = "text"
		}
		if !mirrorTypes[typ] {
			return nil, fieldErr(at+".type", "%q is not one of text, jsonb, bigint, integer, numeric, double precision, boolean, timestamptz, date", c.Type)
		}
		if c.Value == "" {
			return nil, fieldErr(at+".value", `is required: an expression over record and key, e.g. "record.email"`)
		}
		v, err := compileValue(c.Value, mirrorVars)
		if err != nil {
			return nil, field.Wrap(at+".value", err)
		}
		out.cols = append(out.cols, mirrorCol{name: c.Name, typ: typ, val: v})
	}
	tbl := out.table.Sanitize()
	key := pgx.Identifier{out.keyCol}.Sanitize()
	seq := pgx.Identifier{seqColumn}.Sanitize()
	names := []string{key}
	vals := []string{"$1"}
	sets := []string{}
	defs := []string{key + " text PRIMARY KEY"}
	for i, c := range out.cols {
		n := pgx.Identifier{c.name}.Sanitize()
		names = append(names, n)
		vals = append(vals, fmt.Sprintf("$%d::%s", i+3, c.typ))
		sets = append(sets, n+" = EXCLUDED."+n)
		defs = append(defs, n+" "+c.typ)
	}
	names = append(names, seq)
	vals = append(vals, "$2")
	sets = append(sets, seq+" = EXCLUDED."+seq)
	defs = append(defs, seq+" bigint NOT NULL")
	out.upsert = fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET %s WHERE %s.%s < EXCLUDED.%s",
		tbl, strings.Join(names, ", "), strings.Join(vals, ", "), key, strings.Join(sets, ", "), tbl, seq, seq)
	out.delete = fmt.Sprintf("DELETE FROM %s WHERE %s = $1 AND %s <= $2", tbl, key, seq)
	if len(parts) == 2 {
		out.createQ = "CREATE SCHEMA IF NOT EXISTS " + pgx.Identifier{parts[0]}.Sanitize() + ";\n"
	}
	out.createQ += fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", tbl, strings.Join(defs, ", "))
	return out, nil
}

// row computes the column values of a record, as text for the casts.
func (m *mirror) row(rec store.Record) ([]any, error) {
	var data map[string]any
	if err := decodeExact(rec.Data, &data); err != nil {
		return nil, fmt.Errorf("stored record: %w", err)
	}
	exact := map[string]any{"record": data, "key": rec.Key}
	lv := loose(exact).(map[string]any)
	args := []any{rec.Key, rec.Seq}
	for _, c := range m.cols {
		v, err := c.val.eval(lv, exact)
		if err != nil {
			return nil, inputErr("mapping_failed", "mirror column %s: %v", c.name, err)
		}
		if v == nil {
			args = append(args, nil)
			continue
		}
		var s string
		if c.typ == "jsonb" {
			s, err = jsonText(v)
		} else {
			s, err = expr.Text(v)
		}
		if err != nil {
			return nil, inputErr("mapping_failed", "mirror column %s: %v", c.name, err)
		}
		args = append(args, s)
	}
	return args, nil
}

// jsonText is v as JSON text (a string is a JSON string value).
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// mirrors holds one connection pool per mirror DSN.
type mirrors struct {
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	mu     sync.Mutex
	pools  map[string]*pgxpool.Pool
	made   map[string]bool // tables created, by DSN and table
	closed bool
}

func newMirrors(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *mirrors {
	return &mirrors{dial: dial, pools: make(map[string]*pgxpool.Pool), made: make(map[string]bool)}
}

func (ms *mirrors) pool(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if ms.closed {
		return nil, errors.New("mirrors are closed")
	}
	if p := ms.pools[dsn]; p != nil {
		return p, nil
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("mirror dsn: %s", redactErr(err, dsn))
	}
	cfg.MaxConns = 8
	if ms.dial != nil {
		cfg.ConnConfig.DialFunc = ms.dial
	}
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect mirror: %s", redactErr(err, dsn))
	}
	ms.pools[dsn] = p
	return p, nil
}

func (ms *mirrors) close() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.closed = true
	for _, p := range ms.pools {
		p.Close()
	}
	clear(ms.pools)
}

// errBusy is a mirror table another writer holds: another node of the
// cluster is writing it now.
var errBusy = errors.New("another writer holds the mirror table")

// rowFailure is a change whose row the mirror table refused, or whose
// column values could not be computed: it is passed over, so one bad
// value cannot hold up every change after it.
type rowFailure struct {
	seq int64
	key string
	err error
}

func (f rowFailure) String() string {
	return fmt.Sprintf("record %q (change %d): %v", f.key, f.seq, f.err)
}

// written is what one write of the mirror did.
type written struct {
	// last is the last change read and written; 0 when there was none.
	last   int64
	failed []rowFailure
}

// mirrorRow is the state one key is brought to: the last of its changes
// in a batch.
type mirrorRow struct {
	seq  int64
	key  string
	del  bool
	args []any
}

// write brings the mirror table up to the changes load returns, in one
// transaction of the mirror's database. The transaction first takes an
// advisory lock on the table, without waiting: only one writer at a time
// (one node of a cluster) writes a table, errBusy otherwise. load runs
// once the lock is held, so a writer always reads the changes after the
// previous writer committed, and the last change of a key it writes is
// at least as new as what the table holds: with the hookline_seq guard a
// row never goes back, and a deleted row never comes back from a replay.
func (ms *mirrors) write(ctx context.Context, s *Spec, load func(context.Context) ([]store.Change, error)) (written, error) {
	var out written
	p, err := ms.pool(ctx, s.mirror.dsn)
	if err != nil {
		return out, err
	}
	m := s.mirror
	table := m.table.Sanitize()
	made := s.mirror.dsn + "\x00" + table
	ms.mu.Lock()
	create := m.create && !ms.made[made]
	ms.mu.Unlock()
	if create {
		if _, err := p.Exec(ctx, m.createQ); err != nil {
			return out, wrapMirror(ctx, table, fmt.Errorf("create it: %w", err))
		}
		ms.mu.Lock()
		ms.made[made] = true
		ms.mu.Unlock()
	}
	err = pgx.BeginFunc(ctx, p, func(tx pgx.Tx) error {
		var locked bool
		if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))", "hookline mirror "+table).Scan(&locked); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if !locked {
			return errBusy
		}
		cs, err := load(ctx)
		if err != nil {
			return fmt.Errorf("read the collection's changes: %w", err)
		}
		if len(cs) == 0 {
			return nil
		}
		out.last = cs[len(cs)-1].Seq
		rows, failed := m.rows(cs)
		out.failed = failed
		// All rows at once; when the table refuses one, again row by row,
		// each under a savepoint, passing over those it refuses.
		if err := ms.exec(ctx, tx, m, rows, nil); err == nil || !refused(err) {
			return err
		}
		return ms.exec(ctx, tx, m, rows, &out.failed)
	})
	if err == nil || errors.Is(err, errBusy) {
		return out, err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" && m.create {
		// The table is gone: create it again at the next try.
		ms.mu.Lock()
		delete(ms.made, made)
		ms.mu.Unlock()
	}
	return out, wrapMirror(ctx, table, err)
}

// wrapMirror words a failed write of a mirror table.
func wrapMirror(ctx context.Context, table string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("write mirror table %s: no answer in time (the table locked, or its database unreachable): %w", table, err)
	}
	return fmt.Errorf("write mirror table %s: %w", table, err)
}

// exec writes rows. With failed nil it sends them in one batch under a
// savepoint, which it rolls back on an error; otherwise each row gets a
// savepoint of its own, and a row the table refuses is added to failed.
func (ms *mirrors) exec(ctx context.Context, tx pgx.Tx, m *mirror, rows []mirrorRow, failed *[]rowFailure) error {
	stmt := func(r mirrorRow) (string, []any) {
		if r.del {
			return m.delete, []any{r.key, r.seq}
		}
		return m.upsert, r.args
	}
	if failed == nil {
		sp, err := tx.Begin(ctx)
		if err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		b := &pgx.Batch{}
		for _, r := range rows {
			q, args := stmt(r)
			b.Queue(q, args...)
		}
		if err := sp.SendBatch(ctx, b).Close(); err != nil {
			_ = sp.Rollback(ctx)
			return fmt.Errorf("write rows: %w", err)
		}
		return sp.Commit(ctx)
	}
	for _, r := range rows {
		sp, err := tx.Begin(ctx)
		if err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		q, args := stmt(r)
		if _, err := sp.Exec(ctx, q, args...); err != nil {
			if rerr := sp.Rollback(ctx); rerr != nil || !refused(err) {
				return fmt.Errorf("write row %q: %w", r.key, err)
			}
			*failed = append(*failed, rowFailure{seq: r.seq, key: r.key, err: err})
			continue
		}
		if err := sp.Commit(ctx); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
	}
	return nil
}

// refused reports whether the table refused a row for its values: a data
// exception (a value that does not cast) or a constraint of the table
// (SQLSTATE classes 22 and 23). Anything else — a missing table, a lost
// connection, a lock timeout — is the table being unavailable.
func refused(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "22") || strings.HasPrefix(pe.Code, "23"))
}

// rows turns changes into the rows to write: for each key, the last of
// its changes, in change order. A change whose column values cannot be
// computed is a failure, not a row.
func (m *mirror) rows(cs []store.Change) ([]mirrorRow, []rowFailure) {
	seen := make(map[string]bool, len(cs))
	var (
		rows   []mirrorRow
		failed []rowFailure
	)
	for i := len(cs) - 1; i >= 0; i-- {
		c := cs[i]
		if seen[c.Key] {
			continue
		}
		seen[c.Key] = true
		r := mirrorRow{seq: c.Seq, key: c.Key, del: c.Op == store.OpDelete || c.Data == nil}
		if !r.del {
			args, err := m.row(store.Record{Key: c.Key, Data: c.Data, Seq: c.Seq})
			if err != nil {
				failed = append(failed, rowFailure{seq: c.Seq, key: c.Key, err: err})
				continue
			}
			r.args = args
		}
		rows = append(rows, r)
	}
	slices.Reverse(rows)
	slices.Reverse(failed)
	return rows, failed
}

// mirrorTarget names what a mirror writes: its database (host, port,
// database, user and search_path) and table, without the password, so a
// changed password keeps the mirror's cursor and another table starts
// from the first change.
func mirrorTarget(dsn string, table pgx.Identifier) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return table.Sanitize()
	}
	u := url.URL{Scheme: "postgres", Host: fmt.Sprintf("%s:%d", cfg.Host, cfg.Port), Path: "/" + cfg.Database}
	if cfg.User != "" {
		u.User = url.User(cfg.User)
	}
	if sp := cfg.RuntimeParams["search_path"]; sp != "" {
		u.RawQuery = url.Values{"search_path": {sp}}.Encode()
	}
	return u.String() + " " + table.Sanitize()
}

// RedactDSN shows a DSN without any password: rebuilt from its user,
// host, port and database, whatever form (URL or key=value) it was in.
func RedactDSN(dsn string) string {
	if dsn == "" {
		return ""
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "(invalid DSN)"
	}
	u := url.URL{Scheme: "postgres", Host: fmt.Sprintf("%s:%d", cfg.Host, cfg.Port), Path: "/" + cfg.Database}
	if cfg.User != "" {
		u.User = url.User(cfg.User)
		if cfg.Password != "" {
			u.User = url.UserPassword(cfg.User, "redacted")
		}
	}
	return u.String()
}

// redactErr words a DSN error without the DSN's password.
func redactErr(err error, dsn string) string {
	msg := err.Error()
	if u, perr := url.Parse(dsn); perr == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			msg = strings.ReplaceAll(msg, pw, "redacted")
		}
	}
	return msg
}
