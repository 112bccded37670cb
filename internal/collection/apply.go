package collection

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// Outcomes of applying one change.
const (
	Applied   = "applied"
	Stale     = "stale"
	Duplicate = "duplicate"
)

// InputError is a change that can never apply: a missing key, a version
// of the wrong type, a failed mapping. Retrying does not help.
type InputError struct {
	Code string // invalid_key, invalid_version, mapping_failed, invalid_record
	Err  error
}

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErr(code, format string, args ...any) error {
	return &InputError{Code: code, Err: fmt.Errorf(format, args...)}
}

// change is what one event or record says about one key.
type change struct {
	key     string
	op      string
	version version
	data    map[string]any // the mapped record; nil for a delete
	eventID string
	at      time.Time
}

// decision is what applying a change to the stored record gives.
type decision struct {
	outcome string
	// stored is the record's version before the change, for the log.
	stored string
}

// A record's state is decided by last-writer-wins, per field: an upsert
// or delete writes every field (those it lacks are removed) at its
// version, a merge writes only its top-level fields (null removes one). A
// change older than what already wrote its fields is skipped as stale.
// Because every field keeps the value of the newest change that wrote it,
// any delivery order — shuffled, duplicated — ends in the state that
// applying the changes in version order gives.
//
// The record's Version and EventID are those of its newest change. When a
// merge is newer than the last full write, meta keeps the full write's
// version and, per merged field, the version and value, so a full write
// arriving late (older than the merge, newer than the last full write)
// keeps the merged fields.
type meta struct {
	// Base is the version and event of the last upsert or delete; empty
	// when only merges wrote the record.
	Base      string `json:"b"`
	BaseEvent string `json:"be,omitempty"`
	// BaseDeleted says the last full write was a delete.
	BaseDeleted bool                  `json:"bd,omitempty"`
	Fields      map[string]fieldWrite `json:"f"`
}

// fieldWrite is one field written by a merge newer than the last full
// write.
type fieldWrite struct {
	Version string          `json:"v"`
	Event   string          `json:"e"`
	Value   json.RawMessage `json:"x,omitempty"`
	Removed bool            `json:"d,omitempty"`
}

// stamp is a version with the event that carried it; equal versions of
// different events are ordered by event id, the order Hookline received
// them in.
type stamp struct {
	v     version
	event string
}

func (a stamp) compare(b stamp) (int, error) {
	c, err := a.v.compare(b.v)
	if err != nil || c != 0 {
		return c, err
	}
	return strings.Compare(a.event, b.event), nil
}

func stampOf(stored, event string) (stamp, error) {
	v, err := parseVersion(stored)
	return stamp{v: v, event: event}, err
}

// compareField compares a with the stamp of a field merged into the
// record: negative when a is older, 0 when it is the same write.
func (a stamp) compareField(fw fieldWrite) (int, error) {
	fs, err := stampOf(fw.Version, fw.Event)
	if err != nil {
		return 0, err
	}
	return a.compare(fs)
}

// decide applies c to cur: the record to store, or nil when c is stale
// or a duplicate. A delete leaves a tombstone carrying its version.
func decide(cur *store.Record, c *change, d *decision) (*store.Record, string, error) {
	in := stamp{v: c.version, event: c.eventID}
	next := &store.Record{UpdatedAt: c.at}
	if cur == nil {
		if c.op == store.OpMerge {
			// A merge with nothing before it: its fields are the record,
			// kept in meta so a late, older upsert keeps them.
			m := &meta{Fields: map[string]fieldWrite{}}
			data := map[string]any{}
			for f, val := range c.data {
				if err := m.set(data, f, val, c); err != nil {
					return nil, "", err
				}
			}
			return finish(next, data, m, store.OpMerge, d)
		}
		return full(next, c, d)
	}
	d.stored = cur.Version
	latest, err := stampOf(cur.Version, cur.EventID)
	if err != nil {
		return nil, "", err
	}
	if _, err := in.v.compare(latest.v); err != nil {
		return nil, "", &InputError{Code: "invalid_version", Err: err}
	}
	m, err := loadMeta(cur)
	if err != nil {
		return nil, "", err
	}
	if m == nil {
		// No merge is newer than the last full write: it is the record.
		m = &meta{Base: cur.Version, BaseEvent: cur.EventID, BaseDeleted: cur.Deleted, Fields: map[string]fieldWrite{}}
	}
	// A write no newer than the last full write changes nothing, merge
	// or not.
	var base stamp
	if m.Base != "" {
		if base, err = stampOf(m.Base, m.BaseEvent); err != nil {
			return nil, "", err
		}
		cmp, err := in.compare(base)
		if err != nil {
			return nil, "", err
		}
		if cmp <= 0 {
			return skip(d, cmp == 0)
		}
	}

	if c.op == store.OpMerge {
		data := map[string]any{}
		if !cur.Deleted && len(cur.Data) > 0 {
			if err := decodeExact(cur.Data, &data); err != nil {
				return nil, "", fmt.Errorf("stored record: %w", err)
			}
		}
		changed, dup := false, len(c.data) > 0
		for f, val := range c.data {
			if fw, ok := m.Fields[f]; ok {
				cmp, err := in.compareField(fw)
				if err != nil {
					return nil, "", err
				}
				if cmp <= 0 {
					dup = dup && cmp == 0
					continue
				}
			}
			dup, changed = false, true
			if err := m.set(data, f, val, c); err != nil {
				return nil, "", err
			}
		}
		if !changed {
			return skip(d, dup)
		}
		return finish(next, data, m, store.OpMerge, d)
	}

	// A full write: upsert or delete.
	if len(m.Fields) == 0 {
		if m.Base != "" && !m.BaseDeleted && c.op != store.OpDelete {
			// The same version again from another event (a re-run
			// backfill, a resent webhook) that changes nothing is a
			// duplicate, not a change.
			if same, err := c.version.compare(base.v); err == nil && same == 0 && sameData(cur.Data, c.data) {
				return skip(d, true)
			}
		}
		return full(next, c, d)
	}
	// Merged fields newer than this write stay; older ones go.
	nm := &meta{Base: c.version.String(), BaseEvent: c.eventID, BaseDeleted: c.op == store.OpDelete, Fields: map[string]fieldWrite{}}
	data := map[string]any{}
	if c.op != store.OpDelete {
		data = maps.Clone(c.data)
	}
	for f, fw := range m.Fields {
		cmp, err := in.compareField(fw)
		if err != nil {
			return nil, "", err
		}
		if cmp >= 0 {
			continue
		}
		nm.Fields[f] = fw
		if fw.Removed {
			delete(data, f)
			continue
		}
		var v any
		if err := decodeExact(fw.Value, &v); err != nil {
			return nil, "", fmt.Errorf("stored meta: %w", err)
		}
		data[f] = v
	}
	return finish(next, data, nm, c.op, d)
}

// full is an upsert or delete that replaces the whole record.
func full(next *store.Record, c *change, d *decision) (*store.Record, string, error) {
	next.Version, next.EventID = c.version.String(), c.eventID
	if c.op == store.OpDelete {
		next.Deleted = true
	} else {
		b, err := encodeRecord(c.data)
		if err != nil {
			return nil, "", err
		}
		next.Data = b
	}
	d.outcome = Applied
	return next, c.op, nil
}

// sameData reports whether stored JSON equals data.
func sameData(stored []byte, data map[string]any) bool {
	b, err := json.Marshal(data)
	if err != nil {
		return false
	}
	var x, y any
	if decodeExact(stored, &x) != nil || decodeExact(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func skip(d *decision, duplicate bool) (*store.Record, string, error) {
	d.outcome = Stale
	if duplicate {
		d.outcome = Duplicate
	}
	return nil, "", nil
}

// set writes field f of a merge into data and m.
func (m *meta) set(data map[string]any, f string, val any, c *change) error {
	fw := fieldWrite{Version: c.version.String(), Event: c.eventID}
	if val == nil {
		fw.Removed = true
		delete(data, f)
	} else {
		b, err := json.Marshal(val)
		if err != nil {
			return &InputError{Code: "invalid_record", Err: fmt.Errorf("field %s: %w", f, err)}
		}
		fw.Value = b
		data[f] = val
	}
	m.Fields[f] = fw
	return nil
}

// finish stores data with meta; the record's version is its newest
// change's. A record is deleted when its last full write was a delete
// and no newer merge wrote a field.
func finish(next *store.Record, data map[string]any, m *meta, op string, d *decision) (*store.Record, string, error) {
	var (
		newest stamp
		have   bool
	)
	if m.Base != "" {
		b, err := stampOf(m.Base, m.BaseEvent)
		if err != nil {
			return nil, "", err
		}
		newest, have = b, true
	}
	for _, fw := range m.Fields {
		fs, err := stampOf(fw.Version, fw.Event)
		if err != nil {
			return nil, "", err
		}
		if !have {
			newest, have = fs, true
			continue
		}
		c, err := fs.compare(newest)
		if err != nil {
			return nil, "", err
		}
		if c > 0 {
			newest = fs
		}
	}
	next.Version, next.EventID = newest.v.String(), newest.event
	if m.BaseDeleted && len(m.Fields) == 0 {
		next.Deleted = true
		op = store.OpDelete
	} else {
		b, err := encodeRecord(data)
		if err != nil {
			return nil, "", err
		}
		next.Data = b
	}
	if len(m.Fields) > 0 {
		b, err := json.Marshal(m)
		if err != nil {
			return nil, "", err
		}
		next.Meta = b
	}
	d.outcome = Applied
	return next, op, nil
}

func loadMeta(r *store.Record) (*meta, error) {
	if len(r.Meta) == 0 {
		return nil, nil
	}
	var m meta
	if err := json.Unmarshal(r.Meta, &m); err != nil {
		return nil, fmt.Errorf("stored meta: %w", err)
	}
	if m.Fields == nil {
		m.Fields = map[string]fieldWrite{}
	}
	return &m, nil
}

func encodeRecord(m map[string]any) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, &InputError{Code: "invalid_record", Err: fmt.Errorf("record cannot be stored as JSON: %w", err)}
	}
	if len(b) > MaxRecordBytes {
		return nil, &InputError{Code: "invalid_record", Err: fmt.Errorf("record is %d bytes; the limit is %d", len(b), MaxRecordBytes)}
	}
	return b, nil
}

// decodeExact decodes JSON keeping numbers as json.Number, so big ids and
// versions survive unchanged.
func decodeExact(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// loose turns json.Number values into float64, for expressions.
func loose(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = loose(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = loose(e)
		}
		return out
	}
	return v
}

// eventVars are the variables of an event for a spec's expressions, in
// two decodings: exact (json.Number) for paths and loose for expressions.
type eventVars struct {
	exact, loose map[string]any
}

func varsOf(e *event.Event) (eventVars, error) {
	var data any
	if len(e.Data) > 0 {
		if err := decodeExact(e.Data, &data); err != nil {
			return eventVars{}, inputErr("invalid_record", "event data is not JSON: %v", err)
		}
	}
	ev := map[string]any{
		"id": e.ID, "type": e.Type, "source": e.Source, "data": data,
		"occurred_at": e.OccurredAt.UTC().Format(time.RFC3339Nano),
	}
	exact := map[string]any{"event": ev, "data": data}
	return eventVars{exact: exact, loose: loose(exact).(map[string]any)}, nil
}

func (v eventVars) with(name string, val any) eventVars {
	exact := maps.Clone(v.exact)
	exact[name] = val
	lv := maps.Clone(v.loose)
	lv[name] = loose(val)
	return eventVars{exact: exact, loose: lv}
}

// keyText checks and formats a record key.
func keyText(field string, v any) (string, error) {
	switch v.(type) {
	case nil:
		return "", inputErr("invalid_key", "key: %s is missing", field)
	case map[string]any, []any, bool:
		return "", inputErr("invalid_key", "key: %s is a %s; a key must be a string or a number", field, jsonKind(v))
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case float64:
		b, _ := json.Marshal(x)
		s = string(b)
	case string:
		s = x
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return "", inputErr("invalid_key", "key: %v", err)
		}
		s = string(b)
	}
	if s == "" {
		return "", inputErr("invalid_key", "key: %s is empty", field)
	}
	if len(s) > MaxKeyLength {
		return "", inputErr("invalid_key", "key: %s is %d bytes long; the limit is %d", field, len(s), MaxKeyLength)
	}
	return s, nil
}

// body evaluates the record body (Record, or data / the fetched record).
func (s *Spec) body(v eventVars, fetched any, haveFetched bool) (map[string]any, error) {
	var out any
	switch {
	case s.record != nil:
		vv := v.with("fetched", fetched)
		var err error
		if out, err = s.record.eval(vv.loose, vv.exact); err != nil {
			return nil, inputErr("mapping_failed", "record: %v", err)
		}
	case haveFetched:
		out = fetched
	default:
		out = v.exact["data"]
	}
	m, ok := out.(map[string]any)
	if !ok {
		src := "data"
		if s.record != nil {
			src = s.record.src
		}
		return nil, inputErr("invalid_record", "record: %s is a %s, not an object", src, jsonKind(out))
	}
	return m, nil
}

// mapRecord applies a field map: set, then rename, then drop.
func (m *fieldMap) apply(v eventVars, key string, rec map[string]any) (map[string]any, error) {
	if m == nil {
		return rec, nil
	}
	out := maps.Clone(rec)
	if len(m.set) > 0 {
		vv := v.with("record", rec).with("key", key)
		for _, f := range m.set {
			val, err := f.prog.Eval(vv.loose)
			if err != nil {
				return nil, inputErr("mapping_failed", "map.set.%s: %v", f.name, err)
			}
			out[f.name] = val
		}
	}
	// Renames read every source field first, so chained or swapped
	// names (a→b, b→c) do not depend on map order.
	moved := map[string]any{}
	for from := range m.rename {
		if val, ok := out[from]; ok {
			moved[from] = val
			delete(out, from)
		}
	}
	for from, val := range moved {
		out[m.rename[from]] = val
	}
	for _, name := range m.drop {
		delete(out, name)
	}
	return out, nil
}

// prepare turns an event into the change it makes to the collection;
// fetch, when the spec has one, loads the full record by key. ok is false
// when no operation of the spec matches the event's type.
func (s *Spec) prepare(e *event.Event, fetch func(key string, v eventVars) (any, bool, error)) (*change, bool, error) {
	o, ok := s.opFor(e.Type)
	if !ok {
		return nil, false, nil
	}
	v, err := varsOf(e)
	if err != nil {
		return nil, true, err
	}
	c := &change{op: o.op, eventID: e.ID, at: e.OccurredAt}
	// The key comes from the event (before any fetch, whose URL needs it).
	var pre map[string]any
	if s.record != nil && s.fetch == nil && o.op != store.OpDelete {
		if pre, err = s.body(v, nil, false); err != nil {
			return nil, true, err
		}
	} else if d, isMap := v.exact["data"].(map[string]any); isMap {
		pre = d
	}
	kv := v.with("record", pre)
	raw, err := s.key.eval(kv.loose, kv.exact)
	if err != nil {
		return nil, true, inputErr("invalid_key", "key: %v", err)
	}
	if c.key, err = keyText(s.key.src, raw); err != nil {
		return nil, true, err
	}
	rec := pre
	if o.op != store.OpDelete {
		switch {
		case s.fetch != nil && fetch != nil:
			fetched, found, err := fetch(c.key, v)
			if err != nil {
				return nil, true, err
			}
			if !found {
				c.op = store.OpDelete
				rec = nil
				break
			}
			if rec, err = s.body(v, fetched, true); err != nil {
				return nil, true, err
			}
		case s.record == nil:
			if rec, err = s.body(v, nil, false); err != nil {
				return nil, true, err
			}
		}
	}
	if s.version != nil {
		vv := v.with("record", rec)
		raw, err := s.version.eval(vv.loose, vv.exact)
		if err != nil {
			return nil, true, inputErr("invalid_version", "version: %v", err)
		}
		if c.version, err = versionOf(raw); err != nil {
			return nil, true, inputErr("invalid_version", "version: %s %v", s.version.src, err)
		}
	} else {
		c.version = eventVersion(e.OccurredAt, e.ID)
	}
	if c.op != store.OpDelete {
		m := o.m
		if m == nil {
			m = s.defaultMap
		}
		if c.data, err = m.apply(v, c.key, rec); err != nil {
			return nil, true, err
		}
	}
	return c, true, nil
}
