// Package openapitest checks the HTTP exchanges of tests against the API's
// OpenAPI document (docs/openapi.json) with kin-openapi: Middleware wraps
// a real server's handler so that every /v1 request a test sends, and the
// server's answer, are validated, whatever client sent it.
//
// An exchange is a mismatch when the answer does not match the document
// (an undocumented success status, a body that is not its schema), or when
// the server accepted (2xx) a request the document refuses. A request the
// document refuses that the server refuses too is a test of a bad request,
// not a mismatch.
package openapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/hookline/hookline/docs"
	"github.com/hookline/hookline/internal/api"
)

// maxBody is the largest request or answer body checked; a larger one (a
// test of the body limit) has only its status and headers checked.
const maxBody = 32 << 20

// checker routes requests to the document's operations the way the
// server does: with a ServeMux of the server's own patterns.
type checker struct {
	doc    *openapi3.T
	mux    *http.ServeMux
	bodies *bodies
}

// matched is what the checker's mux found for a request.
type matched struct {
	pattern string
	params  map[string]string
}

type matchKey struct{}

// load reads and checks the document once per test binary.
var load = sync.OnceValues(func() (*checker, error) {
	// The server takes these YAML types for workflows too.
	openapi3filter.RegisterBodyDecoder("text/yaml", openapi3filter.YamlBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/x-yaml", openapi3filter.YamlBodyDecoder)
	doc, err := openapi3.NewLoader().LoadFromData(docs.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load docs/openapi.json: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("docs/openapi.json: %w", err)
	}
	b, err := newBodies()
	if err != nil {
		return nil, fmt.Errorf("docs/openapi.json: %w", err)
	}
	c := &checker{doc: doc, mux: http.NewServeMux(), bodies: b}
	for _, pattern := range append(api.Routes(), api.PublicRoutes()...) {
		_, path, _ := strings.Cut(pattern, " ")
		names := pathNames(path)
		c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			m := r.Context().Value(matchKey{}).(*matched)
			m.pattern = r.Pattern
			for _, n := range names {
				m.params[n] = r.PathValue(n)
			}
		})
	}
	return c, nil
})

// pathNames are the names of the wildcards of a ServeMux path.
func pathNames(path string) []string {
	var out []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") {
			out = append(out, strings.TrimSuffix(strings.TrimSuffix(strings.Trim(seg, "{}"), "..."), "$"))
		}
	}
	return out
}

// Load reads the document and returns an error when it does not load or
// validate; Middleware needs it.
func Load() error {
	_, err := load()
	return err
}

// Middleware returns a wrapper of a server's handler that checks every
// /v1 exchange against the document and calls report with each mismatch.
// The answer goes to the client unchanged, streams as they are written.
func Middleware(report func(error)) func(http.Handler) http.Handler {
	c, err := load()
	if err != nil {
		panic(err)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.URL.Path, "/v1/") {
				next.ServeHTTP(w, r)
				return
			}
			route, params := c.route(r)
			if route == nil {
				// No route: the server's 404 or 405.
				next.ServeHTTP(w, r)
				return
			}
			var body []byte
			if r.Body != nil && r.Body != http.NoBody {
				body, err = io.ReadAll(io.LimitReader(r.Body, maxBody+1))
				if err != nil {
					next.ServeHTTP(w, r)
					return
				}
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
			rec := &recorder{ResponseWriter: w}
			next.ServeHTTP(rec, r)
			if mismatch := c.check(r, route, params, body, rec); mismatch != nil {
				report(fmt.Errorf("%s %s: %w", r.Method, r.URL.RequestURI(), mismatch))
			}
		})
	}
}

// Check returns a wrapper of a server's handler (app.Options.Wrap) that
// checks every /v1 exchange against the document: a mismatch fails t. Its
// reports stop once t's cleanups registered before it, such as the one
// stopping the server, have run.
func Check(t testing.TB) func(http.Handler) http.Handler {
	var mu sync.Mutex
	done := false
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		done = true
	})
	return Middleware(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			t.Errorf("OpenAPI contract: %v", err)
		}
	})
}

// route finds the operation r is for, with its path parameters; nil when
// the server has no route for it.
func (c *checker) route(r *http.Request) (*routers.Route, map[string]string) {
	m := &matched{params: map[string]string{}}
	probe := r.Clone(context.WithValue(r.Context(), matchKey{}, m))
	probe.Body = http.NoBody
	c.mux.ServeHTTP(discard{}, probe)
	if m.pattern == "" {
		return nil, nil
	}
	method, path, _ := strings.Cut(m.pattern, " ")
	path = strings.ReplaceAll(path, "...}", "}")
	item := c.doc.Paths.Value(path)
	if item == nil {
		return nil, nil
	}
	op := item.GetOperation(r.Method)
	if op == nil || (method != r.Method) {
		return nil, nil
	}
	return &routers.Route{Spec: c.doc, Path: path, PathItem: item, Method: r.Method, Operation: op}, m.params
}

// Request checks a request against the document and returns the id of
// its operation; r's body is read and left for reading again.
func Request(r *http.Request) (string, error) {
	c, err := load()
	if err != nil {
		return "", err
	}
	route, params := c.route(r)
	if route == nil {
		return "", fmt.Errorf("%s %s: no operation of the document", r.Method, r.URL.Path)
	}
	var body []byte
	if r.Body != nil {
		if body, err = io.ReadAll(r.Body); err != nil {
			return "", err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	_, err = c.validateRequest(r, route, params, body)
	return route.Operation.OperationID, err
}

// validateRequest checks a request, whose body is body, against the
// document.
func (c *checker) validateRequest(r *http.Request, route *routers.Route, params map[string]string, body []byte) (*openapi3filter.RequestValidationInput, error) {
	req := r.Clone(r.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	ct := req.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case len(body) > 0 && (ct == "" || mt == "text/json"):
		// The server reads a body without a type, or of type text/json,
		// as JSON (docs/api.md, Requests).
		req.Header.Set("Content-Type", "application/json")
	case len(body) == 0 && route.Operation.RequestBody != nil && !route.Operation.RequestBody.Value.Required:
		// A left-out optional body, whatever its type (curl -d '').
		req.Header.Del("Content-Type")
	}
	mt, _, _ = mime.ParseMediaType(req.Header.Get("Content-Type"))
	// kin-openapi checks the parameters, and the YAML bodies; c.bodies
	// the JSON ones.
	jsonBody := mt == "application/json" || mt == ""
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: jsonBody || len(body) > maxBody},
	}
	if err := openapi3filter.ValidateRequest(r.Context(), in); err != nil {
		return in, err
	}
	rb := route.Operation.RequestBody
	if rb == nil || !jsonBody || len(body) > maxBody {
		return in, nil
	}
	if len(body) == 0 {
		if rb.Value.Required {
			return in, fmt.Errorf("the request has no body; the document requires one")
		}
		return in, nil
	}
	if rb.Value.Content.Get("application/json") == nil {
		return in, fmt.Errorf("the request body is JSON; the document takes none")
	}
	return in, c.bodies.validate(requestSchema(route.Path, route.Method, "application/json"), body, true)
}

// check validates one exchange.
func (c *checker) check(r *http.Request, route *routers.Route, params map[string]string, body []byte, rec *recorder) error {
	status := rec.code()
	in, reqErr := c.validateRequest(r, route, params, body)
	if reqErr != nil && status >= 200 && status < 300 {
		return fmt.Errorf("the server answered %d to a request the document refuses: %w", status, reqErr)
	}
	if status >= 200 && status < 300 && route.Operation.Responses.Status(status) == nil {
		return fmt.Errorf("the server answered %d, which the document does not list", status)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 rec.Header(),
		Body:                   io.NopCloser(bytes.NewReader(nil)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: true},
	}
	if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
		return fmt.Errorf("the answer %d does not match the document: %w", status, err)
	}
	mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	if rec.truncated || status == http.StatusNoContent || r.Method == http.MethodHead || (rec.body.Len() == 0 && mt == "") {
		return nil
	}
	ptr, ok := c.bodies.responseSchema(route.Path, route.Method, strconv.Itoa(status), mt)
	if ok {
		_, ok = c.bodies.lookup(ptr)
	}
	if !ok {
		return fmt.Errorf("the answer %d is %q, which the document does not list for it", status, mt)
	}
	if mt == "text/event-stream" {
		// A stream's body is events, not one value.
		return nil
	}
	if err := c.bodies.validate(ptr, rec.body.Bytes(), false); err != nil {
		return fmt.Errorf("the answer %d does not match the document: %w\nbody: %s", status, err, clip(rec.body.Bytes()))
	}
	return nil
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "… (" + strconv.Itoa(len(b)) + " bytes)"
	}
	return string(b)
}

// recorder passes an answer through, keeping a copy of its status and
// body (not of a stream's).
type recorder struct {
	http.ResponseWriter
	status    int
	body      bytes.Buffer
	truncated bool
	streaming bool
}

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 && status >= 200 {
		r.status = status
		r.streaming = strings.HasPrefix(r.Header().Get("Content-Type"), "text/event-stream")
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if !r.streaming {
		if r.body.Len()+len(p) > maxBody {
			r.truncated = true
		} else {
			r.body.Write(p)
		}
	}
	return r.ResponseWriter.Write(p)
}

// Flush flushes a stream's events to the client as the server writes them.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (write
// deadlines of long polls and streams).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// discard is the answer of the checker's routing probe, which writes none.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}
