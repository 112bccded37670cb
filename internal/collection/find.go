package collection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/store"
)

// MaxScan bounds how many records one Find reads, however few match.
const MaxScan = 10000

// RecordLister reads a collection's records in key order, and one by its
// key; a store.Store is one.
type RecordLister interface {
	ListRecords(ctx context.Context, tenantID, collection string, q store.RecordQuery) ([]store.Record, error)
	GetRecord(ctx context.Context, tenantID, collection, key string) (store.Record, error)
}

// Filter is a compiled records filter: an expression over record (the
// record's data) and key that gives true or false.
type Filter struct{ prog *expr.Program }

// CompileFilter compiles a records filter such as `record.plan == "pro"`.
func CompileFilter(src string) (*Filter, error) {
	p, err := expr.CompileEnv(src, map[string]any{"record": map[string]any{}, "key": ""})
	if err != nil {
		return nil, err
	}
	return &Filter{prog: p}, nil
}

// FilterError is a filter that failed on a record: not a bool, or an
// error evaluating it.
type FilterError struct {
	Key string
	Err error
}

func (e *FilterError) Error() string { return fmt.Sprintf("filter on record %q: %v", e.Key, e.Err) }
func (e *FilterError) Unwrap() error { return e.Err }

func (f *Filter) match(rec store.Record) (bool, error) {
	var data any
	if len(rec.Data) > 0 {
		if err := json.Unmarshal(rec.Data, &data); err != nil {
			return false, err
		}
	}
	v, err := f.prog.Eval(map[string]any{"record": data, "key": rec.Key})
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("filter gave %v, not true or false", v)
	}
	return b, nil
}

// FindQuery is one page of a collection's records, in key order.
type FindQuery struct {
	// After is the last key of the previous page.
	After string
	// Prefix keeps the keys that start with it: the scan ends at the
	// first key after it that does not.
	Prefix         string
	Limit          int
	IncludeDeleted bool
	Filter         *Filter
}

// Found is a page of records and the cursor of the next, empty on the
// last. A filtered page may hold fewer than Limit records with a cursor:
// it read MaxScan records.
type Found struct {
	Records []store.Record
	Next    string
}

// Find reads the records of q, in batches while a filter leaves some
// out, reading at most MaxScan. A filter failing on a record is a
// *FilterError.
func Find(ctx context.Context, l RecordLister, tenantID, name string, q FindQuery) (Found, error) {
	var (
		out     []store.Record
		scanned int
		more    bool
	)
	cursor := q.After
	keep := func(rec store.Record) (bool, error) {
		scanned++
		cursor = rec.Key
		if q.Filter == nil {
			return true, nil
		}
		ok, err := q.Filter.match(rec)
		if err != nil {
			return false, &FilterError{Key: rec.Key, Err: err}
		}
		return ok, nil
	}
	if q.Prefix != "" && cursor < q.Prefix {
		// The records after a key start after the prefix, which is a key
		// too: it comes first, if it is there.
		rec, err := l.GetRecord(ctx, tenantID, name, q.Prefix)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return Found{}, err
		case q.IncludeDeleted || !rec.Deleted:
			ok, err := keep(rec)
			if err != nil {
				return Found{}, err
			}
			if ok {
				out = append(out, rec)
			}
		}
		cursor = q.Prefix
	}
	for len(out) < q.Limit && scanned < MaxScan {
		batch := q.Limit - len(out)
		if q.Filter != nil {
			batch = min(MaxScan-scanned, max(batch*4, 100))
		}
		recs, err := l.ListRecords(ctx, tenantID, name, store.RecordQuery{After: cursor, Limit: batch, IncludeDeleted: q.IncludeDeleted})
		if err != nil {
			return Found{}, err
		}
		more = len(recs) == batch
		for _, rec := range recs {
			if !strings.HasPrefix(rec.Key, q.Prefix) {
				more = false
				break
			}
			ok, err := keep(rec)
			if err != nil {
				return Found{}, err
			}
			if !ok {
				continue
			}
			out = append(out, rec)
			if len(out) == q.Limit {
				break
			}
		}
		if !more {
			break
		}
	}
	f := Found{Records: out}
	// A page that filled up inside a batch may have records after it.
	if more || (len(out) == q.Limit && cursor != "") {
		f.Next = cursor
	}
	return f, nil
}
