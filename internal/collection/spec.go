// Package collection keeps collections — data sets a source system owns —
// in step with it: the sync executor applies change events as upserts,
// merges and deletes ordered by version (not arrival), keeps tombstones,
// fetches thin payloads, mirrors into PostgreSQL and announces every
// applied change.
package collection

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/field"
	"github.com/hookline/hookline/internal/netguard"
	"github.com/hookline/hookline/internal/store"
)

// Limits of a collection spec and its records.
const (
	MaxKeyLength    = 512
	MaxRecordBytes  = 1 << 20
	maxOps          = 64
	maxMapFields    = 200
	maxMirrorCols   = 200
	defaultFetchTTL = 10 * time.Second
	maxFetchTimeout = time.Minute
)

// Name is the pattern of collection names (also used in event types and
// URLs).
var Name = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// fieldErr is a mistake in one field of a spec (a *field.Error).
func fieldErr(at, format string, args ...any) error {
	return field.Errorf(at, format, args...)
}

// Variables the parts of a spec see.
var (
	keyVars    = []string{"event", "data", "record"}
	recordVars = []string{"event", "data", "fetched"}
	fetchVars  = []string{"event", "data", "key"}
	resultVars = []string{"response"}
	mirrorVars = []string{"record", "key"}
	// mapEnv types the variables of map expressions: key is a string.
	mapEnv = map[string]any{"event": map[string]any{}, "data": map[string]any{}, "record": map[string]any{}, "key": ""}
)

// Spec is a compiled collection: what applying events runs with,
// compiled from a Def.
type Spec struct {
	// Name is the collection's name.
	Name                 string
	key, version, record *value
	ops                  []op
	defaultMap           *fieldMap
	fetch                *fetch
	mirror               *mirror
	// created is when the stored collection was created.
	created time.Time
}

type op struct {
	pattern string
	op      string
	m       *fieldMap
}

type fieldMap struct {
	set    []setField
	rename map[string]string
	drop   []string
}

type setField struct {
	name string
	prog *expr.Program
}

type fetch struct {
	url     *expr.Template
	headers map[string]*expr.Template
	record  *expr.Program
	timeout time.Duration
}

// value is a path (a.b.c, read exactly, big numbers intact) or an
// expression; src is it as written, for messages.
type value struct {
	src  string
	path []string
	prog *expr.Program
}

var pathRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

func compileValue(src string, vars []string) (*value, error) {
	if pathRe.MatchString(src) {
		p := strings.Split(src, ".")
		if !slices.Contains(vars, p[0]) {
			return nil, fmt.Errorf("%q starts with an unknown variable; use one of %s", src, strings.Join(vars, ", "))
		}
		return &value{src: src, path: p}, nil
	}
	env := make(map[string]any, len(vars))
	for _, v := range vars {
		env[v] = map[string]any{}
	}
	if _, ok := env["key"]; ok {
		env["key"] = ""
	}
	prog, err := expr.CompileEnv(src, env)
	if err != nil {
		return nil, err
	}
	return &value{src: src, prog: prog}, nil
}

// eval returns the value in vars; exact holds the same variables decoded
// with json.Number, used by paths.
func (v *value) eval(vars, exact map[string]any) (any, error) {
	if v.path != nil {
		var cur any = exact
		for _, p := range v.path {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, nil
			}
			cur = m[p]
		}
		return cur, nil
	}
	return v.prog.Eval(vars)
}

// Compile checks a definition and compiles its expressions. Errors are
// *field.Error naming the field as written in the definition.
func Compile(in Def) (*Spec, error) {
	s := &Spec{Name: in.Name}
	if !Name.MatchString(in.Name) {
		return nil, fieldErr("name", "must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit")
	}
	var err error
	if in.Key == "" {
		return nil, fieldErr("key", `is required: a path or expression giving the record key, e.g. "data.id"`)
	}
	if s.key, err = compileValue(in.Key, keyVars); err != nil {
		return nil, field.Wrap("key", err)
	}
	if in.Version != "" {
		if s.version, err = compileValue(in.Version, keyVars); err != nil {
			return nil, field.Wrap("version", err)
		}
	}
	if in.Record != "" {
		if s.record, err = compileValue(in.Record, recordVars); err != nil {
			return nil, field.Wrap("record", err)
		}
	}
	if len(in.Events) == 0 {
		return nil, fieldErr("events", `is required: event type patterns and their operations, e.g. {"customer.deleted": "delete", "customer.*": "upsert"}`)
	}
	if len(in.Events) > maxOps {
		return nil, fieldErr("events", "at most %d patterns", maxOps)
	}
	for pattern, o := range in.Events {
		at := "events." + pattern
		if err := event.ValidatePattern(pattern); err != nil {
			return nil, field.Wrap(at, err)
		}
		switch o.Op {
		case store.OpUpsert, store.OpMerge, store.OpDelete:
		default:
			return nil, fieldErr(at, `operation %q is not one of "upsert", "merge", "delete"`, o.Op)
		}
		c := op{pattern: pattern, op: o.Op}
		if o.Map != nil {
			if c.m, err = compileMap(at+".map", o.Map); err != nil {
				return nil, err
			}
		}
		s.ops = append(s.ops, c)
	}
	// The most specific pattern wins: exact types before globs, longer
	// before shorter.
	slices.SortFunc(s.ops, func(a, b op) int {
		ag, bg := strings.Contains(a.pattern, "*"), strings.Contains(b.pattern, "*")
		if ag != bg {
			if ag {
				return 1
			}
			return -1
		}
		if len(a.pattern) != len(b.pattern) {
			return len(b.pattern) - len(a.pattern)
		}
		return strings.Compare(a.pattern, b.pattern)
	})
	if in.Map != nil {
		if s.defaultMap, err = compileMap("map", in.Map); err != nil {
			return nil, err
		}
	}
	if in.Fetch != nil {
		if s.fetch, err = compileFetch(in.Fetch); err != nil {
			return nil, err
		}
	}
	if in.Mirror != nil {
		if s.mirror, err = compileMirror(in.Mirror); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func compileMap(at string, m *MapDef) (*fieldMap, error) {
	if len(m.Set)+len(m.Rename)+len(m.Drop) > maxMapFields {
		return nil, fieldErr(at, "at most %d fields", maxMapFields)
	}
	out := &fieldMap{rename: m.Rename, drop: m.Drop}
	names := make([]string, 0, len(m.Set))
	for name := range m.Set {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if name == "" {
			return nil, fieldErr(at+".set", "a field name is empty")
		}
		p, err := expr.CompileEnv(m.Set[name], mapEnv)
		if err != nil {
			return nil, field.Wrap(at+".set."+name, err)
		}
		out.set = append(out.set, setField{name: name, prog: p})
	}
	for from, to := range m.Rename {
		if from == "" || to == "" {
			return nil, fieldErr(at+".rename", "field names must not be empty")
		}
	}
	return out, nil
}

func compileFetch(f *FetchDef) (*fetch, error) {
	out := &fetch{timeout: defaultFetchTTL, headers: make(map[string]*expr.Template)}
	if f.URL == "" {
		return nil, fieldErr("fetch.url", "is required")
	}
	var err error
	if out.url, err = expr.CompileTemplate(f.URL, fetchVars...); err != nil {
		return nil, field.Wrap("fetch.url", err)
	}
	if out.url.Static() {
		if err := netguard.CheckHTTPURL(f.URL); err != nil {
			return nil, field.Wrap("fetch.url", err)
		}
	}
	for name, v := range f.Headers {
		if out.headers[name], err = expr.CompileTemplate(v, fetchVars...); err != nil {
			return nil, field.Wrap("fetch.headers."+name, err)
		}
	}
	if f.Record != "" {
		if out.record, err = expr.Compile(f.Record, resultVars...); err != nil {
			return nil, field.Wrap("fetch.record", err)
		}
	}
	if f.Timeout != "" {
		d, err := time.ParseDuration(f.Timeout)
		if err != nil || d <= 0 || d > maxFetchTimeout {
			return nil, fieldErr("fetch.timeout", "must be a duration between 1ms and %s, e.g. \"5s\"", maxFetchTimeout)
		}
		out.timeout = d
	}
	return out, nil
}

// opFor returns the operation for an event type, if any pattern matches.
func (s *Spec) opFor(typ string) (op, bool) {
	for _, o := range s.ops {
		if event.Match(o.pattern, typ) {
			return o, true
		}
	}
	return op{}, false
}

// Patterns returns the spec's event type patterns, sorted.
func (s *Spec) Patterns() []string {
	out := make([]string, 0, len(s.ops))
	for _, o := range s.ops {
		out = append(out, o.pattern)
	}
	slices.Sort(out)
	return out
}
