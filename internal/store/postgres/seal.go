package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store/internal/column"
)

// sealLegacy seals what rows written before migrations 00006 and 00022
// hold in plain text: endpoint custom headers, notify rule specs, and the
// credentials in endpoint URLs. Reads prefer the
// sealed column and fall back to the plain one, so this only takes the
// plain text out of the live rows; it runs with the migrations, under
// their lock, and finds nothing to do once it has run. The old row
// versions stay in the table files until PostgreSQL vacuums them.
func (s *Store) sealLegacy(ctx context.Context) error {
	for _, c := range column.Legacy {
		rows, err := s.pool.Query(ctx, `SELECT tenant_id, `+c.Key+`, `+c.Plain+`::text FROM `+c.Table+` WHERE `+c.Sealed+` IS NULL
			AND strpos(`+c.Plain+`::text, $1) > 0`, c.Contains)
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
		batch := &pgx.Batch{}
		for _, r := range legacy {
			keep, secret, ok := c.Split(r.plain)
			if !ok {
				continue
			}
			// IS NULL: a row written since it was read is sealed already.
			// The plain column takes its own type from the text.
			batch.Queue(`UPDATE `+c.Table+` SET `+c.Sealed+` = $1, `+c.Plain+` = $2
				WHERE tenant_id = $3 AND `+c.Key+` = $4 AND `+c.Sealed+` IS NULL`,
				s.box.Seal([]byte(secret)), []byte(keep), r.tenantID, r.id)
		}
		if batch.Len() == 0 {
			continue
		}
		if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("seal %s: %w", c.Table, err)
		}
	}
	return nil
}
