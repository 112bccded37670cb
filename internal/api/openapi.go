package api

import (
	"net/http"

	"github.com/hookline/hookline/docs"
)

// publicRoutes are the /v1 routes served without an API key: the API's
// OpenAPI document (docs/openapi.json, embedded in the binary).
var publicRoutes = []string{"GET /v1/openapi.json"}

// PublicRoutes returns the pattern of every /v1 route that needs no API
// key; Routes has the others.
func PublicRoutes() []string { return append([]string(nil), publicRoutes...) }

// serveOpenAPI answers GET /v1/openapi.json with the OpenAPI document.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(docs.OpenAPI)
}
