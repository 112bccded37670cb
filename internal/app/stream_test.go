package app_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStopEndsStreams: a graceful stop ends the Server-Sent Events
// streams (events, a collection's changes, an inbox) at once instead of
// waiting out the shutdown timeout for clients that never leave, and
// each client sees its stream end.
func TestStopEndsStreams(t *testing.T) {
	t.Parallel()
	b := setup(t)
	contentSetup(t, b, `["inbox"]`, `{}`)
	_, tok := b.do("GET", "/v1/recipients/c1/token", "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var bodies []io.ReadCloser
	for _, path := range []string{
		"/v1/events/stream",
		"/v1/collections/customers/changes?stream=true",
		"/inbox/stream?token=" + url.QueryEscape(tok["token"].(string)),
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.url+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+b.key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"), path)
		require.Equal(t, "no", resp.Header.Get("X-Accel-Buffering"), path)
		br := bufio.NewReader(resp.Body)
		_, err = br.ReadString('\n')
		require.NoError(t, err, "%s: the stream is open", path)
		bodies = append(bodies, struct {
			io.Reader
			io.Closer
		}{br, resp.Body})
	}

	stopCtx, stopCancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer stopCancel()
	start := time.Now()
	err := b.app.Stop(stopCtx)
	b.stopped = true
	require.NoError(t, err, "the streams do not hold up the stop")
	require.Less(t, time.Since(start), 3*time.Second)
	for _, body := range bodies {
		_, err := io.ReadAll(body)
		require.NoError(t, err, "the stream ends cleanly")
	}
}
