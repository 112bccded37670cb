// Package wire is the Hookline API's wire format: the request, response
// and spec types its JSON bodies are made of (Endpoint, EventCreate,
// Declaration, WorkflowSpec, Page, Error, …), and Time, the way the API
// writes times.
//
// The server and the Go client both import it, so the two cannot drift
// apart, and it is the source of the API's OpenAPI document. It holds
// types and their JSON encoding only: no HTTP, no storage and no domain
// rules. The Go client re-exports every type under the same name
// (client.Endpoint is wire.Endpoint), so client users need not import it.
package wire
