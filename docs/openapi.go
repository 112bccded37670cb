// Package docs holds Hookline's documentation. Its one piece of Go embeds
// openapi.json, the OpenAPI document of the /v1 API, which the server
// serves at GET /v1/openapi.json. go generate writes the document from the
// wire types (internal/openapi); go generate ./internal/openapi/oapiclient
// then makes a client of it with oapi-codegen.
package docs

import _ "embed"

//go:generate go run ../internal/openapi/gen -o openapi.json -wire ../wire

// OpenAPI is the OpenAPI 3.1 document of the /v1 API.
//
//go:embed openapi.json
var OpenAPI []byte
