package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/hookline/hookline/wire"
)

// ErrorListener wraps ln, the listener of an http.Server with
// MaxHeaderBytes maxHeaderBytes, so that the answers the server writes by
// itself, before any handler runs, are JSON errors like every other:
// 431 headers_too_large for request headers over the limit, 400
// bad_request for a malformed request, 501 not_implemented for an unknown
// transfer encoding and 505 http_version_not_supported.
func ErrorListener(ln net.Listener, maxHeaderBytes int) net.Listener {
	return &errorListener{Listener: ln, maxHeader: maxHeaderBytes}
}

type errorListener struct {
	net.Listener
	maxHeader int
}

func (l *errorListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &errorConn{Conn: c, maxHeader: l.maxHeader}, nil
}

// errorConn rewrites the one write of a server error on its way out.
type errorConn struct {
	net.Conn
	maxHeader int
}

// CloseWrite half-closes the connection, as the server does after a 431
// so that the client reads the answer before the reset.
func (c *errorConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *errorConn) Write(p []byte) (int, error) {
	out, ok := rewriteServerError(p, c.maxHeader)
	if !ok {
		return c.Conn.Write(p)
	}
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Error codes of the answers net/http's server writes by itself; the
// others are in errors.go.
const (
	codeHeadersTooLarge = "headers_too_large"
	codeNotImplemented  = "not_implemented"
	codeHTTPVersion     = "http_version_not_supported"
)

// serverErrorHeaders is the header block net/http's server writes, in one
// Write to the connection, after the status line of an error it answers
// before any handler (conn.serve). No handler's answer has it: those carry
// Date and Content-Length or Transfer-Encoding.
const serverErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// maxServerError bounds the writes looked at: the server's error answers
// are under 200 bytes.
const maxServerError = 512

// rewriteServerError returns, when p is a whole error answer written by
// net/http's server, the same status with a JSON error body.
func rewriteServerError(p []byte, maxHeader int) ([]byte, bool) {
	if len(p) > maxServerError {
		return nil, false
	}
	rest, ok := bytes.CutPrefix(p, []byte("HTTP/1.1 "))
	if !ok {
		return nil, false
	}
	line, body, ok := bytes.Cut(rest, []byte(serverErrorHeaders))
	if !ok || bytes.ContainsAny(line, "\r\n") || bytes.ContainsAny(body, "\r\n") || len(line) < 4 || line[3] != ' ' {
		return nil, false
	}
	status, err := strconv.Atoi(string(line[:3]))
	if err != nil || status < 400 || status > 599 {
		return nil, false
	}
	// The reason is the status text, maybe followed by ": " and what was
	// wrong ("400 Bad Request: missing required Host header").
	detail, ok := strings.CutPrefix(string(line[4:]), http.StatusText(status))
	if !ok {
		return nil, false
	}
	detail = strings.TrimPrefix(detail, ": ")
	var code, msg string
	switch status {
	case http.StatusRequestHeaderFieldsTooLarge:
		code, msg = codeHeadersTooLarge, fmt.Sprintf("request line and headers are larger than %d bytes", maxHeader)
	case http.StatusNotImplemented:
		code, msg = codeNotImplemented, "unsupported transfer encoding"
	case http.StatusHTTPVersionNotSupported:
		code, msg = codeHTTPVersion, "unsupported protocol version"
	default:
		code, msg = codeBadRequest, "malformed HTTP request"
	}
	if detail != "" {
		msg = detail
	}
	b, err := json.Marshal(map[string]any{"error": wire.Error{Code: code, Message: msg}})
	if err != nil {
		return nil, false
	}
	b = append(b, '\n')
	var out bytes.Buffer
	fmt.Fprintf(&out, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		status, http.StatusText(status), len(b))
	out.Write(b)
	return out.Bytes(), true
}
