package accesslog_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/accesslog"
	"github.com/hookline/hookline/internal/clock"
)

// setup serves a mux with a few routes behind Handler and returns it with
// the buffer its JSON log lines go to.
func setup(t *testing.T, level slog.Level) (http.Handler, *bytes.Buffer, *clock.Manual) {
	t.Helper()
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level}))
	clk := clock.NewManual(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/things/{id}", func(w http.ResponseWriter, r *http.Request) {
		accesslog.SetTenant(r.Context(), "ten_1")
		clk.Advance(1500 * time.Microsecond)
		w.Header().Set("X-Seen-Id", accesslog.RequestID(r.Context()))
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	h := accesslog.Handler(mux, accesslog.Config{Logger: log, Clock: clk, Quiet: map[string]bool{"GET /healthz": true}})
	return h, &buf, clk
}

func lines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(buf.String()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		out = append(out, m)
	}
	return out
}

func TestLogLine(t *testing.T) {
	t.Parallel()
	h, buf, _ := setup(t, slog.LevelInfo)
	req := httptest.NewRequest("POST", "/v1/things/42?token=sekrit", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer hk_secret_key")
	req.Header.Set(accesslog.Header, "req-abc.1:2_3")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	require.Equal(t, http.StatusAccepted, rec.Code)
	require.Equal(t, "req-abc.1:2_3", rec.Header().Get(accesslog.Header), "a sane id is kept")
	require.Equal(t, "req-abc.1:2_3", rec.Header().Get("X-Seen-Id"), "handlers see the id")
	got := lines(t, buf)
	require.Len(t, got, 1)
	l := got[0]
	require.Equal(t, "INFO", l["level"])
	require.Equal(t, "http request", l["msg"])
	require.Equal(t, "POST", l["method"])
	require.Equal(t, "POST /v1/things/{id}", l["route"])
	require.EqualValues(t, 202, l["status"])
	require.EqualValues(t, 1.5, l["duration_ms"])
	require.EqualValues(t, 11, l["bytes"])
	require.Equal(t, "ten_1", l["tenant_id"])
	require.Equal(t, "req-abc.1:2_3", l["request_id"])
	for _, secret := range []string{"sekrit", "hk_secret_key", "/v1/things/42"} {
		require.NotContains(t, buf.String(), secret)
	}
}

func TestRequestIDGenerated(t *testing.T) {
	t.Parallel()
	for name, sent := range map[string]string{
		"none":       "",
		"too long":   strings.Repeat("a", accesslog.MaxIDLen+1),
		"space":      "a b",
		"newline":    "a\nlevel=ERROR",
		"quote":      `a"b`,
		"non-ascii":  "héllo",
		"slash":      "a/b",
		"semi-colon": "a;b",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h, buf, _ := setup(t, slog.LevelInfo)
			req := httptest.NewRequest("POST", "/v1/things/1", nil)
			if sent != "" {
				req.Header[accesslog.Header] = []string{sent}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			id := rec.Header().Get(accesslog.Header)
			require.NotEqual(t, sent, id)
			require.Regexp(t, `^[A-Z2-7]{26}$`, id)
			require.Equal(t, id, lines(t, buf)[0]["request_id"])
		})
	}
	h, _, _ := setup(t, slog.LevelInfo)
	ids := map[string]bool{}
	for range 20 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		ids[rec.Header().Get(accesslog.Header)] = true
	}
	require.Len(t, ids, 20, "generated ids differ")
	long := strings.Repeat("x", accesslog.MaxIDLen)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set(accesslog.Header, long)
	h.ServeHTTP(rec, req)
	require.Equal(t, long, rec.Header().Get(accesslog.Header), "an id of MaxIDLen is kept")
}

func TestQuietAndUnmatched(t *testing.T) {
	t.Parallel()
	h, buf, _ := setup(t, slog.LevelInfo)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	require.Empty(t, buf.String(), "probes are logged at debug")

	h, buf, _ = setup(t, slog.LevelDebug)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nowhere", nil))
	got := lines(t, buf)
	require.Len(t, got, 2)
	require.Equal(t, "DEBUG", got[0]["level"])
	require.Equal(t, "GET /healthz", got[0]["route"])
	require.EqualValues(t, 200, got[0]["status"], "a handler that writes nothing answers 200")
	require.Equal(t, "INFO", got[1]["level"])
	require.Equal(t, "", got[1]["route"])
	require.EqualValues(t, 404, got[1]["status"])
	require.Equal(t, "", got[1]["tenant_id"])
}

func TestFlushReachesTheConnection(t *testing.T) {
	t.Parallel()
	flushed := make(chan struct{})
	h := accesslog.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("data: 1\n\n"))
		require.NoError(t, http.NewResponseController(w).Flush())
		<-flushed
	}), accesslog.Config{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := make([]byte, 9)
	_, err = resp.Body.Read(buf)
	close(flushed)
	require.NoError(t, err)
	require.Equal(t, "data: 1\n\n", string(buf), "the flushed bytes arrive before the handler returns")
}
