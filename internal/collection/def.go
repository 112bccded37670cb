package collection

import (
	"encoding/json"
	"fmt"

	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/store"
)

// Def is a collection as declared: its expressions and settings as their
// author wrote them, which Compile checks and compiles. It is also the
// document the store keeps (Split, Join): its JSON must stay readable by
// every later version, so a field is only ever added, with omitempty.
// The API's wire.CollectionSpec is mapped to and from it in
// internal/apply.
type Def struct {
	Name string `json:"name"`
	// Key is a path or expression giving the record key.
	Key string `json:"key"`
	// Version is a path or expression giving the record's version; empty:
	// the event's occurred_at, ties broken by event id.
	Version string `json:"version,omitempty"`
	// Record is an expression giving the record body; empty: data, or the
	// fetched record.
	Record string `json:"record,omitempty"`
	// Events maps event type patterns to operations.
	Events map[string]OpDef `json:"events"`
	// Map reshapes the record of every operation without its own map.
	Map    *MapDef    `json:"map,omitempty"`
	Fetch  *FetchDef  `json:"fetch,omitempty"`
	Mirror *MirrorDef `json:"mirror,omitempty"`
}

// OpDef is the operation ("upsert", "merge" or "delete") applied for the
// events of a pattern, with its own map.
type OpDef struct {
	Op  string  `json:"op"`
	Map *MapDef `json:"map,omitempty"`
}

// UnmarshalJSON reads an operation stored as its name or as an object.
func (o *OpDef) UnmarshalJSON(b []byte) error {
	*o = OpDef{}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &o.Op)
	}
	type plain OpDef
	return json.Unmarshal(b, (*plain)(o))
}

// MarshalJSON stores an operation without a map as its name.
func (o OpDef) MarshalJSON() ([]byte, error) {
	if o.Map == nil {
		return json.Marshal(o.Op)
	}
	type plain OpDef
	return json.Marshal(plain(o))
}

// MapDef reshapes a record: Set computes fields with expressions, then
// Rename renames fields, then Drop removes them.
type MapDef struct {
	Set    map[string]string `json:"set,omitempty"`
	Rename map[string]string `json:"rename,omitempty"`
	Drop   []string          `json:"drop,omitempty"`
}

// FetchDef loads the full record from the source system. Headers are
// secret (Split keeps them apart); Timeout is a Go duration as written.
type FetchDef struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Record  string            `json:"record,omitempty"`
	Timeout string            `json:"timeout,omitempty"`
}

// MirrorDef copies the collection into a PostgreSQL table. DSN is secret
// (Split keeps it apart).
type MirrorDef struct {
	DSN       string      `json:"dsn"`
	Table     string      `json:"table"`
	KeyColumn string      `json:"key_column,omitempty"`
	Columns   []ColumnDef `json:"columns,omitempty"`
	Create    bool        `json:"create,omitempty"`
}

// ColumnDef is one mirrored column: an expression over record and key,
// stored as Type (text by default).
type ColumnDef struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	Type  string `json:"type,omitempty"`
}

// secrets are the parts of a Def stored encrypted (store.Collection.Secret).
type secrets struct {
	FetchHeaders map[string]string `json:"fetch_headers,omitempty"`
	MirrorDSN    string            `json:"mirror_dsn,omitempty"`
}

// Split separates a definition into its stored parts: the definition
// without secrets, and the secrets (fetch headers and mirror DSN), both
// JSON.
func Split(in Def) (spec, secret []byte, err error) {
	var sec secrets
	if in.Fetch != nil {
		f := *in.Fetch
		sec.FetchHeaders, f.Headers = f.Headers, nil
		in.Fetch = &f
	}
	if in.Mirror != nil {
		m := *in.Mirror
		sec.MirrorDSN, m.DSN = m.DSN, ""
		in.Mirror = &m
	}
	if spec, err = json.Marshal(in); err != nil {
		return nil, nil, err
	}
	if secret, err = json.Marshal(sec); err != nil {
		return nil, nil, err
	}
	return spec, secret, nil
}

// Join rebuilds a full definition from a stored collection.
func Join(c store.Collection) (Def, error) {
	var in Def
	if err := json.Unmarshal(c.Spec, &in); err != nil {
		return in, fmt.Errorf("collection %s: stored spec: %w", c.Name, err)
	}
	var sec secrets
	if len(c.Secret) > 0 {
		if err := json.Unmarshal(c.Secret, &sec); err != nil {
			return in, fmt.Errorf("collection %s: stored secrets: %w", c.Name, err)
		}
	}
	if in.Fetch != nil {
		in.Fetch.Headers = sec.FetchHeaders
	}
	if in.Mirror != nil {
		in.Mirror.DSN = sec.MirrorDSN
	}
	return in, nil
}

// Parse compiles a stored collection: Join, then Compile (whose mistakes
// it returns as they are).
func Parse(c store.Collection) (*Spec, error) {
	in, err := Join(c)
	if err != nil {
		return nil, err
	}
	spec, err := Compile(in)
	if err != nil {
		return nil, err
	}
	spec.created = c.CreatedAt
	return spec, nil
}

// Redact returns a definition fit to show: header values and the DSN's
// password replaced.
func Redact(in Def) Def {
	if in.Fetch != nil {
		f := *in.Fetch
		if len(f.Headers) > 0 {
			f.Headers = redact.Values(f.Headers)
		}
		in.Fetch = &f
	}
	if in.Mirror != nil {
		m := *in.Mirror
		m.DSN = RedactDSN(m.DSN)
		in.Mirror = &m
	}
	return in
}
