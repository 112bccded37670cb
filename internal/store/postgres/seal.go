package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store/internal/column"
)

// sealLegacy seals what rows written before migration 00006 hold in plain
// text: endpoint custom headers and notify rule specs. Reads prefer the
// sealed column and fall back to the plain one, so this only takes the
// plain text out of the live rows; it runs with the migrations, under
// their lock, and finds nothing to do once it has run. The old row
// versions stay in the table files until PostgreSQL vacuums them.
func (s *Store) sealLegacy(ctx context.Context) error {
	for _, c := range column.Legacy {
		rows, err := s.pool.Query(ctx, `SELECT tenant_id, `+c.Key+`, `+c.Plain+`::text FROM `+c.Table+` WHERE `+c.Sealed+` IS NULL`)
		if err != nil {
			return fmt.Errorf("seal %s: %w", c.Table, err)
		}
		type row struct{ tenantID, id, plain string }
		legacy, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
			var x row
			return x, r.Scan(&x.tenantID, &x.id, &x.plain)
		})
		if err != nil {
			return fmt.Errorf("seal %s: %w", c.Table, err)
		}
		if len(legacy) == 0 {
			continue
		}
		batch := &pgx.Batch{}
		for _, r := range legacy {
			// IS NULL: a row written since it was read is sealed already.
			batch.Queue(`UPDATE `+c.Table+` SET `+c.Sealed+` = $1, `+c.Plain+` = $2
				WHERE tenant_id = $3 AND `+c.Key+` = $4 AND `+c.Sealed+` IS NULL`,
				s.box.Seal([]byte(r.plain)), []byte(column.SealedPlaceholder), r.tenantID, r.id)
		}
		if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("seal %s: %w", c.Table, err)
		}
	}
	return nil
}
