package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const testKey = "hk_test"

// bundle is a fake of the API, played by mux, and the environment that
// points the CLI at it.
type bundle struct {
	mux *http.ServeMux
	env map[string]string
}

// result is what one CLI run printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// setup starts a fake of the API. Routes registered on mux answer only
// requests that carry testKey.
func setup(t *testing.T) *bundle {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testKey {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":{"code":"unauthorized","message":"bad API key"}}`)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &bundle{mux: mux, env: map[string]string{envServer: srv.URL, envAPIKey: testKey}}
}

// run runs the CLI with args and stdin in b's environment.
func (b *bundle) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	lookup := func(k string) (string, bool) {
		v, ok := b.env[k]
		return v, ok
	}
	code := run(t.Context(), args, strings.NewReader(stdin), &stdout, &stderr, lookup)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// answer writes a JSON answer with status.
func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func TestAPIErrorIsPrintedWithCodeAndStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mux.HandleFunc("GET /v1/events/{id}", func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusNotFound, `{"error":{"code":"not_found","message":"event evt_x not found","details":{"id":"evt_x"}}}`)
	})

	res := b.run(t, "", "events", "get", "evt_x")
	require.Equal(t, 1, res.code)
	require.Empty(t, res.stdout)
	require.Equal(t, "error: event evt_x not found (not_found, HTTP 404)\n  id: evt_x\n", res.stderr)
}

func TestMissingAPIKeyNamesFlagAndEnv(t *testing.T) {
	t.Parallel()
	b := setup(t)
	delete(b.env, envAPIKey)

	res := b.run(t, "", "endpoints", "list")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, "--api-key")
	require.Contains(t, res.stderr, "HOOKLINE_API_KEY")
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mux.HandleFunc("GET /v1/api-keys", func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusOK, `{"data":[{"id":"key_1","name":"ci","prefix":"hk_ab","admin":false}]}`)
	})

	res := b.run(t, "", "api-keys", "list", "--api-key", "wrong")
	require.Equal(t, "error: bad API key (unauthorized, HTTP 401)\n", res.stderr)

	res = b.run(t, "", "api-keys", "list")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "key_1")
	require.Contains(t, res.stdout, "hk_ab")
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"endpoints", "get"}, "error: missing argument ID\nRun 'hookline endpoints get --help' for usage.\n"},
		{[]string{"events", "list", "-o", "yaml"}, "error: invalid --output \"yaml\": want table or json\n"},
		{[]string{"send", "a.b", "--data", "{nope"}, "error: event data is not valid JSON\n"},
		{[]string{"send", "a.b", "--bogus"}, "error: unknown flag: --bogus\nRun 'hookline send --help' for usage.\n"},
	}
	for _, tc := range cases {
		res := b.run(t, "", tc.args...)
		require.Equal(t, 1, res.code, tc.args)
		require.Contains(t, res.stderr, tc.want, tc.args)
	}
}
