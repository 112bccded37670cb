package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// sealedPlaceholder is what the plain columns endpoints.headers and
// notify_rules.spec hold once their value is sealed in sealed_headers and
// sealed_spec (migration 00006).
const sealedPlaceholder = "{}"

// legacyColumns are the plain columns that rows written before migration
// 00006 still fill, and the sealed columns that replace them.
var legacyColumns = []struct{ table, key, plain, sealed string }{
	{"endpoints", "id", "headers", "sealed_headers"},
	{"notify_rules", "name", "spec", "sealed_spec"},
}

// sealLegacy seals what rows written before migration 00006 hold in plain
// text: endpoint custom headers and notify rule specs. Reads prefer the
// sealed column and fall back to the plain one, so this only takes the
// plain text out of the live rows; it runs with the migrations, under
// their lock, and finds nothing to do once it has run. The old row
// versions stay in the table files until PostgreSQL vacuums them.
func (s *Store) sealLegacy(ctx context.Context) error {
	for _, c := range legacyColumns {
		rows, err := s.pool.Query(ctx, `SELECT tenant_id, `+c.key+`, `+c.plain+`::text FROM `+c.table+` WHERE `+c.sealed+` IS NULL`)
		if err != nil {
			return fmt.Errorf("seal %s: %w", c.table, err)
		}
		type row struct{ tenantID, id, plain string }
		legacy, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.tenantID, &x.id, &x.plain)
		})
		if err != nil {
			return fmt.Errorf("seal %s: %w", c.table, err)
		}
		if len(legacy) == 0 {
			continue
		}
		batch := &pgx.Batch{}
		for _, r := range legacy {
			// IS NULL: a row written since it was read is sealed already.
			batch.Queue(`UPDATE `+c.table+` SET `+c.sealed+` = $1, `+c.plain+` = $2
				WHERE tenant_id = $3 AND `+c.key+` = $4 AND `+c.sealed+` IS NULL`,
				s.box.Seal([]byte(r.plain)), []byte(sealedPlaceholder), r.tenantID, r.id)
		}
		if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("seal %s: %w", c.table, err)
		}
	}
	return nil
}
