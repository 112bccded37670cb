package capture

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// installLockTimeout bounds how long CREATE TRIGGER waits for a watched
// table's lock. While it waits, every writer of the table queues behind it,
// so failing (and retrying later) beats stalling the application.
const installLockTimeout = "5s"

// Install creates, if missing, the schema, the outbox table, the trigger
// function and the source's trigger on each table of cfg, and drops the
// source's triggers from tables no longer listed. It is idempotent and safe
// to run from several processes at once. A trigger that already exists is
// left alone, so a repeated Install takes no table locks.
func Install(ctx context.Context, cfg Config) error {
	return connected(ctx, cfg, "install capture", install)
}

// connected compiles cfg, connects to its database and runs f on the
// connection, closed when f returns; action names the connect error.
func connected(ctx context.Context, cfg Config, action string, f func(context.Context, *pgx.Conn, *compiled) error) error {
	c, err := cfg.compile()
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, c.connConf)
	if err != nil {
		return fmt.Errorf("%s: connect: %w", action, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return f(ctx, conn, c)
}

// Uninstall drops the source's triggers from every table and deletes the
// source's changes from the outbox and its recorded owner. The outbox
// table and the trigger function stay: other sources may use them, and
// the outbox sequence must not restart while consumers deduplicate by id.
// It refuses, changing nothing, a source another Owner recorded. Stop the
// source's watchers first: Run installs again whenever it reconnects.
func Uninstall(ctx context.Context, cfg Config) error {
	return connected(ctx, cfg, "uninstall capture", uninstall)
}

func uninstall(ctx context.Context, conn *pgx.Conn, c *compiled) error {
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := lockInstall(ctx, tx, c); err != nil {
			return err
		}
		owners, err := tableExists(ctx, tx, c.owners())
		if err != nil {
			return err
		}
		if owners && c.owner != "" {
			var owner string
			err := tx.QueryRow(ctx, `SELECT owner FROM `+c.owners()+` WHERE source = $1`, c.source).Scan(&owner)
			switch {
			case err == nil && owner != c.owner:
				return sourceTaken(c, owner)
			case err != nil && !errors.Is(err, pgx.ErrNoRows):
				return fmt.Errorf("find owner: %w", err)
			}
		}
		if err := dropTriggers(ctx, tx, c, nil); err != nil {
			return err
		}
		if owners {
			if _, err := tx.Exec(ctx, `DELETE FROM `+c.owners()+` WHERE source = $1`, c.source); err != nil {
				return fmt.Errorf("delete owner: %w", err)
			}
		}
		outbox, err := tableExists(ctx, tx, c.outbox())
		if err != nil || !outbox {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+c.outbox()+` WHERE source = $1`, c.source); err != nil {
			return fmt.Errorf("delete outbox rows: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("uninstall capture: %w", err)
	}
	return nil
}

func install(ctx context.Context, conn *pgx.Conn, c *compiled) error {
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if err := lockInstall(ctx, tx, c); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+installLockTimeout+`'`); err != nil {
			return fmt.Errorf("set lock timeout: %w", err)
		}
		for _, q := range schemaDDL(c) {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("create outbox: %w", err)
			}
		}
		if err := claim(ctx, tx, c); err != nil {
			return err
		}
		for _, t := range c.tables {
			if err := createTrigger(ctx, tx, c, t); err != nil {
				return err
			}
		}
		return dropTriggers(ctx, tx, c, c.tables)
	})
	if err != nil {
		return fmt.Errorf("install capture: %w", err)
	}
	return nil
}

// lockInstall serialises Install and Uninstall per outbox schema:
// CREATE ... IF NOT EXISTS fails with a unique violation when raced, and
// an owner is checked and recorded in one step.
func lockInstall(ctx context.Context, tx pgx.Tx, c *compiled) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "hookline.capture.install:"+c.schema); err != nil {
		return fmt.Errorf("lock install: %w", err)
	}
	return nil
}

// schemaDDL creates the outbox, the owners and the trigger function. The
// primary key (source, id) is the index the watcher reads and deletes by.
//
// The function is SECURITY DEFINER so the application's roles need no
// rights on the outbox; its search_path is pinned and every name in it is
// qualified, so callers cannot substitute objects.
func schemaDDL(c *compiled) []string {
	schema := pgx.Identifier{c.schema}.Sanitize()
	fn := pgx.Identifier{c.schema, triggerFunc}.Sanitize()
	return []string{
		`CREATE SCHEMA IF NOT EXISTS ` + schema,
		`CREATE TABLE IF NOT EXISTS ` + c.outbox() + ` (
			id          bigint GENERATED ALWAYS AS IDENTITY,
			source      text NOT NULL,
			schema_name text NOT NULL,
			table_name  text NOT NULL,
			op          text NOT NULL CHECK (op IN ('inserted', 'updated', 'deleted')),
			record      jsonb,
			old_record  jsonb,
			changed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
			PRIMARY KEY (source, id)
		)`,
		`CREATE TABLE IF NOT EXISTS ` + c.owners() + ` (
			source     text PRIMARY KEY,
			owner      text NOT NULL,
			claimed_at timestamptz NOT NULL DEFAULT now()
		)`,
		// TG_ARGV[0] is the source, TG_ARGV[1] the wake-up channel. The
		// notification carries no data: the outbox row is the change.
		`CREATE OR REPLACE FUNCTION ` + fn + `() RETURNS trigger
		LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
		BEGIN
			IF TG_OP = 'INSERT' THEN
				INSERT INTO ` + c.outbox() + ` (source, schema_name, table_name, op, record)
				VALUES (TG_ARGV[0], TG_TABLE_SCHEMA, TG_TABLE_NAME, 'inserted', to_jsonb(NEW));
			ELSIF TG_OP = 'UPDATE' THEN
				INSERT INTO ` + c.outbox() + ` (source, schema_name, table_name, op, record, old_record)
				VALUES (TG_ARGV[0], TG_TABLE_SCHEMA, TG_TABLE_NAME, 'updated', to_jsonb(NEW), to_jsonb(OLD));
			ELSE
				INSERT INTO ` + c.outbox() + ` (source, schema_name, table_name, op, old_record)
				VALUES (TG_ARGV[0], TG_TABLE_SCHEMA, TG_TABLE_NAME, 'deleted', to_jsonb(OLD));
			END IF;
			PERFORM pg_notify(TG_ARGV[1], TG_ARGV[0]);
			RETURN NULL;
		END
		$fn$`,
	}
}

// errTriggerTaken means a trigger of the source's name exists on a table
// but calls another function, e.g. the outbox of another schema.
var errTriggerTaken = errors.New("exists but calls another function")

// errSourceTaken means another owner recorded the source in the schema:
// the source's name (its triggers, outbox rows and watcher lock) is taken.
var errSourceTaken = errors.New("is captured by another owner")

func sourceTaken(c *compiled, owner string) error {
	return fmt.Errorf("source %s in schema %s %w (%s): use a schema of its own, or if that owner is gone, DELETE FROM %s WHERE source = %s",
		c.source, c.schema, errSourceTaken, owner, c.owners(), quoteLiteral(c.source))
}

// claim records c's owner for the source, or fails with errSourceTaken when
// another owner recorded it first. The caller holds lockInstall.
func claim(ctx context.Context, tx pgx.Tx, c *compiled) error {
	if c.owner == "" {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+c.owners()+` (source, owner) VALUES ($1, $2) ON CONFLICT (source) DO NOTHING`,
		c.source, c.owner); err != nil {
		return fmt.Errorf("record owner: %w", err)
	}
	var owner string
	if err := tx.QueryRow(ctx, `SELECT owner FROM `+c.owners()+` WHERE source = $1`, c.source).Scan(&owner); err != nil {
		return fmt.Errorf("find owner: %w", err)
	}
	if owner != c.owner {
		return sourceTaken(c, owner)
	}
	return nil
}

// tableExists reports whether the table (a sanitized, qualified name)
// exists.
func tableExists(ctx context.Context, tx pgx.Tx, name string) (bool, error) {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&exists); err != nil {
		return false, fmt.Errorf("find %s: %w", name, err)
	}
	return exists, nil
}

func createTrigger(ctx context.Context, tx pgx.Tx, c *compiled, t table) error {
	var kind string
	if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)), '')`,
		t.ident().Sanitize()).Scan(&kind); err != nil {
		return fmt.Errorf("find table %s: %w", t, err)
	}
	switch kind {
	case "r", "p":
	case "":
		return fmt.Errorf("table %s does not exist", t)
	default:
		return fmt.Errorf("%s is not a table (relkind %s)", t, kind)
	}
	var ours bool
	err := tx.QueryRow(ctx, `
		SELECT g.tgfoid = to_regprocedure($3)
		FROM pg_trigger g
		WHERE g.tgrelid = to_regclass($1) AND g.tgname = $2`,
		t.ident().Sanitize(), c.triggerName(), pgx.Identifier{c.schema, triggerFunc}.Sanitize()+"()").Scan(&ours)
	switch {
	case err == nil && ours:
		return nil
	case err == nil:
		return fmt.Errorf("trigger %s on %s %w", c.triggerName(), t, errTriggerTaken)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("find trigger on %s: %w", t, err)
	}
	q := `CREATE TRIGGER ` + pgx.Identifier{c.triggerName()}.Sanitize() +
		` AFTER INSERT OR UPDATE OR DELETE ON ` + t.ident().Sanitize() +
		` FOR EACH ROW EXECUTE FUNCTION ` + pgx.Identifier{c.schema, triggerFunc}.Sanitize() +
		`(` + quoteLiteral(c.source) + `, ` + quoteLiteral(c.channel()) + `)`
	if _, err := tx.Exec(ctx, q); err != nil {
		return fmt.Errorf("create trigger on %s: %w", t, err)
	}
	return nil
}

// dropTriggers drops the source's triggers (its name, calling this
// schema's function) from every table not in keep.
func dropTriggers(ctx context.Context, tx pgx.Tx, c *compiled, keep []table) error {
	rows, err := tx.Query(ctx, `
		SELECT n.nspname, r.relname
		FROM pg_trigger g
		JOIN pg_class r ON r.oid = g.tgrelid
		JOIN pg_namespace n ON n.oid = r.relnamespace
		JOIN pg_proc p ON p.oid = g.tgfoid
		JOIN pg_namespace pn ON pn.oid = p.pronamespace
		WHERE g.tgname = $1 AND p.proname = $2 AND pn.nspname = $3`,
		c.triggerName(), triggerFunc, c.schema)
	if err != nil {
		return fmt.Errorf("find triggers: %w", err)
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (table, error) {
		var t table
		err := r.Scan(&t.schema, &t.name)
		return t, err
	})
	if err != nil {
		return fmt.Errorf("find triggers: %w", err)
	}
	for _, t := range found {
		if slices.Contains(keep, t) {
			continue
		}
		if _, err := tx.Exec(ctx, `DROP TRIGGER IF EXISTS `+pgx.Identifier{c.triggerName()}.Sanitize()+` ON `+t.ident().Sanitize()); err != nil {
			return fmt.Errorf("drop trigger on %s: %w", t, err)
		}
	}
	return nil
}

// quoteLiteral quotes s as an SQL string literal (standard_conforming_strings
// is on since PostgreSQL 9.1). Trigger arguments cannot be bind parameters;
// s is a validated source or channel name anyway.
func quoteLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(out) + "'"
}
