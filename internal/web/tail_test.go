package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// stream is a Server-Sent Events answer of the dashboard being read.
type stream struct {
	t    *testing.T
	resp *http.Response
	sc   *bufio.Scanner
}

// openStream requests a dashboard stream with c's session and reads up to
// its first comment, so the server is listening when it returns.
func (b *bundle) openStream(c *http.Client, path string) *stream {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	b.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	require.NoError(b.t, err)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.Do(req)
	require.NoError(b.t, err)
	b.t.Cleanup(func() { resp.Body.Close() })
	require.Equal(b.t, http.StatusOK, resp.StatusCode)
	require.Equal(b.t, "text/event-stream", resp.Header.Get("Content-Type"))
	s := &stream{t: b.t, resp: resp, sc: bufio.NewScanner(resp.Body)}
	for s.sc.Scan() {
		if strings.HasPrefix(s.sc.Text(), ":") {
			return s
		}
	}
	b.t.Fatalf("stream %s ended before its first comment: %v", path, s.sc.Err())
	return nil
}

// next returns the id and data of the next message of type typ.
func (s *stream) next(typ string) (id, data string) {
	s.t.Helper()
	var ev string
	var lines []string
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "":
			if ev == typ {
				return id, strings.Join(lines, "\n")
			}
			ev, id, lines = "", "", nil
		case strings.HasPrefix(line, "event: "):
			ev = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			lines = append(lines, strings.TrimPrefix(line, "data: "))
		}
	}
	s.t.Fatalf("stream ended before a %q message: %v", typ, s.sc.Err())
	return "", ""
}

func TestTail(t *testing.T) {
	t.Parallel()
	b, c := setupSignedIn(t)
	ctx := context.Background()

	resp, page := b.get(c, "/tail?type=order.*&source=api")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, page, `data-live="/tail/stream?source=api&amp;type=order.%2A"`)
	require.NotRegexp(t, inline, page)
	resp, page = b.get(c, "/tail?type=a..b")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, page, "is not a pattern")

	other, err := b.api.CreateTenant(ctx, client.TenantCreate{Name: "other"})
	require.NoError(t, err)
	otherAPI := client.New(b.url, other.APIKey.Key)

	all := b.openStream(c, "/tail/stream")
	orders := b.openStream(c, "/tail/stream?type=order.*")
	// Another tenant's event, then one of another type: neither is the
	// first row of the filtered stream, and the other tenant's is no row
	// of this tenant's at all.
	_, err = otherAPI.SendEvent(ctx, client.EventCreate{Type: "order.created", Data: json.RawMessage(`{}`)})
	require.NoError(t, err)
	skipped := b.send("user.created", `{"u": 1}`)
	ev := b.send("order.created", `{"order_id": "ord_<1>"}`)

	id, row := orders.next("row")
	require.Equal(t, ev, id)
	require.Contains(t, row, `<a class="mono" href="/events/`+ev+`">`)
	require.Contains(t, row, "ord_\\u003c1\\u003e", "the data, escaped")
	require.NotContains(t, row, "ord_<1>")
	id, _ = all.next("row")
	require.Equal(t, skipped, id, "the other tenant's event is not in this tenant's tail")
	id, _ = all.next("row")
	require.Equal(t, ev, id)
}

// Signing out, or deleting the key a session was opened with, ends the
// session's live streams.
func TestStreamsEndWithTheSession(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	ctx := context.Background()
	c, k := b.signedInWithNewKey()
	tail := b.openStream(c, "/tail/stream")
	out := b.signedIn()
	signedOut := b.openStream(out, "/tail/stream")

	require.NoError(t, b.api.DeleteAPIKey(ctx, k.ID))
	resp, _ := b.post(out, "/signout", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	// Both end at their next check, within sessionRecheck (5 s).
	tail.end()
	signedOut.end()
}

// end reads the stream until the server ends it, up to the deadline
// openStream set.
func (s *stream) end() {
	s.t.Helper()
	for s.sc.Scan() {
	}
	require.NoError(s.t, s.sc.Err(), "the server ended the stream, not the test's deadline")
}
