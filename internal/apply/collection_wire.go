package apply

import (
	"time"

	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/wire"
)

// The collection aggregate at the API's edge: its spec between
// wire.CollectionSpec and collection.Def, and what the API shows of it.
// Parts of the same shape on both sides are converted with a type
// conversion, so a field added to one side only stops the build here.

// CollectionDef is a collection spec as the collection package takes it.
func CollectionDef(in wire.CollectionSpec) collection.Def {
	return collection.Def{Name: in.Name, Key: in.Key, Version: in.Version, Record: in.Record,
		Events: eachValue(in.Events, func(o wire.CollectionOp) collection.OpDef {
			return collection.OpDef{Op: o.Op, Map: (*collection.MapDef)(o.Map)}
		}),
		Map: (*collection.MapDef)(in.Map), Fetch: (*collection.FetchDef)(in.Fetch),
		Mirror: ptr(in.Mirror, func(m wire.CollectionMirror) collection.MirrorDef {
			return collection.MirrorDef{DSN: m.DSN, Table: m.Table, KeyColumn: m.KeyColumn, Create: m.Create,
				Columns: each(m.Columns, func(c wire.MirrorColumn) collection.ColumnDef { return collection.ColumnDef(c) })}
		}),
	}
}

// collectionSpec is a definition as the API shows it (redact it first).
func collectionSpec(d collection.Def) wire.CollectionSpec {
	out := wire.CollectionSpec{Name: d.Name, Key: d.Key, Version: d.Version, Record: d.Record,
		Events: eachValue(d.Events, func(o collection.OpDef) wire.CollectionOp {
			return wire.CollectionOp{Op: o.Op, Map: (*wire.FieldMap)(o.Map)}
		}),
		Map: (*wire.FieldMap)(d.Map), Fetch: (*wire.CollectionFetch)(d.Fetch),
		Mirror: ptr(d.Mirror, func(m collection.MirrorDef) wire.CollectionMirror {
			return wire.CollectionMirror{DSN: m.DSN, Table: m.Table, KeyColumn: m.KeyColumn, Create: m.Create,
				Columns: each(m.Columns, func(c collection.ColumnDef) wire.MirrorColumn { return wire.MirrorColumn(c) })}
		}),
	}
	if out.Events == nil {
		// Shown as {}, not null.
		out.Events = map[string]wire.CollectionOp{}
	}
	return out
}

// Collection checks a collection spec and returns it as stored, and
// compiled for the subscriptions that name it. A mistake is a
// *field.Error naming the field as the spec writes it.
func Collection(tenantID string, in wire.CollectionSpec, now time.Time) (store.Collection, *collection.Spec, error) {
	def := CollectionDef(in)
	spec, err := collection.Compile(def)
	if err != nil {
		return store.Collection{}, nil, err
	}
	body, secret, err := collection.Split(def)
	if err != nil {
		return store.Collection{}, nil, err
	}
	return store.Collection{TenantID: tenantID, Name: def.Name, Spec: body, Secret: secret, CreatedAt: now, UpdatedAt: now}, spec, nil
}

// CollectionOut is a stored collection as the API shows it: its secrets
// redacted.
func CollectionOut(c store.Collection) (wire.Collection, error) {
	def, err := collection.Join(c)
	if err != nil {
		return wire.Collection{}, err
	}
	return wire.Collection{CollectionSpec: collectionSpec(collection.Redact(def)), CreatedAt: wire.TimeOf(c.CreatedAt), UpdatedAt: wire.TimeOf(c.UpdatedAt)}, nil
}

// MirrorStatusOut is how a mirror is doing, as the API shows it.
func MirrorStatusOut(m collection.MirrorStatus) *wire.MirrorStatus {
	out := &wire.MirrorStatus{State: m.State, Seq: m.Seq, Lag: m.Lag, LastError: m.LastError,
		RowsFailed: m.RowsFailed, LastRowError: m.RowError}
	for _, t := range []struct {
		at  time.Time
		out **wire.Time
	}{{m.FailingSince, &out.FailingSince}, {m.RetryAt, &out.RetryAt}, {m.UpdatedAt, &out.UpdatedAt}} {
		if !t.at.IsZero() {
			*t.out = wire.TimePtr(&t.at)
		}
	}
	return out
}

// RecordOut is a record as the API shows it.
func RecordOut(r store.Record) wire.Record {
	return wire.Record{
		Key: r.Key, Data: r.Data, Deleted: r.Deleted, Version: collection.Display(r.Version), EventID: r.EventID,
		Seq: r.Seq, CreatedAt: wire.TimeOf(r.CreatedAt), UpdatedAt: wire.TimeOf(r.UpdatedAt),
	}
}

// ChangeOut is a change as the changes feed shows it; the
// collection.{name}.changed event carries the same (collection.ChangedData).
func ChangeOut(c store.Change) wire.RecordChange {
	return wire.RecordChange{
		Seq: c.Seq, Collection: c.Collection, Key: c.Key, Op: c.Op, Data: c.Data,
		Version: collection.Display(c.Version), EventID: c.EventID, At: wire.TimeOf(c.At),
	}
}

// RecordsWrittenOut reports the records of one write as the API shows
// them.
func RecordsWrittenOut(results []collection.Result) wire.RecordsWritten {
	out := wire.RecordsWritten{Results: make([]wire.RecordResult, len(results))}
	for i, res := range results {
		rr := wire.RecordResult{Key: res.Key, Outcome: res.Outcome}
		if res.Err != nil {
			rr.Outcome, rr.Error = "error", res.Err.Error()
		}
		switch rr.Outcome {
		case collection.Applied:
			out.Applied++
		case "error":
			out.Errors++
		default:
			out.Skipped++
		}
		out.Results[i] = rr
	}
	return out
}
