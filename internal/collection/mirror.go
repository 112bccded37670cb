package collection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/expr"
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

func compileMirror(m *client.CollectionMirror) (*mirror, error) {
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
	out := &mirror{table: pgx.Identifier(parts), keyCol: m.KeyColumn, create: m.Create}
	if out.keyCol == "" {
		out.keyCol = "id"
	}
	if !identRe.MatchString(out.keyCol) {
		return nil, fieldErr("mirror.key_column", "%q is not a plain identifier", out.keyCol)
	}
	cols := m.Columns
	if len(cols) == 0 {
		cols = []client.MirrorColumn{{Name: "data", Value: "record", Type: "jsonb"}}
	}
	if len(cols) > maxMirrorCols {
		return nil, fieldErr("mirror.columns", "at most %d columns", maxMirrorCols)
	}
	seen := map[string]bool{out.keyCol: true, seqColumn: true}
	for i, c := range cols {
		field := fmt.Sprintf("mirror.columns[%d]", i)
		if !identRe.MatchString(c.Name) {
			return nil, fieldErr(field+".name", "%q is not a plain identifier", c.Name)
		}
		if seen[c.Name] {
			return nil, fieldErr(field+".name", "column %q appears twice (or is the key or %s column)", c.Name, seqColumn)
		}
		seen[c.Name] = true
		typ := strings.ToLower(c.Type)
		if typ == "" {
			typ = "text"
		}
		if !mirrorTypes[typ] {
			return nil, fieldErr(field+".type", "%q is not one of text, jsonb, bigint, integer, numeric, double precision, boolean, timestamptz, date", c.Type)
		}
		if c.Value == "" {
			return nil, fieldErr(field+".value", `is required: an expression over record and key, e.g. "record.email"`)
		}
		v, err := compileValue(c.Value, mirrorVars)
		if err != nil {
			return nil, &FieldError{Field: field + ".value", Err: err}
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

// sync brings the mirror row of key to the collection's current state.
// It holds a transaction-scoped advisory lock on the row's key while it
// reads the state and writes it, so two writers of one key cannot
// overtake each other with older states; the seq guard keeps a row from
// going back.
func (ms *mirrors) sync(ctx context.Context, st store.Store, s *Spec, tenantID, key string) error {
	p, err := ms.pool(ctx, s.Mirror.DSN)
	if err != nil {
		return err
	}
	m := s.mirror
	made := s.Mirror.DSN + "\x00" + m.table.Sanitize()
	ms.mu.Lock()
	create := m.create && !ms.made[made]
	ms.mu.Unlock()
	if create {
		if _, err := p.Exec(ctx, m.createQ); err != nil {
			return fmt.Errorf("create mirror table %s: %w", m.table.Sanitize(), err)
		}
		ms.mu.Lock()
		ms.made[made] = true
		ms.mu.Unlock()
	}
	return pgx.BeginFunc(ctx, p, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", m.table.Sanitize(), key); err != nil {
			return fmt.Errorf("mirror lock: %w", err)
		}
		rec, err := st.GetRecord(ctx, tenantID, s.Name, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if rec.Deleted {
			if _, err := tx.Exec(ctx, m.delete, key, rec.Seq); err != nil {
				return fmt.Errorf("mirror delete from %s: %w", m.table.Sanitize(), err)
			}
			return nil
		}
		args, err := m.row(rec)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, m.upsert, args...); err != nil {
			return fmt.Errorf("mirror upsert into %s: %w", m.table.Sanitize(), err)
		}
		return nil
	})
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
