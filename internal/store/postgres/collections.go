package postgres

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/internal/column"
)

const collectionCols = `tenant_id, name, spec, secret, created_at, updated_at`

func (s *Store) scanCollection(r pgx.Row) (store.Collection, error) {
	var c store.Collection
	var sealed []byte
	if err := r.Scan(&c.TenantID, &c.Name, &c.Spec, &sealed, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt = fromTS(c.CreatedAt), fromTS(c.UpdatedAt)
	var err error
	if c.Secret, err = column.Open(s.box, sealed, nil); err != nil {
		return c, fmt.Errorf("decrypt secret of collection %s: %w", c.Name, err)
	}
	return c, nil
}

// CreateCollection inserts a collection; ErrConflict when the tenant has
// one of that name.
func (s *Store) CreateCollection(ctx context.Context, c store.Collection) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO collections (`+collectionCols+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.TenantID, c.Name, configJSON(c.Spec), column.SealOptional(s.box, c.Secret), ts(c.CreatedAt), ts(c.UpdatedAt))
	return wrapWrite("create collection", err)
}

// GetCollection returns one of a tenant's collections.
func (s *Store) GetCollection(ctx context.Context, tenantID, name string) (store.Collection, error) {
	return queryOne(ctx, s.pool, "get collection", s.scanCollection, `SELECT `+collectionCols+` FROM collections WHERE tenant_id = $1 AND name = $2`,
		tenantID, name)
}

// ListCollections lists a tenant's collections by name.
func (s *Store) ListCollections(ctx context.Context, tenantID string) ([]store.Collection, error) {
	return queryAll(ctx, s.pool, "list collections", s.scanCollection,
		`SELECT `+collectionCols+` FROM collections WHERE tenant_id = $1 ORDER BY name`, tenantID)
}

// UpdateCollection replaces a collection's spec and secret.
func (s *Store) UpdateCollection(ctx context.Context, c store.Collection) error {
	return s.change(ctx, "update collection", `UPDATE collections SET spec = $1, secret = $2, updated_at = $3 WHERE tenant_id = $4 AND name = $5`,
		configJSON(c.Spec), column.SealOptional(s.box, c.Secret), ts(c.UpdatedAt), c.TenantID, c.Name)
}

// DeleteCollection deletes a collection; its records and changes go with
// it (ON DELETE CASCADE).
func (s *Store) DeleteCollection(ctx context.Context, tenantID, name string) error {
	return s.change(ctx, "delete collection", `DELETE FROM collections WHERE tenant_id = $1 AND name = $2`, tenantID, name)
}

const recordCols = `tenant_id, collection, key, data, deleted, version, event_id, seq, meta, created_at, updated_at`

func scanRecord(r pgx.Row) (store.Record, error) {
	var rec store.Record
	err := r.Scan(&rec.TenantID, &rec.Collection, &rec.Key, &rec.Data, &rec.Deleted, &rec.Version, &rec.EventID, &rec.Seq,
		&rec.Meta, &rec.CreatedAt, &rec.UpdatedAt)
	rec.CreatedAt, rec.UpdatedAt = fromTS(rec.CreatedAt), fromTS(rec.UpdatedAt)
	return rec, err
}

// ApplyRecords runs the updates in one transaction. It first locks the
// collection's row, which holds the change counter, until commit: calls on
// one collection run one after the other, so change numbers are handed out
// and committed in order, without gaps. The records the updates touch are
// read in one query and the writes sent in one batch.
func (s *Store) ApplyRecords(ctx context.Context, tenantID, collection string, ups []store.RecordUpdate) ([]store.RecordResult, error) {
	return inTx(ctx, s, "apply records", func(tx pgx.Tx) ([]store.RecordResult, error) {
		var last int64
		err := tx.QueryRow(ctx, `SELECT last_seq FROM collections WHERE tenant_id = $1 AND name = $2 FOR NO KEY UPDATE`,
			tenantID, collection).Scan(&last)
		if err := wrapRead("apply records: lock change counter", err); err != nil {
			return nil, err
		}
		current, err := readRecords(ctx, tx, tenantID, collection, ups)
		if err != nil {
			return nil, fmt.Errorf("apply records: %w", err)
		}
		batch := &pgx.Batch{}
		var touched []string // keys written, in first-write order
		dirty := map[string]bool{}
		results, seq, err := store.Applier{TenantID: tenantID, Collection: collection, Last: last, Now: time.Now(),
			Trunc: func(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }, // what timestamptz keeps
			Read:  func(key string) (*store.Record, error) { return current[key], nil },
			Write: func(rec store.Record, ch store.Change) error {
				batch.Queue(`INSERT INTO record_changes (`+changeCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
					ch.TenantID, ch.Collection, ch.Seq, ch.Key, ch.Op, ch.Data, ch.Version, ch.EventID, ch.At)
				if !dirty[rec.Key] {
					dirty[rec.Key] = true
					touched = append(touched, rec.Key)
				}
				current[rec.Key] = &rec
				return nil
			},
		}.Apply(ups)
		if err != nil || seq == last {
			return results, err
		}
		for _, key := range touched {
			rec := current[key]
			batch.Queue(`INSERT INTO records (`+recordCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
				ON CONFLICT (tenant_id, collection, key) DO UPDATE SET data = excluded.data, deleted = excluded.deleted,
				version = excluded.version, event_id = excluded.event_id, seq = excluded.seq, meta = excluded.meta, updated_at = excluded.updated_at`,
				rec.TenantID, rec.Collection, rec.Key, rec.Data, rec.Deleted, rec.Version, rec.EventID, rec.Seq, rec.Meta, rec.CreatedAt, rec.UpdatedAt)
		}
		batch.Queue(`UPDATE collections SET last_seq = $1 WHERE tenant_id = $2 AND name = $3`, seq, tenantID, collection)
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return nil, fmt.Errorf("apply records: write: %w", err)
		}
		return results, nil
	})
}

// readRecords returns the stored records of the keys ups touch.
func readRecords(ctx context.Context, tx pgx.Tx, tenantID, collection string, ups []store.RecordUpdate) (map[string]*store.Record, error) {
	keys := make([]string, len(ups))
	for i, up := range ups {
		keys[i] = up.Key
	}
	rows, err := tx.Query(ctx, `SELECT `+recordCols+` FROM records WHERE tenant_id = $1 AND collection = $2 AND key = ANY($3)`,
		tenantID, collection, keys)
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	recs, err := collect(rows, scanRecord)
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	out := make(map[string]*store.Record, len(recs))
	for i := range recs {
		out[recs[i].Key] = &recs[i]
	}
	return out, nil
}

// GetRecord returns a record or its tombstone.
func (s *Store) GetRecord(ctx context.Context, tenantID, collection, key string) (store.Record, error) {
	return queryOne(ctx, s.pool, "get record", scanRecord, `SELECT `+recordCols+` FROM records WHERE tenant_id = $1 AND collection = $2 AND key = $3`,
		tenantID, collection, key)
}

// ListRecords lists a collection's records in key order; the key column
// uses the "C" collation, so that is byte order, as in Go and SQLite.
func (s *Store) ListRecords(ctx context.Context, tenantID, collection string, q store.RecordQuery) ([]store.Record, error) {
	return queryAll(ctx, s.pool, "list records", scanRecord, `SELECT `+recordCols+` FROM records
		WHERE tenant_id = $1 AND collection = $2 AND key > $3 AND ($4 OR NOT deleted) ORDER BY key LIMIT $5`,
		tenantID, collection, q.After, q.IncludeDeleted, store.Limit(q.Limit))
}

const changeCols = `tenant_id, collection, seq, key, op, data, version, event_id, at`

func scanChange(r pgx.Row) (store.Change, error) {
	var c store.Change
	err := r.Scan(&c.TenantID, &c.Collection, &c.Seq, &c.Key, &c.Op, &c.Data, &c.Version, &c.EventID, &c.At)
	c.At = fromTS(c.At)
	return c, err
}

// ListChanges lists a collection's changes after a change number, in order.
func (s *Store) ListChanges(ctx context.Context, tenantID, collection string, after int64, limit int) ([]store.Change, error) {
	return queryAll(ctx, s.pool, "list changes", scanChange, `SELECT `+changeCols+` FROM record_changes
		WHERE tenant_id = $1 AND collection = $2 AND seq > $3 ORDER BY seq LIMIT $4`, tenantID, collection, after, store.Limit(limit))
}

// ListRecordChanges lists the changes of one key before a change number,
// newest first (record_changes_key).
func (s *Store) ListRecordChanges(ctx context.Context, tenantID, collection, key string, before int64, limit int) ([]store.Change, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	return queryAll(ctx, s.pool, "list record changes", scanChange, `SELECT `+changeCols+` FROM record_changes
		WHERE tenant_id = $1 AND collection = $2 AND key = $3 AND seq < $4 ORDER BY seq DESC LIMIT $5`,
		tenantID, collection, key, before, store.Limit(limit))
}

// GetMirrorState returns a collection's mirror state with its last change.
func (s *Store) GetMirrorState(ctx context.Context, tenantID, collection string) (store.MirrorState, error) {
	m := store.MirrorState{TenantID: tenantID, Collection: collection}
	var (
		target, mErr, rowErr    *string
		seq, rows               *int64
		failing, retry, updated *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT c.last_seq, m.target, m.seq, m.error, m.failing_since, m.retry_at, m.rows_failed, m.row_error, m.updated_at
		FROM collections c LEFT JOIN collection_mirrors m ON m.tenant_id = c.tenant_id AND m.collection = c.name
		WHERE c.tenant_id = $1 AND c.name = $2`, tenantID, collection).
		Scan(&m.LastSeq, &target, &seq, &mErr, &failing, &retry, &rows, &rowErr, &updated)
	if err != nil {
		return m, wrapRead("get mirror state", err)
	}
	if target != nil {
		m.Target, m.Seq, m.Error, m.RowsFailed, m.RowError = *target, *seq, *mErr, *rows, *rowErr
		m.UpdatedAt = fromTS(*updated)
	}
	if failing != nil {
		m.FailingSince = fromTS(*failing)
	}
	if retry != nil {
		m.RetryAt = fromTS(*retry)
	}
	return m, nil
}

// SaveMirrorState stores a mirror's state; for the same target the
// cursor only moves forward.
func (s *Store) SaveMirrorState(ctx context.Context, m store.MirrorState) error {
	return s.change(ctx, "save mirror state", `INSERT INTO collection_mirrors
		(tenant_id, collection, target, seq, error, failing_since, retry_at, rows_failed, row_error, updated_at)
		SELECT tenant_id, name, $1, $2, $3, $4, $5, $6, $7, $8 FROM collections WHERE tenant_id = $9 AND name = $10
		ON CONFLICT (tenant_id, collection) DO UPDATE SET
			seq = CASE WHEN collection_mirrors.target = excluded.target THEN greatest(collection_mirrors.seq, excluded.seq) ELSE excluded.seq END,
			target = excluded.target, error = excluded.error, failing_since = excluded.failing_since, retry_at = excluded.retry_at,
			rows_failed = excluded.rows_failed, row_error = excluded.row_error, updated_at = excluded.updated_at`,
		m.Target, m.Seq, m.Error, nullTS(m.FailingSince), nullTS(m.RetryAt), m.RowsFailed, m.RowError, ts(m.UpdatedAt), m.TenantID, m.Collection)
}
