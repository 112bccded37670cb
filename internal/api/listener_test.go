package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/wire"
)

// TestErrorListenerLeavesHandlersAlone checks that a handler's own
// plain-text error, as close to the server's as a handler can write it,
// goes out unchanged, while the server's own error becomes JSON.
func TestErrorListenerLeavesHandlersAlone(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		w.Header().Set("Connection", "close")
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
	}), ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 1 << 10}
	go func() { _ = srv.Serve(ErrorListener(ln, 1<<10)) }()
	t.Cleanup(func() { srv.Close() })

	send := func(request string) (*http.Response, []byte) {
		conn, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		defer conn.Close()
		require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
		_, err = io.WriteString(conn, request)
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, body
	}

	resp, body := send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, "400 Bad Request\n", string(body))

	resp, body = send("GET / HTTP/1.1\r\n\r\n")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.JSONEq(t, `{"error": {"code": "bad_request", "message": "missing required Host header"}}`, string(body))

	resp, body = send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 8<<10) + "\r\n\r\n")
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	require.JSONEq(t, `{"error": {"code": "headers_too_large", "message": "request line and headers are larger than 1024 bytes"}}`, string(body))
}

func TestRewriteServerError(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, status, code, msg string
	}{
		{"HTTP/1.1 431 Request Header Fields Too Large" + serverErrorHeaders + "431 Request Header Fields Too Large",
			"431 Request Header Fields Too Large", codeHeadersTooLarge, "request line and headers are larger than 65536 bytes"},
		{"HTTP/1.1 400 Bad Request" + serverErrorHeaders + "400 Bad Request", "400 Bad Request", codeBadRequest, "malformed HTTP request"},
		{"HTTP/1.1 400 Bad Request: invalid header name" + serverErrorHeaders + "400 Bad Request: invalid header name",
			"400 Bad Request", codeBadRequest, "invalid header name"},
		{"HTTP/1.1 501 Not Implemented" + serverErrorHeaders + "Unsupported transfer encoding",
			"501 Not Implemented", codeNotImplemented, "unsupported transfer encoding"},
		{"HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version" + serverErrorHeaders + "505 HTTP Version Not Supported: unsupported protocol version",
			"505 HTTP Version Not Supported", codeHTTPVersion, "unsupported protocol version"},
	} {
		out, ok := rewriteServerError([]byte(c.in), 64<<10)
		require.True(t, ok, c.in)
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
		require.NoError(t, err)
		require.Equal(t, c.status, resp.Status)
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		require.True(t, resp.Close, "Connection: close")
		var body struct{ Error wire.Error }
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		require.Equal(t, wire.Error{Code: c.code, Message: c.msg}, body.Error)
	}

	for _, in := range []string{
		// Handlers' answers: other headers, or a success.
		"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n400 Bad Request",
		"HTTP/1.1 200 OK" + serverErrorHeaders + "200 OK",
		"HTTP/1.1 400 Not A Reason" + serverErrorHeaders + "x",
		"HTTP/1.1 431 Request Header Fields Too Large" + serverErrorHeaders + "two\r\nlines",
		"HTTP/1.1 431 Request Header Fields Too Large" + serverErrorHeaders + strings.Repeat("x", maxServerError),
		"HTTP/1.0 400 Bad Request" + serverErrorHeaders + "400 Bad Request",
		"",
	} {
		_, ok := rewriteServerError([]byte(in), 64<<10)
		require.False(t, ok, "%q", in)
	}
}

// FuzzRewriteServerError checks that whatever is rewritten is one whole
// answer with the same status and a JSON error body.
func FuzzRewriteServerError(f *testing.F) {
	f.Add("HTTP/1.1 431 Request Header Fields Too Large" + serverErrorHeaders + "431 Request Header Fields Too Large")
	f.Add("HTTP/1.1 400 Bad Request: missing required Host header" + serverErrorHeaders + "400 Bad Request: missing required Host header")
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := rewriteServerError([]byte(in), 64<<10)
		if !ok {
			return
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
		if err != nil {
			t.Fatalf("rewrote %q into an unreadable answer: %v", in, err)
		}
		if !strings.HasPrefix(in, "HTTP/1.1 "+resp.Status) {
			t.Fatalf("rewrote %q with status %q", in, resp.Status)
		}
		var body struct{ Error wire.Error }
		dec := json.NewDecoder(resp.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil || body.Error.Code == "" || body.Error.Message == "" {
			t.Fatalf("rewrote %q with body error %+v (%v)", in, body.Error, err)
		}
		if rest, _ := io.ReadAll(resp.Body); strings.TrimSpace(string(rest)) != "" {
			t.Fatalf("rewrote %q with trailing %q", in, rest)
		}
	})
}
