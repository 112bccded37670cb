package wire

import (
	"encoding/json"
	"fmt"
)

// CollectionSpec declares a collection: a data set kept in step with a
// source system by "sync" subscriptions. It is the body of POST
// /v1/collections and PUT /v1/collections/{name}, and an entry of
// `collections:` in hookline.yaml.
type CollectionSpec struct {
	Name string `json:"name"`
	// Key is a path or expression giving the record key, e.g. "data.id".
	Key string `json:"key"`
	// Version is a path or expression giving a monotonic version (a number
	// or an RFC 3339 time), e.g. "data.updated_at". Empty: the event's
	// occurred_at, ties broken by event id.
	Version string `json:"version,omitempty"`
	// Record is an expression giving the record body (an object);
	// default "data", or the fetched record when Fetch is set.
	Record string `json:"record,omitempty"`
	// Events maps event type patterns to operations: "upsert", "merge" or
	// "delete", or {"op": …, "map": {…}}.
	Events map[string]CollectionOp `json:"events"`
	// Map reshapes the record of every operation without its own map.
	Map *FieldMap `json:"map,omitempty"`
	// Fetch loads the full record from the source before applying.
	Fetch *CollectionFetch `json:"fetch,omitempty"`
	// Mirror copies the collection into a PostgreSQL table.
	Mirror *CollectionMirror `json:"mirror,omitempty"`
}

// CollectionOp is the operation applied for matching events.
type CollectionOp struct {
	Op  string    `json:"op"`
	Map *FieldMap `json:"map,omitempty"`
}

// UnmarshalJSON accepts "upsert" as well as {"op": "upsert", "map": …}.
func (o *CollectionOp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*o = CollectionOp{Op: s}
		return nil
	}
	type plain CollectionOp
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf(`operation must be "upsert", "merge", "delete" or {"op": …, "map": …}`)
	}
	*o = CollectionOp(p)
	return nil
}

// MarshalJSON writes an operation without a map as its name.
func (o CollectionOp) MarshalJSON() ([]byte, error) {
	if o.Map == nil {
		return json.Marshal(o.Op)
	}
	type plain CollectionOp
	return json.Marshal(plain(o))
}

// FieldMap reshapes a record: Set computes fields with expressions (over
// event, data, record and key), then Rename renames fields, then Drop
// removes them.
type FieldMap struct {
	Set    map[string]string `json:"set,omitempty"`
	Rename map[string]string `json:"rename,omitempty"`
	Drop   []string          `json:"drop,omitempty"`
}

// CollectionFetch loads the full record from the source system when
// webhook payloads are thin. URL and header values are {{ }} templates
// over key, event and data. A 404 answer applies a delete.
type CollectionFetch struct {
	URL string `json:"url"`
	// Headers are secret: they are stored encrypted and shown redacted.
	Headers map[string]string `json:"headers,omitempty"`
	// Record is an expression over `response` (the parsed JSON answer)
	// giving the record; default the whole answer.
	Record string `json:"record,omitempty"`
	// Timeout bounds one fetch, a Go duration such as "5s"; default 10s.
	Timeout string `json:"timeout,omitempty"`
}

// CollectionMirror copies a collection into a PostgreSQL table, with the
// same version guard: a row is only replaced by a later change.
type CollectionMirror struct {
	// DSN is secret: it is stored encrypted and shown redacted.
	DSN string `json:"dsn"`
	// Table is "name" or "schema.name".
	Table string `json:"table"`
	// KeyColumn holds the record key; default "id".
	KeyColumn string `json:"key_column,omitempty"`
	// Columns are the other columns; empty: one jsonb column "data" with
	// the whole record.
	Columns []MirrorColumn `json:"columns,omitempty"`
	// Create creates the table when it does not exist.
	Create bool `json:"create,omitempty"`
}

// MirrorColumn is one mirrored column: an expression over record and key,
// stored as Type (text by default).
type MirrorColumn struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Type  string `json:"type,omitempty"`
}

// Collection is a collection as the API shows it: its spec with secrets
// redacted.
type Collection struct {
	CollectionSpec
	// MirrorStatus is how the mirror table follows the collection, in
	// GET /v1/collections and /v1/collections/{name}; absent without a
	// mirror.
	MirrorStatus *MirrorStatus `json:"mirror_status,omitempty"`
	CreatedAt    Time          `json:"created_at"`
	UpdatedAt    Time          `json:"updated_at"`
}

// MirrorStatus is how a collection's mirror table follows the collection:
// the collection never waits for it, it writes the changes after its
// cursor on its own and retries on its own when the table is unavailable.
type MirrorStatus struct {
	// State is "ok" (every change is in the table), "catching_up"
	// (changes wait; the last write succeeded) or "failing" (the last
	// write failed; it is retried at RetryAt).
	State string `json:"state"`
	// Seq is the last change written to the table; Lag how many changes
	// of the collection are not in it yet.
	Seq int64 `json:"seq"`
	Lag int64 `json:"lag"`
	// LastError is why the last write failed; FailingSince when writes
	// began to fail. Both absent unless failing.
	LastError    string `json:"last_error,omitempty"`
	FailingSince *Time  `json:"failing_since,omitempty"`
	RetryAt      *Time  `json:"retry_at,omitempty"`
	// RowsFailed counts changes whose row the table refused (a value that
	// does not cast, a constraint of the table), passed over so they do
	// not hold up the others; LastRowError names the last.
	RowsFailed   int64  `json:"rows_failed,omitempty"`
	LastRowError string `json:"last_row_error,omitempty"`
	// UpdatedAt is when the mirror last wrote or failed.
	UpdatedAt *Time `json:"updated_at,omitempty"`
}

// Record is one record of a collection.
type Record struct {
	Key       string          `json:"key"`
	Data      json.RawMessage `json:"data,omitempty"`
	Deleted   bool            `json:"deleted,omitempty"`
	Version   string          `json:"version"`
	EventID   string          `json:"event_id,omitempty"`
	Seq       int64           `json:"seq"`
	CreatedAt Time            `json:"created_at"`
	UpdatedAt Time            `json:"updated_at"`
}

// RecordChange is one applied change of a collection, as the changes feed and
// the collection.{name}.changed event carry it.
type RecordChange struct {
	Seq        int64           `json:"seq"`
	Collection string          `json:"collection"`
	Key        string          `json:"key"`
	Op         string          `json:"op"`
	Data       json.RawMessage `json:"data,omitempty"`
	Version    string          `json:"version"`
	EventID    string          `json:"event_id,omitempty"`
	At         Time            `json:"at"`
}

// Changes is a page of the changes feed; Cursor is the value for the
// next request's after.
type Changes struct {
	Data   []RecordChange `json:"data"`
	Cursor string         `json:"cursor"`
}

// RecordsWrite is the body of POST /v1/collections/{name}/records: records
// applied like upserts with the collection's key, version and map, as
// backfill does.
type RecordsWrite struct {
	Records []json.RawMessage `json:"records"`
}

// RecordsWritten reports POST /v1/collections/{name}/records per record.
type RecordsWritten struct {
	Applied int `json:"applied"`
	// Skipped counts stale and duplicate records.
	Skipped int            `json:"skipped"`
	Errors  int            `json:"errors"`
	Results []RecordResult `json:"results"`
}

// RecordResult is what happened to one written record: "applied",
// "stale", "duplicate" or "error".
type RecordResult struct {
	Key     string `json:"key,omitempty"`
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
}
