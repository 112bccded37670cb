package openapitest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/hookline/hookline/docs"
)

// bodies validates JSON bodies against the document's schemas, each
// compiled once: kin-openapi compiles a schema again for every value it
// validates in an OpenAPI 3.1 document, which made checking an exchange
// cost about a millisecond of CPU. The whole document is one resource of
// the compiler, so the schemas' $refs resolve within it.
type bodies struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	compiled map[string]*jsonschema.Schema // by JSON pointer
}

// docURL names the document for answers; requestURL a copy for requests,
// in which readOnly properties are not required.
const (
	docURL     = "https://hookline.invalid/openapi.json"
	requestURL = "https://hookline.invalid/request.json"
)

func newBodies() (*bodies, error) {
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(docs.OpenAPI))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, raw); err != nil {
		return nil, err
	}
	forRequests, err := jsonschema.UnmarshalJSON(bytes.NewReader(docs.OpenAPI))
	if err != nil {
		return nil, err
	}
	dropReadOnly(forRequests)
	if err := c.AddResource(requestURL, forRequests); err != nil {
		return nil, err
	}
	return &bodies{doc: raw.(map[string]any), compiler: c, compiled: map[string]*jsonschema.Schema{}}, nil
}

// dropReadOnly removes the readOnly properties from the required lists of
// the schemas within v: a request may leave them out (OpenAPI's readOnly).
func dropReadOnly(v any) {
	switch v := v.(type) {
	case map[string]any:
		if props, ok := v["properties"].(map[string]any); ok {
			if req, ok := v["required"].([]any); ok {
				kept := []any{}
				for _, name := range req {
					if p, ok := props[name.(string)].(map[string]any); !ok || p["readOnly"] != true {
						kept = append(kept, name)
					}
				}
				v["required"] = kept
			}
		}
		for _, e := range v {
			dropReadOnly(e)
		}
	case []any:
		for _, e := range v {
			dropReadOnly(e)
		}
	}
}

// escape is a JSON pointer token of name.
func escape(name string) string {
	return strings.ReplaceAll(strings.ReplaceAll(name, "~", "~0"), "/", "~1")
}

// lookup follows a JSON pointer of the document.
func (b *bodies) lookup(ptr string) (any, bool) {
	var v any = b.doc
	for tok := range strings.SplitSeq(strings.TrimPrefix(ptr, "#/"), "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		if v, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return v, true
}

// resolve follows ptr and, when it is a $ref, the reference, returning the
// pointer it ends at.
func (b *bodies) resolve(ptr string) (string, bool) {
	v, ok := b.lookup(ptr)
	if !ok {
		return "", false
	}
	if m, isMap := v.(map[string]any); isMap {
		if ref, isRef := m["$ref"].(string); isRef {
			return b.resolve(ref)
		}
	}
	return ptr, true
}

// requestSchema is the pointer of the schema of the request body of
// method path in media type mt.
func requestSchema(path, method, mt string) string {
	return "#/paths/" + escape(path) + "/" + strings.ToLower(method) + "/requestBody/content/" + escape(mt) + "/schema"
}

// responseSchema is the pointer of the schema of the answer status (or
// the default answer) of method path in media type mt; false when there is
// none.
func (b *bodies) responseSchema(path, method, status, mt string) (string, bool) {
	base := "#/paths/" + escape(path) + "/" + strings.ToLower(method) + "/responses/"
	resp, ok := b.resolve(base + status)
	if !ok {
		if resp, ok = b.resolve(base + "default"); !ok {
			return "", false
		}
	}
	return resp + "/content/" + escape(mt) + "/schema", true
}

// validate checks a JSON body against the schema at ptr, of a request or
// of an answer.
func (b *bodies) validate(ptr string, body []byte, request bool) error {
	loc := docURL + ptr
	if request {
		loc = requestURL + ptr
	}
	b.mu.Lock()
	sch, ok := b.compiled[loc]
	if !ok {
		var err error
		if sch, err = b.compiler.Compile(loc); err != nil {
			b.mu.Unlock()
			return fmt.Errorf("compile %s: %w", ptr, err)
		}
		b.compiled[loc] = sch
	}
	b.mu.Unlock()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("body does not match %s: %w", ptr, err)
	}
	return nil
}
