// Package openapi writes the OpenAPI 3.1 document of Hookline's /v1 API
// (docs/openapi.json, which the server embeds and serves at GET
// /v1/openapi.json). The schemas come from the wire types by reflection,
// with their doc comments as descriptions; what the types cannot say (the
// routes, their operation ids, parameters, statuses and examples) is the
// table of operations in routes.go. go generate in docs/ runs Generate,
// and a test fails when the committed document differs from what it
// gives, so the document and the wire types cannot drift apart.
package openapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/wire"
)

// Version is the OpenAPI version of the document.
const Version = "3.1.0"

var exampleTime = wire.TimeOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))

// Patterns returns the route patterns the document has, such as "POST
// /v1/events", in the order of the table.
func Patterns() []string {
	out := make([]string, len(operations))
	for i, op := range operations {
		out[i] = op.pattern
	}
	return out
}

// Generate returns the document, indented JSON ending in a newline.
// wireDir is the wire package's source directory, whose doc comments
// become the schemas' descriptions.
func Generate(wireDir string) ([]byte, error) {
	d, err := readDocs(wireDir)
	if err != nil {
		return nil, fmt.Errorf("read wire docs: %w", err)
	}
	doc, err := build(d)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode document: %w", err)
	}
	return buf.Bytes(), nil
}

// yamlTypes are the media types of a YAML body.
var yamlTypes = []string{"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}

// errorAnswers are the error answers every operation documents; which
// apply depends on the route (errorsOf). Each is a response component
// with the error body.
var errorAnswers = []struct {
	status      int
	name, about string
}{
	{http.StatusBadRequest, "BadRequest", "The request is malformed: invalid JSON, a bad query parameter or path (bad_request, invalid_json)."},
	{http.StatusUnauthorized, "Unauthorized", "The API key is missing or invalid (unauthorized)."},
	{http.StatusNotFound, "NotFound", "The resource the path names does not exist in the caller's tenant (not_found)."},
	{http.StatusConflict, "Conflict", "The resource already exists, or the change conflicts with another (conflict)."},
	{http.StatusRequestEntityTooLarge, "PayloadTooLarge", "The body is larger than the limit (payload_too_large)."},
	{http.StatusUnsupportedMediaType, "UnsupportedMediaType", "The body's Content-Type is not JSON (unsupported_media_type)."},
	{http.StatusUnprocessableEntity, "ValidationFailed", "A field's value is refused; details.field names it (validation_failed, schema_violation)."},
}

// errorsOf are the statuses of the error answers op has, besides the
// default answer, which covers the others (403, 410, 5xx).
func errorsOf(op operation) []int {
	if op.public {
		return nil
	}
	out := []int{http.StatusBadRequest, http.StatusUnauthorized}
	if strings.Contains(op.pattern, "{") {
		out = append(out, http.StatusNotFound)
	}
	if op.body != nil {
		out = append(out, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity)
	}
	return out
}

func build(d docs) (schema, error) {
	s := &schemas{docs: d, components: map[string]schema{}, names: map[string]reflect.Type{}}
	errBody := s.of(reflect.TypeFor[errorBody]())
	paths := schema{}
	seen := map[string]bool{}
	for _, op := range operations {
		if seen[op.id] {
			return nil, fmt.Errorf("operation id %s twice", op.id)
		}
		seen[op.id] = true
		method, path, ok := strings.Cut(op.pattern, " ")
		if !ok {
			return nil, fmt.Errorf("pattern %q has no method", op.pattern)
		}
		path = strings.ReplaceAll(path, "...}", "}")
		item, _ := paths[path].(schema)
		if item == nil {
			item = schema{}
			paths[path] = item
		}
		o, err := s.operation(op, path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op.pattern, err)
		}
		item[strings.ToLower(method)] = o
	}
	responses := schema{}
	for _, e := range errorAnswers {
		responses[e.name] = schema{"description": e.about, "headers": requestIDHeader,
			"content": schema{"application/json": schema{"schema": errBody}}}
	}
	responses["DefaultError"] = schema{"description": "Any other error: 403 forbidden, 410 deleted, 5xx (with Retry-After for a database fault).",
		"headers": requestIDHeader, "content": schema{"application/json": schema{"schema": errBody}}}
	return schema{
		"openapi": Version,
		"info": schema{
			"title":   "Hookline API",
			"version": "1",
			"summary": "Send and receive webhooks.",
			"description": "The REST API of Hookline under /v1. Every request but GET /v1/openapi.json needs an API key as a bearer token; " +
				"every error answer is {\"error\": {\"code\", \"message\", \"details\"}}. docs/api.md is the guide to it.",
			"license": schema{"name": "Apache-2.0", "identifier": "Apache-2.0"},
		},
		"servers":  []any{schema{"url": "/"}},
		"security": []any{schema{"bearerAuth": []any{}}},
		"paths":    paths,
		"components": schema{
			"schemas":   s.components,
			"responses": responses,
			"headers": schema{
				"RequestId": schema{"description": "The request's id: the client's X-Request-Id when it sent a sane one (1–128 letters, digits and -_.:), " +
					"else a new one. The access log line of the request names it.", "schema": schema{"type": "string", "maxLength": 128}},
			},
			"parameters": schema{
				"limit": schema{"name": "limit", "in": "query", "description": "At most this many items, from 1 to 1000; default 100.",
					"schema": schema{"type": "integer", "minimum": 1, "maximum": 1000}},
				"cursor": schema{"name": "cursor", "in": "query", "description": "The next_cursor of an earlier page of this list, unchanged.",
					"schema": schema{"type": "string"}},
			},
			"securitySchemes": schema{
				"bearerAuth": schema{"type": "http", "scheme": "bearer", "description": "An API key: Authorization: Bearer hk_…"},
			},
		},
	}, nil
}

// requestIDHeader is the header of every answer: X-Request-Id.
var requestIDHeader = schema{"X-Request-Id": schema{"$ref": "#/components/headers/RequestId"}}

// errorBody is the body of every error answer.
type errorBody struct {
	Error wire.Error `json:"error"`
}

func (s *schemas) operation(op operation, path string) (schema, error) {
	if op.id == "" || op.summary == "" || len(op.answers) == 0 {
		return nil, fmt.Errorf("an operation needs an id, a summary and an answer")
	}
	o := schema{"operationId": op.id, "summary": op.summary, "tags": []any{tag(path)}}
	if op.description != "" {
		o["description"] = op.description
	}
	if op.public {
		o["security"] = []any{}
	}
	var params []any
	for _, name := range pathParams(path) {
		params = append(params, schema{"name": name, "in": "path", "required": true, "schema": schema{"type": "string"}})
	}
	if op.paged {
		params = append(params, schema{"$ref": "#/components/parameters/limit"}, schema{"$ref": "#/components/parameters/cursor"})
	}
	for _, p := range op.query {
		ps := schema{"type": p.kind}
		if p.kind == "date-time" {
			ps = schema{"type": "string", "format": "date-time"}
		}
		if p.enum != nil {
			ps["enum"] = p.enum
		}
		params = append(params, schema{"name": p.name, "in": "query", "description": p.description, "schema": ps})
	}
	if op.idempotencyKey {
		params = append(params, schema{"name": "Idempotency-Key", "in": "header", "schema": schema{"type": "string", "maxLength": 256},
			"description": "Publishing again with the same key returns the first event instead of a new one; the same as idempotency_key in the body."})
	}
	if op.traceparent {
		params = append(params, schema{"name": "traceparent", "in": "header", "schema": schema{"type": "string", "maxLength": 55},
			"description": "A W3C trace context: kept with the event, and every delivery and workflow call made for it carries the trace on."})
	}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if op.body != nil {
		media := schema{"schema": s.of(reflect.TypeOf(op.body))}
		if op.namedBy != "" {
			media["schema"] = namedBy(s.object(reflect.TypeOf(op.body)), op.namedBy, s.docs[reflect.TypeOf(op.body).Name()])
		}
		if op.example != nil {
			media["example"] = op.example
		}
		content := schema{"application/json": media}
		if op.yaml {
			for _, t := range yamlTypes {
				content[t] = schema{"schema": media["schema"]}
			}
		}
		rb := schema{"required": !op.bodyOptional, "content": content}
		if op.bodyOptional {
			rb["description"] = "Optional: an empty body takes the defaults."
		}
		o["requestBody"] = rb
	}
	responses := schema{}
	for i, a := range op.answers {
		r := schema{"description": cmp.Or(a.description, http.StatusText(a.status)), "headers": requestIDHeader}
		switch {
		case a.raw:
			r["content"] = schema{"application/json": schema{"schema": schema{"type": "object"}}}
		case a.stream:
			r["content"] = schema{"text/event-stream": schema{"schema": schema{"type": "string"}}}
		case a.body != nil:
			media := schema{"schema": s.of(reflect.TypeOf(a.body))}
			if i == 0 && op.answerExample != nil {
				media["example"] = op.answerExample
			}
			content := schema{"application/json": media}
			if a.alsoStream {
				content["text/event-stream"] = schema{"schema": schema{"type": "string"}}
			}
			r["content"] = content
		}
		responses[strconv.Itoa(a.status)] = r
	}
	for _, st := range errorsOf(op) {
		for _, e := range errorAnswers {
			if e.status == st {
				responses[strconv.Itoa(st)] = schema{"$ref": "#/components/responses/" + e.name}
			}
		}
	}
	responses["default"] = schema{"$ref": "#/components/responses/DefaultError"}
	o["responses"] = responses
	return o, nil
}

// namedBy is obj, the schema of a body, with its property name no longer
// required: the path names it.
func namedBy(obj schema, name, doc string) schema {
	var req []any
	for _, r := range obj["required"].([]any) {
		if r != name {
			req = append(req, r)
		}
	}
	delete(obj, "required")
	if len(req) > 0 {
		obj["required"] = req
	}
	obj["description"] = strings.TrimSpace(doc + " The path names it: " + name + " may be left out, and may not differ.")
	return obj
}

// tag groups an operation by the first segment of its path under /v1.
func tag(path string) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(path, "/v1/"), "/")
	return seg
}

// pathParams are the names of path's {parameters}, in order.
func pathParams(path string) []string {
	var out []string
	for rest := path; ; {
		i := strings.Index(rest, "{")
		if i < 0 {
			return out
		}
		j := strings.Index(rest[i:], "}")
		out = append(out, rest[i+1:i+j])
		rest = rest[i+j:]
	}
}
