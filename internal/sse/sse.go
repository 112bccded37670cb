// Package sse writes Server-Sent Events: Hookline's one SSE writer, behind
// GET /v1/events/stream, the collections' changes feed and the inbox.
//
// A handler calls Start, then Send for each message and Next to wait for
// the next thing to send; Next keeps an idle stream alive with comments
// and reports when the stream is over — the client left, the server is
// shutting down or a write failed — so the handler returns.
package sse

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// DefaultKeepAlive is how long a stream may stay silent before it sends a
// comment, so proxies and load balancers keep the connection open.
const DefaultKeepAlive = 15 * time.Second

// ErrShutdown ends a stream whose Config.Done was closed.
var ErrShutdown = errors.New("sse: server shutting down")

// ErrSourceClosed ends a stream whose source channel Next was reading was
// closed.
var ErrSourceClosed = errors.New("sse: source closed")

// Config is how a stream behaves; the zero value is ready to use.
type Config struct {
	// KeepAlive is how long the stream may be silent before Next writes a
	// ": keep-alive" comment; default DefaultKeepAlive. Each write has
	// twice as long to reach the client, or the stream is over: the
	// server's WriteTimeout is for ordinary requests, a stream lives until
	// its client leaves.
	KeepAlive time.Duration
	// Done, when closed, ends the stream: the server is shutting down and
	// should not wait for streams that never finish by themselves.
	Done <-chan struct{}
}

// Event is one message of the stream.
type Event struct {
	// ID is the id: field, the client's Last-Event-ID after it; none when
	// empty. It may not hold a line break or NUL.
	ID string
	// Type is the event: field; none (the client's "message") when empty.
	// It may not hold a line break.
	Type string
	// Data is the data: field; each of its lines goes on a data: line of
	// its own, and the client joins them with "\n" again.
	Data []byte
}

// Stream is one response of Server-Sent Events. It is not safe for
// concurrent use: one handler goroutine writes it.
type Stream struct {
	w         http.ResponseWriter
	rc        *http.ResponseController
	r         *http.Request
	done      <-chan struct{}
	keepAlive time.Duration
	last      time.Time // of the last write
	buf       bytes.Buffer
	err       error // the first failure; the stream is over once set
}

// Start answers r with 200 and the event stream headers, flushed at once
// so the client knows the stream is open. It fails when w cannot flush.
func Start(w http.ResponseWriter, r *http.Request, cfg Config) (*Stream, error) {
	s := &Stream{
		w: w, rc: http.NewResponseController(w), r: r, done: cfg.Done,
		keepAlive: cmp.Or(cfg.KeepAlive, DefaultKeepAlive),
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	// nginx buffers responses unless told otherwise, which would hold
	// events back until its buffer fills.
	h.Set("X-Accel-Buffering", "no")
	s.setDeadline()
	w.WriteHeader(http.StatusOK)
	if err := s.rc.Flush(); err != nil {
		return nil, fmt.Errorf("sse: start stream: %w", err)
	}
	s.last = time.Now()
	return s, nil
}

// LastEventID is the id of the last message the client got before it
// reconnected (the Last-Event-ID header), or "" on a first connection.
func LastEventID(r *http.Request) string {
	return r.Header.Get("Last-Event-ID")
}

// Send writes e and flushes it to the client.
func (s *Stream) Send(e Event) error {
	if strings.ContainsAny(e.ID, "\r\n\x00") || strings.ContainsAny(e.Type, "\r\n") {
		return fmt.Errorf("sse: event id %q or type %q holds a line break", e.ID, e.Type)
	}
	s.buf.Reset()
	if e.ID != "" {
		s.buf.WriteString("id: " + e.ID + "\n")
	}
	if e.Type != "" {
		s.buf.WriteString("event: " + e.Type + "\n")
	}
	writeLines(&s.buf, "data: ", e.Data)
	s.buf.WriteByte('\n')
	return s.write()
}

// SendJSON sends v encoded as JSON as the data of an event of type typ
// with id (both may be empty).
func (s *Stream) SendJSON(id, typ string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("sse: encode %s: %w", cmp.Or(typ, "message"), err)
	}
	return s.Send(Event{ID: id, Type: typ, Data: b})
}

// Comment writes text as a comment, which clients ignore: ": text".
func (s *Stream) Comment(text string) error {
	s.buf.Reset()
	writeLines(&s.buf, ": ", []byte(text))
	s.buf.WriteByte('\n')
	return s.write()
}

// Err is why the stream is over, or nil while it is not.
func (s *Stream) Err() error { return s.err }

// Next waits for a value from ch, or for wait to pass when wait > 0, and
// keeps the stream alive meanwhile with a ": keep-alive" comment whenever
// it has been silent for KeepAlive. It returns the value and true, or
// false when wait passed first (ch may be nil to just wait). A non-nil
// error means the stream is over: the client left (the request's context
// error), the server is shutting down (ErrShutdown), ch was closed
// (ErrSourceClosed) or a write failed.
func Next[T any](s *Stream, ch <-chan T, wait time.Duration) (T, bool, error) {
	var zero T
	if s.err != nil {
		return zero, false, s.err
	}
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		idle := time.NewTimer(s.keepAlive - time.Since(s.last))
		select {
		case v, open := <-ch:
			idle.Stop()
			if !open {
				return zero, false, s.fail(ErrSourceClosed)
			}
			return v, true, nil
		case <-timeout:
			idle.Stop()
			return zero, false, nil
		case <-s.r.Context().Done():
			idle.Stop()
			return zero, false, s.fail(s.r.Context().Err())
		case <-s.done:
			idle.Stop()
			return zero, false, s.fail(ErrShutdown)
		case <-idle.C:
			if err := s.Comment("keep-alive"); err != nil {
				return zero, false, err
			}
		}
	}
}

// write sends the buffered message with a fresh write deadline.
func (s *Stream) write() error {
	if s.err != nil {
		return s.err
	}
	s.setDeadline()
	if _, err := s.w.Write(s.buf.Bytes()); err != nil {
		return s.fail(fmt.Errorf("sse: write: %w", err))
	}
	if err := s.rc.Flush(); err != nil {
		return s.fail(fmt.Errorf("sse: flush: %w", err))
	}
	s.last = time.Now()
	return nil
}

// setDeadline gives the next write twice the keep-alive interval. A
// ResponseWriter without deadlines (a test recorder) has no need of one.
func (s *Stream) setDeadline() {
	_ = s.rc.SetWriteDeadline(time.Now().Add(2 * s.keepAlive))
}

func (s *Stream) fail(err error) error {
	if s.err == nil {
		s.err = err
	}
	return s.err
}

// writeLines writes each line of b (ended by "\r\n", "\r" or "\n", as the
// client splits them) after prefix; empty b is one empty line.
func writeLines(buf *bytes.Buffer, prefix string, b []byte) {
	for {
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			buf.WriteString(prefix)
			buf.Write(b)
			buf.WriteByte('\n')
			return
		}
		buf.WriteString(prefix)
		buf.Write(b[:i])
		buf.WriteByte('\n')
		if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			i++
		}
		b = b[i+1:]
	}
}
