package sqlite

import (
	"context"
	"fmt"

	"github.com/hookline/hookline/internal/store/internal/column"
)

// sealLegacy seals what rows written before migrations 00008 and 00025
// hold in plain text: endpoint custom headers, notify rule specs, and the
// credentials in endpoint URLs. Reads prefer the
// sealed column and fall back to the plain one, so this only takes the
// plain text off disk: it runs when the store opens, before anything else
// uses it, and finds nothing to do once it has run. Freed space is zeroed
// (secure_delete) and the WAL truncated, so no copy of the plain text is
// left in either file.
func (s *Store) sealLegacy(ctx context.Context) error {
	type row struct{ table, key, plain, sealed, tenantID, id, keep, secret string }
	var legacy []row
	for _, c := range column.Legacy {
		rows, err := s.w.QueryContext(ctx, `SELECT tenant_id, `+c.Key+`, `+c.Plain+` FROM `+c.Table+` WHERE `+c.Sealed+` IS NULL
			AND instr(`+c.Plain+`, ?) > 0`, c.Contains)
		if err != nil {
			return fmt.Errorf("seal %s: %w", c.Table, err)
		}
		for rows.Next() {
			r := row{table: c.Table, key: c.Key, plain: c.Plain, sealed: c.Sealed}
			var value string
			if err := rows.Scan(&r.tenantID, &r.id, &value); err != nil {
				rows.Close()
				return fmt.Errorf("seal %s: %w", c.Table, err)
			}
			var ok bool
			if r.keep, r.secret, ok = c.Split(value); ok {
				legacy = append(legacy, r)
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("seal %s: %w", c.Table, err)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("seal %s: %w", c.Table, err)
		}
	}
	if len(legacy) == 0 {
		return nil
	}
	var secureDelete int
	if err := s.w.QueryRowContext(ctx, `PRAGMA secure_delete`).Scan(&secureDelete); err != nil {
		return fmt.Errorf("seal legacy rows: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA secure_delete = 1`); err != nil {
		return fmt.Errorf("seal legacy rows: %w", err)
	}
	defer s.w.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA secure_delete = %d`, secureDelete))
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seal legacy rows: %w", err)
	}
	for _, r := range legacy {
		if _, err := tx.ExecContext(ctx, `UPDATE `+r.table+` SET `+r.sealed+` = ?, `+r.plain+` = ?
			WHERE tenant_id = ? AND `+r.key+` = ? AND `+r.sealed+` IS NULL`,
			s.box.Seal([]byte(r.secret)), r.keep, r.tenantID, r.id); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("seal %s: %w", r.table, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seal legacy rows: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("seal legacy rows: checkpoint: %w", err)
	}
	return nil
}
