// Package oapiclient is a Go client of the API generated from its OpenAPI
// document (docs/openapi.json) by oapi-codegen, a standard generator: the
// proof that the document is enough to make a working client
// (TestGeneratedClient in internal/app runs one against a real server).
// Hookline's own Go client is package client; use that one.
package oapiclient

//go:generate go tool oapi-codegen -config config.yaml ../../../docs/openapi.json
