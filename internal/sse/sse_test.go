package sse_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/sse"
)

// message is what a client makes of the stream: an event, or a comment.
type message struct {
	ID, Type, Data string
	Comment        string
}

// reader parses a stream as the WHATWG spec's EventSource does, keeping
// comments too.
type reader struct {
	sc *bufio.Scanner
}

func newReader(r io.Reader) *reader {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	sc.Split(scanLines)
	return &reader{sc: sc}
}

// scanLines splits at "\r\n", "\r" or "\n".
func scanLines(data []byte, atEOF bool) (int, []byte, error) {
	i := bytes.IndexAny(data, "\r\n")
	switch {
	case i < 0 && atEOF && len(data) > 0:
		return len(data), data, nil
	case i < 0:
		return 0, nil, nil
	case data[i] == '\r' && i+1 == len(data) && !atEOF:
		return 0, nil, nil // the \n may follow
	case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
		return i + 2, data[:i], nil
	}
	return i + 1, data[:i], nil
}

// next returns the next event or comment, or false at the end.
func (r *reader) next() (message, bool) {
	var m message
	var data []string
	var fields bool
	for r.sc.Scan() {
		line := r.sc.Text()
		if line == "" {
			if !fields {
				continue
			}
			m.Data = strings.Join(data, "\n")
			return m, true
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		fields = true
		switch name {
		case "":
			m.Comment = value
		case "id":
			m.ID = value
		case "event":
			m.Type = value
		case "data":
			data = append(data, value)
		}
	}
	return m, false
}

// bundle is a stream served by a real server and read by a real client.
type bundle struct {
	srv    *httptest.Server
	resp   *http.Response
	r      *reader
	cancel context.CancelFunc
	// ended gets the error the handler's stream ended with.
	ended chan error
}

// setup serves handle as a stream with cfg and opens it with headers.
func setup(t *testing.T, cfg sse.Config, handle func(*sse.Stream, *http.Request) error, headers ...string) *bundle {
	t.Helper()
	b := &bundle{ended: make(chan error, 1)}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := sse.Start(w, r, cfg)
		if err != nil {
			b.ended <- err
			return
		}
		b.ended <- handle(st, r)
	}))
	t.Cleanup(b.srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	b.cancel = cancel
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.srv.URL, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	b.resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { b.resp.Body.Close() })
	b.r = newReader(b.resp.Body)
	return b
}

func (b *bundle) next(t *testing.T) message {
	t.Helper()
	m, ok := b.r.next()
	require.True(t, ok, "stream ended early: %v", b.r.sc.Err())
	return m
}

// end waits for the handler's stream to end and returns why.
func (b *bundle) end(t *testing.T) error {
	t.Helper()
	select {
	case err := <-b.ended:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end")
		return nil
	}
}

func TestHeadersAndMessages(t *testing.T) {
	t.Parallel()
	b := setup(t, sse.Config{}, func(st *sse.Stream, _ *http.Request) error {
		assert.NoError(t, st.Comment("listening"))
		assert.NoError(t, st.Send(sse.Event{ID: "evt_1", Type: "event", Data: []byte(`{"a":1}`)}))
		assert.NoError(t, st.SendJSON("", "dropped", map[string]int{"count": 3}))
		assert.NoError(t, st.Send(sse.Event{Data: []byte("one\ntwo\r\nthree\rfour")}))
		assert.NoError(t, st.Send(sse.Event{Type: "empty"}))
		assert.NoError(t, st.Comment("two\nlines"))
		return nil
	})
	require.Equal(t, http.StatusOK, b.resp.StatusCode)
	require.Equal(t, "text/event-stream", b.resp.Header.Get("Content-Type"))
	require.Equal(t, "no-cache", b.resp.Header.Get("Cache-Control"))
	require.Equal(t, "no", b.resp.Header.Get("X-Accel-Buffering"))
	raw, err := io.ReadAll(b.resp.Body)
	require.NoError(t, err)
	require.NoError(t, b.end(t))
	require.Equal(t, ": listening\n\n"+
		"id: evt_1\nevent: event\ndata: {\"a\":1}\n\n"+
		"event: dropped\ndata: {\"count\":3}\n\n"+
		"data: one\ndata: two\ndata: three\ndata: four\n\n"+
		"event: empty\ndata: \n\n"+
		": two\n: lines\n\n", string(raw), "on the wire")

	r := newReader(bytes.NewReader(raw))
	var got []message
	for m, ok := r.next(); ok; m, ok = r.next() {
		got = append(got, m)
	}
	require.Equal(t, []message{
		{Comment: "listening"},
		{ID: "evt_1", Type: "event", Data: `{"a":1}`},
		{Type: "dropped", Data: `{"count":3}`},
		{Data: "one\ntwo\nthree\nfour"},
		{Type: "empty"},
		{Comment: "lines"},
	}, got, "as a client reads it")
}

func TestSendRefusesLineBreaksInFields(t *testing.T) {
	t.Parallel()
	b := setup(t, sse.Config{}, func(st *sse.Stream, _ *http.Request) error {
		for _, e := range []sse.Event{{ID: "a\nevent: forged"}, {ID: "a\rb"}, {ID: "a\x00"}, {Type: "x\ndata: forged"}} {
			assert.Error(t, st.Send(e), "%+v", e)
		}
		assert.NoError(t, st.Err(), "a refused event does not end the stream")
		return st.Send(sse.Event{ID: "ok", Data: []byte("1")})
	})
	require.Equal(t, message{ID: "ok", Data: "1"}, b.next(t))
	require.NoError(t, b.end(t))
}

func TestNextSendsValuesAndKeepsAlive(t *testing.T) {
	t.Parallel()
	values := make(chan string)
	b := setup(t, sse.Config{KeepAlive: 20 * time.Millisecond}, func(st *sse.Stream, _ *http.Request) error {
		for {
			v, ok, err := sse.Next(st, values, 0)
			if err != nil {
				return err
			}
			assert.True(t, ok, "no wait, so only a value returns")
			if err := st.Send(sse.Event{Type: "value", Data: []byte(v)}); err != nil {
				return err
			}
		}
	})
	keepAlives := 0
	for keepAlives < 3 {
		m := b.next(t)
		require.Equal(t, "keep-alive", m.Comment, "only keep-alives while idle")
		keepAlives++
	}
	values <- "v1"
	for {
		m := b.next(t)
		if m.Comment == "keep-alive" {
			continue
		}
		require.Equal(t, message{Type: "value", Data: "v1"}, m)
		break
	}
	b.cancel()
	require.ErrorIs(t, b.end(t), context.Canceled, "the client left")
}

func TestNextWaitAndSourceClosed(t *testing.T) {
	t.Parallel()
	values := make(chan int, 1)
	b := setup(t, sse.Config{}, func(st *sse.Stream, _ *http.Request) error {
		start := time.Now()
		_, ok, err := sse.Next[int](st, nil, 30*time.Millisecond)
		assert.NoError(t, err)
		assert.False(t, ok)
		assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
		values <- 7
		v, ok, err := sse.Next(st, values, time.Hour)
		assert.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, 7, v)
		close(values)
		_, _, err = sse.Next(st, values, 0)
		assert.ErrorIs(t, err, sse.ErrSourceClosed)
		assert.ErrorIs(t, st.Err(), sse.ErrSourceClosed, "the stream is over")
		_, _, err = sse.Next(st, make(chan int), 0)
		assert.ErrorIs(t, err, sse.ErrSourceClosed, "and stays over")
		return st.Send(sse.Event{Data: []byte("late")})
	})
	require.ErrorIs(t, b.end(t), sse.ErrSourceClosed, "nothing is written once the stream is over")
	_, ok := b.r.next()
	require.False(t, ok, "the response ends with the handler")
}

func TestLastEventID(t *testing.T) {
	t.Parallel()
	b := setup(t, sse.Config{}, func(st *sse.Stream, r *http.Request) error {
		return st.Comment("after " + sse.LastEventID(r))
	}, "Last-Event-ID", "42")
	require.Equal(t, "after 42", b.next(t).Comment)
	require.NoError(t, b.end(t))
}

// TestServerShutdown: a server shutting down ends its streams at once
// rather than waiting for clients that never leave.
func TestServerShutdown(t *testing.T) {
	t.Parallel()
	closing := make(chan struct{})
	b := setup(t, sse.Config{Done: closing}, func(st *sse.Stream, _ *http.Request) error {
		if err := st.Comment("open"); err != nil {
			return err
		}
		_, _, err := sse.Next[struct{}](st, nil, 0)
		return err
	})
	require.Equal(t, "open", b.next(t).Comment)
	b.srv.Config.RegisterOnShutdown(func() { close(closing) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, b.srv.Config.Shutdown(ctx), "Shutdown does not wait out the stream")
	require.ErrorIs(t, b.end(t), sse.ErrShutdown)
	_, ok := b.r.next()
	require.False(t, ok, "the client sees the stream end")
}

// TestWriteDeadline: a client that stops reading ends the stream once a
// write has waited twice the keep-alive interval, despite the server
// having no WriteTimeout.
func TestWriteDeadline(t *testing.T) {
	t.Parallel()
	ended := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := sse.Start(w, r, sse.Config{KeepAlive: 25 * time.Millisecond})
		if err != nil {
			ended <- err
			return
		}
		chunk := bytes.Repeat([]byte("x"), 256<<10)
		for {
			if err := st.Send(sse.Event{Data: chunk}); err != nil {
				ended <- err
				return
			}
		}
	}))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	// The client reads nothing more.
	select {
	case err := <-ended:
		require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	case <-time.After(10 * time.Second):
		t.Fatal("a write to a client that does not read did not time out")
	}
}

// noFlush is a ResponseWriter that cannot flush.
type noFlush struct{ http.ResponseWriter }

func TestStartNeedsFlush(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	_, err := sse.Start(noFlush{rec}, httptest.NewRequest(http.MethodGet, "/", nil), sse.Config{})
	require.ErrorIs(t, err, http.ErrNotSupported)
}

// FuzzData: whatever the data, a client reads back the same text (line
// breaks normalised to "\n", as the format cannot carry the others) in
// one event.
func FuzzData(f *testing.F) {
	for _, s := range []string{"", "a", "a\nb", "a\r\nb", "a\rb", "\n", "\r\n\r\n", "a\n\nb", ": x\n\nevent: y", "\r"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec := httptest.NewRecorder()
		st, err := sse.Start(rec, httptest.NewRequest(http.MethodGet, "/", nil), sse.Config{})
		require.NoError(t, err)
		require.NoError(t, st.Send(sse.Event{ID: "1", Type: "t", Data: data}))
		require.NoError(t, st.Send(sse.Event{ID: "2", Type: "end", Data: []byte("x")}))
		r := newReader(rec.Body)
		m, ok := r.next()
		require.True(t, ok)
		want := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
		require.Equal(t, message{ID: "1", Type: "t", Data: want}, m)
		m, ok = r.next()
		require.True(t, ok)
		require.Equal(t, message{ID: "2", Type: "end", Data: "x"}, m)
	})
}
