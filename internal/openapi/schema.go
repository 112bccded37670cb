package openapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/hookline/hookline/wire"
)

// schema is a JSON Schema (2020-12, as OpenAPI 3.1 has it) or any other
// object of the document; encoding/json writes its keys sorted, so the
// document comes out the same for the same input.
type schema = map[string]any

// docs are the doc comments of the wire package: of a type by its name,
// of a field by "Type.Field". They become the descriptions of the
// schemas and their properties.
type docs map[string]string

// readDocs parses the Go files of dir (the wire package) for the doc
// comments of its types and their fields.
func readDocs(dir string) (docs, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	d := docs{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				d[ts.Name.Name] = text(doc)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, fld := range st.Fields.List {
					c := text(fld.Doc)
					if c == "" {
						c = text(fld.Comment)
					}
					for _, n := range fld.Names {
						d[ts.Name.Name+"."+n.Name] = c
					}
				}
			}
		}
	}
	return d, nil
}

// text is a comment group as one line of prose.
func text(g *ast.CommentGroup) string {
	if g == nil {
		return ""
	}
	return strings.Join(strings.Fields(g.Text()), " ")
}

// schemas turns Go types into schemas: a named struct becomes a component
// of its name, referred to with $ref; an anonymous one is written inline.
type schemas struct {
	docs       docs
	components map[string]schema
	// names are the component names taken, by Go type, so that two types
	// of one name fail instead of one replacing the other.
	names map[string]reflect.Type
}

var (
	timeType     = reflect.TypeFor[time.Time]()
	wireTimeType = reflect.TypeFor[wire.Time]()
	rawType      = reflect.TypeFor[json.RawMessage]()
	opType       = reflect.TypeFor[wire.CollectionOp]()
	schedsType   = reflect.TypeFor[wire.WorkflowSchedules]()
)

// special returns the schema of the types that encode themselves
// (json.Marshaler): reflection cannot see what they write. A new such type
// in a body fails the generator until it is added here.
func (s *schemas) special(t reflect.Type) (schema, bool) {
	switch t {
	case timeType, wireTimeType:
		return schema{"type": "string", "format": "date-time"}, true
	case rawType:
		return schema{}, true
	case opType:
		// CollectionOp is its name alone, or an object with a map.
		return s.component(opType, func(s *schemas) schema {
			return schema{"oneOf": []any{
				schema{"type": "string", "enum": []any{"upsert", "merge", "delete"}},
				s.object(opType),
			}}
		}), true
	case schedsType:
		// One schedule, or a list of them.
		one := s.of(reflect.TypeFor[wire.WorkflowSchedule]())
		return schema{"oneOf": []any{one, schema{"type": "array", "items": one}}}, true
	}
	return nil, false
}

var (
	marshaler     = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// of returns the schema of values of t.
func (s *schemas) of(t reflect.Type) schema {
	if t.Kind() == reflect.Pointer {
		return s.of(t.Elem())
	}
	if sc, ok := s.special(t); ok {
		return sc
	}
	if t.Implements(marshaler) || t.Implements(textMarshaler) {
		panic(fmt.Sprintf("openapi: %s encodes itself: give it a schema in special", t))
	}
	switch t.Kind() {
	case reflect.String:
		return schema{"type": "string"}
	case reflect.Bool:
		return schema{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return schema{"type": "integer", "format": "int64"}
	case reflect.Int32, reflect.Int16, reflect.Int8:
		return schema{"type": "integer", "format": "int32"}
	case reflect.Float64, reflect.Float32:
		return schema{"type": "number", "format": "double"}
	case reflect.Slice, reflect.Array:
		return schema{"type": "array", "items": s.of(t.Elem())}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic(fmt.Sprintf("openapi: map key of %s is not a string", t))
		}
		return schema{"type": "object", "additionalProperties": s.of(t.Elem())}
	case reflect.Interface:
		return schema{}
	case reflect.Struct:
		if t.Name() == "" {
			return s.object(t)
		}
		return s.component(t, func(s *schemas) schema { return s.object(t) })
	}
	panic(fmt.Sprintf("openapi: no schema for %s", t))
}

// component adds t's schema, made by f, to the components once and returns
// a reference to it.
func (s *schemas) component(t reflect.Type, f func(*schemas) schema) schema {
	name := componentName(t)
	ref := schema{"$ref": "#/components/schemas/" + name}
	if prev, ok := s.names[name]; ok {
		if prev != t {
			panic(fmt.Sprintf("openapi: %s and %s are both component %s", prev, t, name))
		}
		return ref
	}
	s.names[name] = t
	sc := f(s)
	if d := s.docs[baseName(t)]; d != "" {
		sc["description"] = d
	}
	s.components[name] = sc
	return ref
}

// componentName is the name of t's component: its Go name, and for an
// instance of a generic type its argument first, such as EndpointPage for
// wire.Page[wire.Endpoint].
func componentName(t reflect.Type) string {
	name := t.Name()
	base, arg, ok := strings.Cut(name, "[")
	if !ok {
		return name
	}
	arg = strings.TrimSuffix(arg, "]")
	arg = arg[strings.LastIndex(arg, ".")+1:]
	return arg + base
}

// baseName is t's Go name without type arguments: the key of its docs.
func baseName(t reflect.Type) string {
	name, _, _ := strings.Cut(t.Name(), "[")
	return name
}

// readOnly are the fields, "Type.Field", of types that requests carry too
// which the server sets and ignores in a request: required in answers
// only.
var readOnly = map[string]bool{
	"EventType.CreatedAt": true,
}

// object is the schema of struct t: its JSON fields as properties, those
// without omitempty or omitzero required (encoding/json always writes
// them), and the fields of embedded structs in line.
func (s *schemas) object(t reflect.Type) schema {
	props := schema{}
	var required []any
	s.fields(t, props, &required)
	out := schema{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

func (s *schemas) fields(t reflect.Type, props schema, required *[]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			s.fields(f.Type, props, required)
			continue
		}
		if name == "" {
			name = f.Name
		}
		p := s.of(f.Type)
		// A $ref keeps the description of the schema it names.
		if d := s.docs[baseName(t)+"."+f.Name]; d != "" && t.Name() != "" && p["$ref"] == nil {
			p["description"] = d
		}
		if readOnly[baseName(t)+"."+f.Name] {
			p["readOnly"] = true
		}
		props[name] = p
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			*required = append(*required, name)
		}
	}
}
