package openapi_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/docs"
	"github.com/hookline/hookline/internal/api"
	"github.com/hookline/hookline/internal/openapi"
)

// TestDocumentIsGenerated fails when docs/openapi.json is not what the
// wire types and the table of operations give: run go generate ./docs.
func TestDocumentIsGenerated(t *testing.T) {
	t.Parallel()
	got, err := openapi.Generate("../../wire")
	require.NoError(t, err)
	if string(got) != string(docs.OpenAPI) {
		t.Fatal("docs/openapi.json is not what internal/openapi generates from the wire types: run go generate ./docs and commit it")
	}
}

func load(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(docs.OpenAPI)
	require.NoError(t, err)
	return doc
}

// TestDocumentValidates checks the document with kin-openapi's validator,
// examples included, and that every operation has an id, a summary and
// the error answers with the error body.
func TestDocumentValidates(t *testing.T) {
	t.Parallel()
	doc := load(t)
	require.Equal(t, openapi.Version, doc.OpenAPI)
	require.NoError(t, doc.Validate(t.Context(), openapi3.EnableExamplesValidation()))

	examples := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			require.NotEmpty(t, op.OperationID, name)
			require.NotEmpty(t, op.Summary, name)
			def := op.Responses.Default()
			require.NotNil(t, def, "%s has no default (error) answer", name)
			require.NotNil(t, def.Value.Content.Get("application/json").Schema.Value.Properties["error"], name)
			if op.Security == nil || len(*op.Security) > 0 {
				require.NotNil(t, op.Responses.Status(401), "%s needs a key: it answers 401", name)
			}
			if rb := op.RequestBody; rb != nil && rb.Value.Content.Get("application/json").Example != nil {
				examples[op.OperationID] = true
			}
			for _, r := range op.Responses.Map() {
				if mt := r.Value.Content.Get("application/json"); mt != nil && mt.Example != nil {
					examples[op.OperationID] = true
				}
			}
		}
	}
	for _, id := range []string{"createEndpoint", "publishEvent", "listDeliveries", "createSource", "createSubscription", "createTenant", "createCollection"} {
		require.True(t, examples[id], "%s has no example", id)
	}
}

// TestRoutesMatchDocument fails when the router has a /v1 route the
// document lacks, or the other way round.
func TestRoutesMatchDocument(t *testing.T) {
	t.Parallel()
	routes := append(api.Routes(), api.PublicRoutes()...)
	var inDoc []string
	for path, item := range load(t).Paths.Map() {
		for method := range item.Operations() {
			inDoc = append(inDoc, method+" "+path)
		}
	}
	norm := func(ps []string) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = strings.ReplaceAll(p, "...}", "}")
		}
		slices.Sort(out)
		return out
	}
	require.Equal(t, norm(routes), norm(inDoc), "the router's /v1 routes and the document's operations differ")
	require.ElementsMatch(t, routes, openapi.Patterns(), "internal/openapi's table and internal/api's routes differ")
}

// TestAPIReferenceListsRoutes fails when docs/api.md's table of routes
// and the document disagree: a route one has and the other lacks, or a
// route's success statuses.
func TestAPIReferenceListsRoutes(t *testing.T) {
	t.Parallel()
	md, err := os.ReadFile("../../docs/api.md")
	require.NoError(t, err)
	require.True(t, strings.Contains(string(md), "](openapi.json)"), "docs/api.md links to the document")
	row := regexp.MustCompile("(?m)^\\| `((?:GET|POST|PUT|PATCH|DELETE) /v1/[^`]*)` \\| ([^|]*) \\|")
	listed := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(md), -1) {
		var ok []string
		for st := range strings.SplitSeq(m[2], "/") {
			if st = strings.TrimSpace(st); strings.HasPrefix(st, "2") {
				ok = append(ok, st)
			}
		}
		slices.Sort(ok)
		listed[m[1]] = ok
	}
	inDoc := map[string][]string{}
	for path, item := range load(t).Paths.Map() {
		for method, op := range item.Operations() {
			var ok []string
			for st := range op.Responses.Map() {
				if strings.HasPrefix(st, "2") {
					ok = append(ok, st)
				}
			}
			slices.Sort(ok)
			inDoc[method+" "+path] = ok
		}
	}
	require.Equal(t, inDoc, listed, "docs/api.md's table of routes (route, success statuses) and docs/openapi.json differ")
}
