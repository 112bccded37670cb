package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/store/internal/column"
)

const collectionCols = `tenant_id, name, spec, secret, created_at, updated_at`

func (s *Store) scanCollection(sc scanner) (store.Collection, error) {
	var c store.Collection
	var spec string
	var sealed []byte
	var created, updated int64
	if err := sc.Scan(&c.TenantID, &c.Name, &spec, &sealed, &created, &updated); err != nil {
		return c, err
	}
	c.Spec = []byte(spec)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	var err error
	if c.Secret, err = column.Open(s.box, sealed, nil); err != nil {
		return c, fmt.Errorf("decrypt secret of collection %s: %w", c.Name, err)
	}
	return c, nil
}

// CreateCollection inserts a collection; ErrConflict when the tenant has
// one of that name.
func (s *Store) CreateCollection(ctx context.Context, c store.Collection) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO collections (`+collectionCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		c.TenantID, c.Name, string(c.Spec), column.SealOptional(s.box, c.Secret), ms(c.CreatedAt), ms(c.UpdatedAt))
	return wrapWrite("create collection", err)
}

// GetCollection returns one of a tenant's collections.
func (s *Store) GetCollection(ctx context.Context, tenantID, name string) (store.Collection, error) {
	return queryOne(ctx, s.r, "get collection", s.scanCollection, `SELECT `+collectionCols+` FROM collections WHERE tenant_id = ? AND name = ?`,
		tenantID, name)
}

// ListCollections lists a tenant's collections by name.
func (s *Store) ListCollections(ctx context.Context, tenantID string) ([]store.Collection, error) {
	return queryAll(ctx, s.r, "list collections", s.scanCollection,
		`SELECT `+collectionCols+` FROM collections WHERE tenant_id = ? ORDER BY name`, tenantID)
}

// UpdateCollection replaces a collection's spec and secret.
func (s *Store) UpdateCollection(ctx context.Context, c store.Collection) error {
	return s.change(ctx, "update collection", `UPDATE collections SET spec = ?, secret = ?, updated_at = ? WHERE tenant_id = ? AND name = ?`,
		string(c.Spec), column.SealOptional(s.box, c.Secret), ms(c.UpdatedAt), c.TenantID, c.Name)
}

// DeleteCollection deletes a collection; its records and changes go with
// it (ON DELETE CASCADE).
func (s *Store) DeleteCollection(ctx context.Context, tenantID, name string) error {
	return s.change(ctx, "delete collection", `DELETE FROM collections WHERE tenant_id = ? AND name = ?`, tenantID, name)
}

const recordCols = `tenant_id, collection, key, data, deleted, version, event_id, seq, meta, created_at, updated_at`

func scanRecord(sc scanner) (store.Record, error) {
	var r store.Record
	var data, meta sql.NullString
	var created, updated int64
	err := sc.Scan(&r.TenantID, &r.Collection, &r.Key, &data, &r.Deleted, &r.Version, &r.EventID, &r.Seq, &meta, &created, &updated)
	if data.Valid {
		r.Data = []byte(data.String)
	}
	if meta.Valid {
		r.Meta = []byte(meta.String)
	}
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return r, err
}

// jsonText binds a JSON document as TEXT, nil as NULL.
func jsonText(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// ApplyRecords runs the updates in one write transaction. SQLite has a
// single writer, so holding it serialises ApplyRecords calls: change
// numbers are handed out and committed in order, without gaps.
func (s *Store) ApplyRecords(ctx context.Context, tenantID, collection string, ups []store.RecordUpdate) ([]store.RecordResult, error) {
	return inTx(ctx, s, "apply records", func(tx *sql.Tx) ([]store.RecordResult, error) {
		var last int64
		err := tx.QueryRowContext(ctx, `SELECT last_seq FROM collections WHERE tenant_id = ? AND name = ?`, tenantID, collection).Scan(&last)
		if err := wrapRead("apply records: read change counter", err); err != nil {
			return nil, err
		}
		results, seq, err := store.Applier{TenantID: tenantID, Collection: collection, Last: last, Now: time.Now(),
			Trunc: func(t time.Time) time.Time { return fromMS(ms(t)) },
			// Read inside the transaction, so an update sees the records
			// that earlier updates of the same call wrote.
			Read:  func(key string) (*store.Record, error) { return readRecord(ctx, tx, tenantID, collection, key) },
			Write: func(rec store.Record, ch store.Change) error { return writeRecord(ctx, tx, rec, ch) },
		}.Apply(ups)
		if err != nil {
			return nil, fmt.Errorf("apply records: %w", err)
		}
		if seq != last {
			if _, err := tx.ExecContext(ctx, `UPDATE collections SET last_seq = ? WHERE tenant_id = ? AND name = ?`,
				seq, tenantID, collection); err != nil {
				return nil, fmt.Errorf("apply records: advance change counter: %w", err)
			}
		}
		return results, nil
	})
}

// readRecord returns the stored record, nil when the key was never written.
func readRecord(ctx context.Context, tx *sql.Tx, tenantID, collection, key string) (*store.Record, error) {
	r, err := scanRecord(tx.QueryRowContext(ctx, `SELECT `+recordCols+` FROM records WHERE tenant_id = ? AND collection = ? AND key = ?`,
		tenantID, collection, key))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read record: %w", err)
	}
	return &r, nil
}

// writeRecord upserts rec and logs the change that wrote it.
func writeRecord(ctx context.Context, tx *sql.Tx, rec store.Record, ch store.Change) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO records (`+recordCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, collection, key) DO UPDATE SET data = excluded.data, deleted = excluded.deleted,
		version = excluded.version, event_id = excluded.event_id, seq = excluded.seq, meta = excluded.meta, updated_at = excluded.updated_at`,
		rec.TenantID, rec.Collection, rec.Key, jsonText(rec.Data), rec.Deleted, rec.Version, rec.EventID, rec.Seq, jsonText(rec.Meta),
		ms(rec.CreatedAt), ms(rec.UpdatedAt)); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO record_changes (`+changeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ch.TenantID, ch.Collection, ch.Seq, ch.Key, ch.Op, jsonText(ch.Data), ch.Version, ch.EventID, ms(ch.At)); err != nil {
		return fmt.Errorf("write change: %w", err)
	}
	return nil
}

// GetRecord returns a record or its tombstone.
func (s *Store) GetRecord(ctx context.Context, tenantID, collection, key string) (store.Record, error) {
	return queryOne(ctx, s.r, "get record", scanRecord, `SELECT `+recordCols+` FROM records WHERE tenant_id = ? AND collection = ? AND key = ?`,
		tenantID, collection, key)
}

// ListRecords lists a collection's records in key (byte) order.
func (s *Store) ListRecords(ctx context.Context, tenantID, collection string, q store.RecordQuery) ([]store.Record, error) {
	return queryAll(ctx, s.r, "list records", scanRecord, `SELECT `+recordCols+` FROM records
		WHERE tenant_id = ? AND collection = ? AND key > ? AND (? OR deleted = 0) ORDER BY key LIMIT ?`,
		tenantID, collection, q.After, q.IncludeDeleted, store.Limit(q.Limit))
}

const changeCols = `tenant_id, collection, seq, key, op, data, version, event_id, at`

func scanChange(sc scanner) (store.Change, error) {
	var c store.Change
	var data sql.NullString
	var at int64
	err := sc.Scan(&c.TenantID, &c.Collection, &c.Seq, &c.Key, &c.Op, &data, &c.Version, &c.EventID, &at)
	if data.Valid {
		c.Data = []byte(data.String)
	}
	c.At = fromMS(at)
	return c, err
}

// ListChanges lists a collection's changes after a change number, in order.
func (s *Store) ListChanges(ctx context.Context, tenantID, collection string, after int64, limit int) ([]store.Change, error) {
	return queryAll(ctx, s.r, "list changes", scanChange, `SELECT `+changeCols+` FROM record_changes
		WHERE tenant_id = ? AND collection = ? AND seq > ? ORDER BY seq LIMIT ?`, tenantID, collection, after, store.Limit(limit))
}

// ListRecordChanges lists the changes of one key before a change number,
// newest first (record_changes_key).
func (s *Store) ListRecordChanges(ctx context.Context, tenantID, collection, key string, before int64, limit int) ([]store.Change, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	return queryAll(ctx, s.r, "list record changes", scanChange, `SELECT `+changeCols+` FROM record_changes
		WHERE tenant_id = ? AND collection = ? AND key = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
		tenantID, collection, key, before, store.Limit(limit))
}

// GetMirrorState returns a collection's mirror state with its last change.
func (s *Store) GetMirrorState(ctx context.Context, tenantID, collection string) (store.MirrorState, error) {
	m := store.MirrorState{TenantID: tenantID, Collection: collection}
	var (
		target, mErr, rowErr               sql.NullString
		seq, failing, retry, rows, updated sql.NullInt64
	)
	err := s.r.QueryRowContext(ctx, `SELECT c.last_seq, m.target, m.seq, m.error, m.failing_since, m.retry_at, m.rows_failed, m.row_error, m.updated_at
		FROM collections c LEFT JOIN collection_mirrors m ON m.tenant_id = c.tenant_id AND m.collection = c.name
		WHERE c.tenant_id = ? AND c.name = ?`, tenantID, collection).
		Scan(&m.LastSeq, &target, &seq, &mErr, &failing, &retry, &rows, &rowErr, &updated)
	if err != nil {
		return m, wrapRead("get mirror state", err)
	}
	m.Target, m.Seq, m.Error, m.RowsFailed, m.RowError = target.String, seq.Int64, mErr.String, rows.Int64, rowErr.String
	m.FailingSince, m.RetryAt, m.UpdatedAt = fromMS(failing.Int64), fromMS(retry.Int64), fromMS(updated.Int64)
	return m, nil
}

// SaveMirrorState stores a mirror's state; for the same target the
// cursor only moves forward.
func (s *Store) SaveMirrorState(ctx context.Context, m store.MirrorState) error {
	return s.change(ctx, "save mirror state", `INSERT INTO collection_mirrors
		(tenant_id, collection, target, seq, error, failing_since, retry_at, rows_failed, row_error, updated_at)
		SELECT tenant_id, name, ?, ?, ?, ?, ?, ?, ?, ? FROM collections WHERE tenant_id = ? AND name = ?
		ON CONFLICT (tenant_id, collection) DO UPDATE SET
			seq = CASE WHEN collection_mirrors.target = excluded.target THEN max(collection_mirrors.seq, excluded.seq) ELSE excluded.seq END,
			target = excluded.target, error = excluded.error, failing_since = excluded.failing_since, retry_at = excluded.retry_at,
			rows_failed = excluded.rows_failed, row_error = excluded.row_error, updated_at = excluded.updated_at`,
		m.Target, m.Seq, m.Error, ms(m.FailingSince), ms(m.RetryAt), m.RowsFailed, m.RowError, ms(m.UpdatedAt), m.TenantID, m.Collection)
}
