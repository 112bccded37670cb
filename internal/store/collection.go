package store

import "time"

// Collection is a synced data set. Spec is a JSON document owned by the
// collection package (key, version, operations, mapping); Secret holds its
// secret parts (fetch headers, mirror DSN) and is encrypted at rest by the
// driver.
type Collection struct {
	TenantID  string
	Name      string
	Spec      []byte
	Secret    []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Record operations, as recorded on a Change.
const (
	OpUpsert = "upsert"
	OpMerge  = "merge"
	OpDelete = "delete"
)

// Record is the current state of one key of a collection. A deleted record
// stays as a tombstone (Deleted, Data nil) so its version still guards the
// key against late, older changes.
type Record struct {
	TenantID   string
	Collection string
	Key        string
	Data       []byte // JSON object; nil for a tombstone
	Deleted    bool
	// Version is the canonical encoding of the record's version, owned by
	// the collection package.
	Version string
	// EventID is the event that last changed the record.
	EventID string
	// Seq is the change that last wrote the record.
	Seq int64
	// Meta is bookkeeping of the collection package (versions of fields
	// written by merges), nil when there is none.
	Meta      []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Change is one applied change of a collection. Seq numbers the changes of
// one collection 1, 2, 3… without gaps, in commit order.
type Change struct {
	Seq        int64
	TenantID   string
	Collection string
	Key        string
	Op         string
	Data       []byte // the record after the change; nil for a delete
	Version    string
	EventID    string
	At         time.Time
}

// MirrorState is how far a collection's mirror table has followed the
// collection's changes, and how its last writes went. It is kept apart
// from the collection's own writes, which never wait for it.
type MirrorState struct {
	TenantID   string
	Collection string
	// Target names the table the cursor belongs to (its database and
	// name, owned by the collection package): a mirror pointed at another
	// table starts again from the first change.
	Target string
	// Seq is the last change written to the mirror: the cursor.
	Seq int64
	// LastSeq is the collection's last change; read only.
	LastSeq int64
	// Error is the last failure to write the mirror, FailingSince when
	// failures began and RetryAt when the next try is due; all empty
	// after a write succeeds.
	Error        string
	FailingSince time.Time
	RetryAt      time.Time
	// RowsFailed counts changes whose row could not be written (a value
	// the column refuses) and were passed over; RowError is the last.
	RowsFailed int64
	RowError   string
	UpdatedAt  time.Time
}

// RecordUpdate is one read-modify-write of a record by ApplyRecords.
type RecordUpdate struct {
	Key string
	// Apply gets the stored record (nil when the key was never written)
	// and returns the record to store with the operation to log, or a nil
	// record to leave it unchanged. It runs inside the write transaction:
	// it must be quick and must not touch the store.
	Apply func(cur *Record) (next *Record, op string, err error)
}

// RecordResult is what ApplyRecords did for one RecordUpdate: the change it
// wrote, none (Change nil, Err nil: unchanged), or Apply's error.
type RecordResult struct {
	Change *Change
	Err    error
}

// RecordQuery lists the records of a collection in key order.
type RecordQuery struct {
	// After is the last key of the previous page.
	After          string
	Limit          int
	IncludeDeleted bool
}

// Applier is the part of ApplyRecords every driver shares, for one call:
// the driver reads and writes, Apply runs the updates and numbers the
// changes.
type Applier struct {
	TenantID, Collection string
	// Last is the collection's last change number; changes are numbered
	// from Last+1.
	Last int64
	// Now is the update time of records whose Apply set none.
	Now time.Time
	// Trunc cuts a time to what the driver's columns keep, so a returned
	// change equals the stored one.
	Trunc func(time.Time) time.Time
	// Read returns the record stored under key, nil if never written; it
	// sees what earlier updates of the call wrote.
	Read func(key string) (*Record, error)
	// Write stores a record with the change that wrote it.
	Write func(Record, Change) error
}

// Apply runs ups in order, each Apply on a copy of the stored record (what
// it does to it cannot change the record later updates see), and writes
// each record it returns, completed with what the store owns: identity,
// change number, creation time (kept from the stored record) and, when
// unset, the update time. It returns the results and the last change
// number; an error of Read or Write ends it.
func (a Applier) Apply(ups []RecordUpdate) ([]RecordResult, int64, error) {
	seq := a.Last
	results := make([]RecordResult, len(ups))
	for i, up := range ups {
		cur, err := a.Read(up.Key)
		if err != nil {
			return nil, 0, err
		}
		var arg *Record
		if cur != nil {
			c := *cur
			arg = &c
		}
		next, op, err := up.Apply(arg)
		if err != nil {
			results[i].Err = err
			continue
		}
		if next == nil {
			continue
		}
		seq++
		rec := a.stamp(*next, cur, up.Key, seq)
		ch := Change{Seq: rec.Seq, TenantID: rec.TenantID, Collection: rec.Collection, Key: rec.Key, Op: op,
			Data: rec.Data, Version: rec.Version, EventID: rec.EventID, At: rec.UpdatedAt}
		if err := a.Write(rec, ch); err != nil {
			return nil, 0, err
		}
		results[i].Change = &ch
	}
	return results, seq, nil
}

func (a Applier) stamp(rec Record, cur *Record, key string, seq int64) Record {
	rec.TenantID, rec.Collection, rec.Key, rec.Seq = a.TenantID, a.Collection, key, seq
	if rec.Deleted {
		rec.Data = nil
	}
	if rec.UpdatedAt.IsZero() {
		rec.UpdatedAt = a.Now
	}
	rec.UpdatedAt = a.Trunc(rec.UpdatedAt)
	switch {
	case cur != nil:
		rec.CreatedAt = cur.CreatedAt
	case rec.CreatedAt.IsZero():
		rec.CreatedAt = rec.UpdatedAt
	default:
		rec.CreatedAt = a.Trunc(rec.CreatedAt)
	}
	return rec
}
