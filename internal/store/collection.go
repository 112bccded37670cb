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
