package main

import (
	"errors"
	"fmt"
	"net/http"
	"syscall"
)

// unreachableError is the API server refusing the connection: nothing
// listens at the --server address.
type unreachableError struct {
	server string
	err    error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach the Hookline server at %s: connection refused — start it with 'hookline serve' or point --server / %s at it",
		e.server, envServer)
}

func (e *unreachableError) Unwrap() error { return e.err }

// serverTransport sends the CLI's API requests and turns a refused
// connection into an unreachableError naming the server. Other requests
// (a backfill's source) go through their own client: a refusal there is
// not the server's.
type serverTransport struct {
	server string
	base   http.RoundTripper
}

func (t serverTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil && errors.Is(err, syscall.ECONNREFUSED) {
		return nil, &unreachableError{server: t.server, err: err}
	}
	return resp, err
}
