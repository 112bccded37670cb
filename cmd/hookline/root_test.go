package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/buildinfo"
	"github.com/hookline/hookline/internal/testkit"
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

// ok requires the run to have succeeded (its stderr is the failure
// message) and returns it.
func (r result) ok(t *testing.T) result {
	t.Helper()
	require.Equal(t, 0, r.code, r.stderr)
	return r
}

// fails requires the run to have failed with stderr saying each of want,
// and returns it.
func (r result) fails(t *testing.T, want ...string) result {
	t.Helper()
	require.Equal(t, 1, r.code)
	for _, w := range want {
		require.Contains(t, r.stderr, w)
	}
	return r
}

// usageCase is a command line the CLI refuses before any request, and what
// its error says.
type usageCase struct {
	args []string
	want string
}

// requireUsageErrors runs the command path (such as "sources create") with
// the args of each case against a fake API without routes (a request would
// fail with 404), and requires each to fail saying want and pointing to
// the command's help.
func requireUsageErrors(t *testing.T, path string, cases []usageCase) {
	t.Helper()
	b := setup(t)
	for _, tc := range cases {
		res := b.run(t, "", append(strings.Fields(path), tc.args...)...)
		require.Equal(t, 1, res.code, tc.args)
		require.Contains(t, res.stderr, tc.want, tc.args)
		require.Contains(t, res.stderr, "Run 'hookline "+path+" --help' for usage.", tc.args)
	}
}

// lookup reads b's environment.
func (b *bundle) lookup(k string) (string, bool) {
	v, ok := b.env[k]
	return v, ok
}

// run runs the CLI with args and stdin in b's environment.
func (b *bundle) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, strings.NewReader(stdin), &stdout, &stderr, b.lookup)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// running is a CLI run in the background, such as in tail or serve.
type running struct {
	stdout, stderr testkit.Buffer
	cancel         context.CancelFunc
	code           chan int
}

// start runs the CLI with args in b's environment in the background, until
// stop.
func (b *bundle) start(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	r := &running{cancel: cancel, code: make(chan int, 1)}
	go func() { r.code <- run(ctx, args, strings.NewReader(""), &r.stdout, &r.stderr, b.lookup) }()
	return r
}

// waitFor waits until the run has printed s on stdout, or on stderr.
func (r *running) waitFor(t *testing.T, stderr bool, s, what string) {
	t.Helper()
	out := &r.stdout
	if stderr {
		out = &r.stderr
	}
	require.Eventually(t, func() bool { return strings.Contains(out.String(), s) }, 20*time.Second, 5*time.Millisecond,
		"%s; stdout: %s, stderr: %s", what, &r.stdout, &r.stderr)
}

// stop ends the run as Ctrl-C does and requires a clean exit.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case c := <-r.code:
		require.Equal(t, 0, c, "Ctrl-C is a clean stop; stderr: %s", &r.stderr)
	case <-time.After(20 * time.Second):
		t.Fatalf("the command did not stop when its context ended; stderr: %s", &r.stderr)
	}
}

// answer writes a JSON answer with status.
func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// call is a request the fake API answered, with its body.
type call struct {
	*http.Request
	body []byte
}

// fake answers the requests of pattern on b with status and body, and
// passes each on (up to 10 unread).
func (b *bundle) fake(pattern string, status int, body string) <-chan call {
	calls := make(chan call, 10)
	b.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		calls <- call{r, raw}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		answer(w, status, body)
	})
	return calls
}

// decode decodes the body of c as JSON into a T.
func decode[T any](t *testing.T, c call) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(c.body, &v), "%s", c.body)
	return v
}

// writeTemp writes content to name in a temporary directory and returns
// its path.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestAPIErrorIsPrintedWithCodeAndStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake("GET /v1/events/{id}", http.StatusNotFound, `{"error":{"code":"not_found","message":"event evt_x not found","details":{"id":"evt_x"}}}`)

	res := b.run(t, "", "events", "get", "evt_x").fails(t)
	require.Empty(t, res.stdout)
	require.Equal(t, "error: event evt_x not found (not_found, HTTP 404)\n  id: evt_x\n", res.stderr)
}

func TestMissingAPIKeyNamesFlagAndEnv(t *testing.T) {
	t.Parallel()
	b := setup(t)
	delete(b.env, envAPIKey)

	b.run(t, "", "endpoints", "list").fails(t, "--api-key", "HOOKLINE_API_KEY")
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake("GET /v1/api-keys", http.StatusOK, `{"data":[{"id":"key_1","name":"ci","prefix":"hk_ab","admin":false}]}`)

	res := b.run(t, "", "api-keys", "list", "--api-key", "wrong")
	require.Equal(t, "error: bad API key (unauthorized, HTTP 401)\n", res.stderr)

	res = b.run(t, "", "api-keys", "list").ok(t)
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

func TestVersion(t *testing.T) {
	t.Parallel()
	bi := buildinfo.Read()
	want := "hookline " + bi.String() + "\n"
	require.Contains(t, want, runtime.Version(), "the Go version is shown")
	for _, args := range [][]string{{"--version"}, {"version"}} {
		res := setup(t).run(t, "", args...).ok(t)
		require.Equal(t, want, res.stdout, args)
	}

	res := setup(t).run(t, "", "version", "-o", "json").ok(t)
	var got buildinfo.Info
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &got))
	require.Equal(t, bi, got)
	require.Equal(t, runtime.Version(), got.GoVersion)
}

// TestBinaryStampsItsBuild builds the real binary, which the toolchain
// stamps with the checkout's revision: version and --version show it, a
// delivery carries it as User-Agent and /metrics exports it.
func TestBinaryStampsItsBuild(t *testing.T) {
	t.Parallel()
	// -buildvcs=auto over a GOFLAGS that turns stamping off.
	bin := buildHookline(t, "-buildvcs=auto")

	out, err := exec.Command(bin, "version", "-o", "json").Output()
	require.NoError(t, err)
	var bi buildinfo.Info
	require.NoError(t, json.Unmarshal(out, &bi))
	if bi.Revision == "" {
		t.Skip("the binary has no VCS stamp (not built in a git checkout)")
	}
	require.NotEqual(t, buildinfo.Dev, bi.Version)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).Output()
		require.NoError(t, err)
		require.Equal(t, "hookline "+bi.String()+"\n", string(out), args)
		require.Contains(t, string(out), "rev "+bi.Revision[:12])
	}

	ua := make(chan string, 1)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case ua <- r.Header.Get("User-Agent"):
		default:
		}
	}))
	t.Cleanup(rc.Close)
	srv := startServe(t, bin, "stamped", "--data-dir", filepath.Join(t.TempDir(), "data"))
	c := srv.client()
	ctx := context.Background()
	_, err = c.CreateEndpoint(ctx, client.EndpointCreate{URL: rc.URL})
	require.NoError(t, err)
	_, err = c.SendEvent(ctx, client.EventCreate{Type: "order.created", Data: json.RawMessage(`{}`)})
	require.NoError(t, err)
	select {
	case got := <-ua:
		require.Equal(t, bi.UserAgent(), got)
		require.Equal(t, "Hookline/"+bi.Version+" (rev "+bi.Revision[:12]+")", got)
	case <-time.After(20 * time.Second):
		t.Fatalf("no delivery; logs: %s", srv.logs)
	}

	resp, err := http.Get(srv.url() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	metrics, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(metrics), fmt.Sprintf(`hookline_build_info{go_version=%q,revision=%q,version=%q} 1`, bi.GoVersion, bi.Revision, bi.Version))
}
