package capture

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Defaults applied to a zero Config field.
const (
	DefaultSchema       = "hookline"
	DefaultBatch        = 500
	DefaultPollInterval = time.Second
)

// MaxBatch bounds Config.Batch: a batch is held in memory and its ids are
// sent back in one DELETE.
const MaxBatch = 10_000

// Object names inside Config.Schema.
const (
	outboxTable   = "capture_outbox"
	ownersTable   = "capture_owners"
	triggerFunc   = "capture_trigger"
	triggerPrefix = "hookline_"
	channelSuffix = "_capture"
)

var (
	sourceRe = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)
	// schemaRe leaves room for channelSuffix within PostgreSQL's 63-byte
	// identifier limit.
	schemaRe = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,47}$`)
	identRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]{0,62}$`)
)

// Config says which database and tables to watch and how.
type Config struct {
	// DSN is the watched database. Its role needs CREATE on the database
	// (for Schema) and must own the watched tables (to create triggers).
	DSN string
	// Source is the Hookline source name, e.g. "shopdb": [a-z0-9_-], at
	// most 40 characters. It names the triggers (hookline_{source}), is
	// passed to them as their argument and partitions the outbox.
	Source string
	// Owner names who captures Source in Schema: Hookline passes the
	// source's tenant id, which differs between two Hookline installations
	// and is shared by the nodes of one. Install records it and, like
	// Uninstall, refuses a source another owner recorded, so two
	// installations that chose the same source name and Schema in one
	// database cannot drop each other's triggers or take each other's
	// changes. Empty records and checks nothing.
	Owner string
	// Tables are the watched tables, "table" (schema public) or
	// "schema.table". Names are exact: they are quoted, not case-folded.
	Tables []string
	// Schema holds the outbox table and the trigger function; default
	// "hookline". Lowercase letters, digits and _, at most 48 characters.
	Schema string
	// Batch is the most changes passed to one Emit call; default 500.
	Batch int
	// PollInterval is how long the watcher waits for a NOTIFY before it
	// reads the outbox anyway, and how often a standby watcher retries the
	// source's lock; default 1s.
	PollInterval time.Duration
	// Logger receives connection errors and lock hand-overs; default
	// discards.
	Logger *slog.Logger
	// Dial, when set, makes the connections to DSN (Hookline passes its
	// SSRF guard); default a plain dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Change is one captured row change.
type Change struct {
	// ID is the outbox id: unique per Schema, and strictly increasing in
	// commit order for the changes of one row.
	ID     int64
	Schema string
	Table  string
	// Op is "inserted", "updated" or "deleted".
	Op string
	// Record is the row after the change as to_jsonb renders it (column
	// names as keys; timestamps as ISO 8601 text, bytea as "\\x…" hex
	// text), nil for a delete.
	Record json.RawMessage
	// OldRecord is the row before the change, nil for an insert.
	OldRecord json.RawMessage
	// At is when the trigger ran (clock_timestamp() on the server).
	At time.Time
}

// Ops of a Change.
const (
	OpInserted = "inserted"
	OpUpdated  = "updated"
	OpDeleted  = "deleted"
)

// EventType returns the Hookline event type of the change,
// db.{table}.{op}.
func (c Change) EventType() string { return "db." + c.Table + "." + c.Op }

// Emit must durably publish cs, which are in id order, before returning
// nil; the watcher then deletes them from the outbox. After a crash it may
// be called again with changes it already accepted, so the receiver
// deduplicates by source and Change.ID. An error makes the watcher retry
// the same changes after a backoff.
type Emit func(ctx context.Context, cs []Change) error

// ConfigError reports an invalid Config field.
type ConfigError struct {
	Field string
	Err   error
}

func (e *ConfigError) Error() string { return "capture config: " + e.Field + " " + e.Err.Error() }

func (e *ConfigError) Unwrap() error { return e.Err }

func configErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Validate reports the first invalid field of c as a *ConfigError.
func (c Config) Validate() error {
	_, err := c.compile()
	return err
}

// table is a watched table, split and checked.
type table struct{ schema, name string }

func (t table) ident() pgx.Identifier { return pgx.Identifier{t.schema, t.name} }
func (t table) String() string        { return t.schema + "." + t.name }

// compiled is a validated Config with defaults applied.
type compiled struct {
	dsn      string
	source   string
	owner    string
	schema   string
	tables   []table
	batch    int
	poll     time.Duration
	log      *slog.Logger
	connConf *pgx.ConnConfig
}

func (c Config) compile() (*compiled, error) {
	out := &compiled{
		dsn:    c.DSN,
		source: c.Source,
		owner:  c.Owner,
		schema: cmp.Or(c.Schema, DefaultSchema),
		batch:  cmp.Or(c.Batch, DefaultBatch),
		poll:   cmp.Or(c.PollInterval, DefaultPollInterval),
		log:    c.Logger,
	}
	if out.log == nil {
		out.log = slog.New(slog.DiscardHandler)
	}
	if c.DSN == "" {
		return nil, configErr("dsn", `is required, e.g. "postgres://user:pass@db:5432/app"`)
	}
	cc, err := pgx.ParseConfig(c.DSN)
	if err != nil {
		// The parse error may quote the DSN, password included.
		return nil, configErr("dsn", "is not a PostgreSQL connection string")
	}
	if c.Dial != nil {
		cc.DialFunc = c.Dial
	}
	out.connConf = cc
	if !sourceRe.MatchString(c.Source) {
		return nil, configErr("source", "%q must be 1 to 40 of a-z, 0-9, _ and -", c.Source)
	}
	if !schemaRe.MatchString(out.schema) {
		return nil, configErr("schema", "%q must be a lowercase identifier of at most 48 characters", out.schema)
	}
	if out.batch < 1 || out.batch > MaxBatch {
		return nil, configErr("batch", "%d must be between 1 and %d", out.batch, MaxBatch)
	}
	if out.poll < 0 {
		return nil, configErr("poll_interval", "%s must be positive", out.poll)
	}
	if len(c.Tables) == 0 {
		return nil, configErr("tables", "must name at least one table")
	}
	seen := map[table]bool{}
	for i, s := range c.Tables {
		t, err := parseTable(s)
		if err != nil {
			return nil, configErr(fmt.Sprintf("tables[%d]", i), "%w", err)
		}
		if t == (table{out.schema, outboxTable}) || t == (table{out.schema, ownersTable}) {
			return nil, configErr(fmt.Sprintf("tables[%d]", i), "%q is capture's own table", s)
		}
		if seen[t] {
			return nil, configErr(fmt.Sprintf("tables[%d]", i), "%q is listed twice", s)
		}
		seen[t] = true
		out.tables = append(out.tables, t)
	}
	return out, nil
}

var errTableName = errors.New(`must be "table" or "schema.table" of letters, digits, _ and $`)

func parseTable(s string) (table, error) {
	parts := strings.Split(s, ".")
	if len(parts) == 1 {
		parts = []string{"public", parts[0]}
	}
	if len(parts) != 2 || !identRe.MatchString(parts[0]) || !identRe.MatchString(parts[1]) {
		return table{}, fmt.Errorf("%q %w", s, errTableName)
	}
	return table{parts[0], parts[1]}, nil
}

// triggerName is the name of the source's trigger on every watched table.
func (c *compiled) triggerName() string { return triggerPrefix + c.source }

// channel is the LISTEN channel the triggers of Schema wake; the payload is
// the source, so watchers of other sources ignore it.
func (c *compiled) channel() string { return c.schema + channelSuffix }

// lockKey is hashed into the advisory lock that elects one watcher per
// source and outbox.
func (c *compiled) lockKey() string { return "hookline.capture:" + c.schema + ":" + c.source }

func (c *compiled) outbox() string { return pgx.Identifier{c.schema, outboxTable}.Sanitize() }

func (c *compiled) owners() string { return pgx.Identifier{c.schema, ownersTable}.Sanitize() }
