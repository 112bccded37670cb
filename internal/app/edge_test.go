package app_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// rawAnswer is an answer to a request written byte for byte.
type rawAnswer struct {
	status int
	header http.Header
	body   []byte
	// close is whether the answer said Connection: close.
	close bool
}

// wire writes request to the server on a new connection as is (no client
// cleans its path or checks its headers) and reads one answer.
func (b *bundle) wire(request string) rawAnswer {
	b.t.Helper()
	conn, err := net.Dial("tcp", b.app.Addr())
	require.NoError(b.t, err)
	defer conn.Close()
	require.NoError(b.t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	// The server may answer and hang up before it has read all of a large
	// request, so write while reading.
	go func() { _, _ = io.WriteString(conn, request) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(b.t, err, "request %.60q", request)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return rawAnswer{status: resp.StatusCode, header: resp.Header, body: body, close: resp.Close}
}

// requireJSONError checks that an answer is a JSON error with status and
// code, and returns its message.
func requireJSONError(t *testing.T, a rawAnswer, status int, code string) string {
	t.Helper()
	require.Equal(t, status, a.status, "body: %s", a.body)
	require.Equal(t, "application/json", a.header.Get("Content-Type"), "body: %s", a.body)
	require.Empty(t, a.header.Get("Location"), "no redirect")
	var out struct {
		Error *client.Error `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(string(a.body)))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&out), "body: %s", a.body)
	require.NotNil(t, out.Error, "body: %s", a.body)
	require.Equal(t, code, out.Error.Code, "body: %s", a.body)
	require.NotEmpty(t, out.Error.Message)
	return out.Error.Message
}

// TestServerErrorsAreJSON checks the answers net/http's server writes
// itself, before any handler: they carry the API's JSON error shape.
func TestServerErrorsAreJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)

	big := "GET /v1/endpoints HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b.key + "\r\nX-Big: " +
		strings.Repeat("a", 100<<10) + "\r\n\r\n"
	a := b.wire(big)
	msg := requireJSONError(t, a, http.StatusRequestHeaderFieldsTooLarge, "headers_too_large")
	require.Contains(t, msg, "65536 bytes")
	require.True(t, a.close, "Connection: close")
	require.Equal(t, strconv.Itoa(len(a.body)), a.header.Get("Content-Length"))

	for _, c := range []struct {
		name, request string
		status        int
		code, msg     string
	}{
		{"malformed request line", "GARBAGE\r\n\r\n", 400, "bad_request", "malformed HTTP request"},
		{"no Host", "GET /healthz HTTP/1.1\r\n\r\n", 400, "bad_request", "missing required Host header"},
		{"bad header name", "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", 400, "bad_request", "invalid header name"},
		{"bad header value", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", 400, "bad_request", "malformed HTTP request"},
		{"unknown transfer encoding", "POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "not_implemented", "unsupported transfer encoding"},
		{"HTTP/2 without preface", "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505, "http_version_not_supported", "unsupported protocol version"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := b.wire(c.request)
			msg := requireJSONError(t, a, c.status, c.code)
			require.Equal(t, c.msg, msg)
		})
	}

	// The server still answers well-formed requests on the same port.
	a = b.wire("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	require.Equal(t, 200, a.status)
	require.JSONEq(t, `{"status":"ok"}`, string(a.body))
}

// TestRoutingAnswersAreJSON checks that paths ServeMux would redirect, and
// routes it has not, answer JSON errors: no redirect, no plain text.
func TestRoutingAnswersAreJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	get := func(method, target string) rawAnswer {
		return b.wire(method + " " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b.key + "\r\nConnection: close\r\n\r\n")
	}

	for _, target := range []string{
		"/v1/../../etc/passwd",
		"/v1/endpoints/../api-keys",
		"/v1/./endpoints",
		"//v1/endpoints",
		"/v1//endpoints",
		"/v1/endpoints/.",
		"/healthz/..",
		"/in/../v1/endpoints",
		"/..",
		"/v1",
	} {
		for _, method := range []string{"GET", "POST", "DELETE"} {
			a := get(method, target)
			requireJSONError(t, a, http.StatusNotFound, "not_found")
		}
	}

	for _, c := range []struct {
		method, target string
		status         int
		code, allow    string
	}{
		{"GET", "/nope", 404, "not_found", ""},
		{"GET", "/in/", 404, "not_found", ""},
		{"GET", "/in/a/b", 404, "not_found", ""},
		{"GET", "/v1/nope", 404, "not_found", ""},
		{"GET", "/v1/endpoints/", 404, "not_found", ""},
		{"POST", "/healthz", 405, "method_not_allowed", "GET"},
		{"DELETE", "/metrics", 405, "method_not_allowed", "GET"},
		{"PUT", "/inbox", 405, "method_not_allowed", "GET, OPTIONS"},
		{"DELETE", "/v1/endpoints", 405, "method_not_allowed", "GET, POST"},
		{"PUT", "/v1/runs/run_1", 405, "method_not_allowed", "GET"},
	} {
		a := get(c.method, c.target)
		requireJSONError(t, a, c.status, c.code)
		require.Equal(t, c.allow, a.header.Get("Allow"), "%s %s", c.method, c.target)
	}

	// A clean path still reaches its route.
	a := get("GET", "/v1/endpoints")
	require.Equal(t, 200, a.status, "body: %s", a.body)
}
