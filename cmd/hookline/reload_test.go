package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/testkit"
)

// reloadBundle is a real server and a reloader of its config file.
type reloadBundle struct {
	srv  *live
	path string
	rl   *reloader
	logs *testkit.Buffer
}

// setupReload starts a real server and applies content, written to a
// config file, the way serve does at start.
func setupReload(t *testing.T, content string) *reloadBundle {
	t.Helper()
	srv := startLive(t)
	path := writeTemp(t, "hookline.yaml", content)
	logs := &testkit.Buffer{}
	env := &bundle{env: map[string]string{"HOOK_SECRET": "s3cret"}}
	rl := &reloader{path: path, lookup: env.lookup, log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	cfg, raw, err := rl.load()
	require.NoError(t, err)
	rl.apply = srv.app.Apply
	require.NoError(t, rl.applyDeclaration(t.Context(), cfg, raw))
	return &reloadBundle{srv: srv, path: path, rl: rl, logs: logs}
}

// write replaces the config file.
func (b *reloadBundle) write(t *testing.T, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(b.path, []byte(content), 0o600))
}

// source returns the declared source named name.
func (b *reloadBundle) source(t *testing.T, name string) client.Source {
	t.Helper()
	page, err := b.srv.client.ListSources(t.Context(), client.ListOptions{})
	require.NoError(t, err)
	for _, src := range page.Data {
		if src.Name == name {
			return src
		}
	}
	t.Fatalf("no source %q", name)
	return client.Source{}
}

// endpointNames returns the names of the server's endpoints.
func (b *reloadBundle) endpointNames(t *testing.T) []string {
	t.Helper()
	page, err := b.srv.client.ListEndpoints(t.Context(), client.ListOptions{})
	require.NoError(t, err)
	var names []string
	for _, ep := range page.Data {
		names = append(names, ep.Name)
	}
	return names
}

const reloadV1 = `workers: 8
endpoints:
  - name: relay
    url: http://127.0.0.1:9/hooks
sources:
  - name: hooks
    description: v1
    verification: {kind: none}
`

const reloadV2 = `workers: 4
endpoints:
  - name: relay
    url: http://127.0.0.1:9/hooks
sources:
  - name: hooks
    description: v2
    verification: {kind: hmac, secrets: ["${HOOK_SECRET}"], header: X-Signature}
subscriptions:
  - name: to-relay
    event_types: ["hooks.*"]
    destination: {kind: forward, endpoint: relay}
`

func TestReloadAppliesChanges(t *testing.T) {
	t.Parallel()
	b := setupReload(t, reloadV1)
	require.Equal(t, "v1", b.source(t, "hooks").Description)
	require.Contains(t, b.logs.String(), `msg="config resource created" kind=source name=hooks action=created`)
	require.Contains(t, b.logs.String(), `secret="generated; read it with GET /v1/endpoints/`)
	require.NotContains(t, b.logs.String(), "whsec_", "secrets stay out of logs")

	b.write(t, reloadV2)
	require.NoError(t, b.rl.reload(t.Context()))
	src := b.source(t, "hooks")
	require.Equal(t, "v2", src.Description)
	require.Equal(t, "hmac", src.Verification.Kind, "${HOOK_SECRET} expanded and applied")
	subs, err := b.srv.client.ListSubscriptions(t.Context(), client.ListOptions{})
	require.NoError(t, err)
	require.Len(t, subs.Data, 1)
	require.Equal(t, "to-relay", subs.Data[0].Name)

	logs := b.logs.String()
	require.Contains(t, logs, `msg="config key changed; it needs a restart to take effect" key=workers`)
	require.Contains(t, logs, `msg="config resource updated" kind=source name=hooks action=updated`)
	require.Contains(t, logs, `msg="config resource created" kind=subscription name=to-relay`)
	require.Contains(t, logs, `msg="config resource unchanged" kind=endpoint name=relay`)
	require.Contains(t, logs, `msg="config reloaded"`)
}

func TestReloadRefusesBadFile(t *testing.T) {
	t.Parallel()
	b := setupReload(t, reloadV1)
	before := b.source(t, "hooks")

	cases := []struct {
		name    string
		content string
		line    int
		msg     string
	}{
		{
			// The new endpoint is valid, and it must not be created either.
			name: "refused by the API",
			content: strings.Replace(reloadV1, "endpoints:\n", "endpoints:\n  - name: extra\n    url: http://127.0.0.1:9/extra\n", 1) +
				"  - name: broken\n    verification:\n      kind: strype\n",
			line: 13, msg: `sources[1] (broken): verification.kind: "strype" is not one of`,
		},
		{
			name:    "unknown key",
			content: strings.Replace(reloadV1, "description: v1", "descripton: v9", 1),
			line:    7, msg: `unknown field "descripton"`,
		},
		{
			name:    "unset variable",
			content: strings.Replace(reloadV1, "description: v1", "description: ${NOT_SET}", 1),
			line:    7, msg: "sources[0].description: ${NOT_SET} is not set",
		},
	}
	for _, tc := range cases {
		b.write(t, tc.content)
		err := b.rl.reload(t.Context())
		var fe *config.FileError
		require.ErrorAs(t, err, &fe, tc.name)
		require.Equal(t, tc.line, fe.Line, "%s: %v", tc.name, err)
		require.Contains(t, fe.Msg, tc.msg, tc.name)
		require.Contains(t, b.logs.String(), b.path+":"+strconv.Itoa(tc.line)+":", tc.name)

		after := b.source(t, "hooks")
		require.Equal(t, before.Description, after.Description, tc.name)
		require.Equal(t, before.UpdatedAt, after.UpdatedAt, "%s: the running state is kept", tc.name)
		require.Equal(t, []string{"relay"}, b.endpointNames(t), tc.name)
	}
	require.Contains(t, b.logs.String(), `msg="config reload refused; the running state is kept"`)
}

func TestReloadOnSignalAndWatch(t *testing.T) {
	t.Parallel()
	b := setupReload(t, reloadV1)
	require.False(t, b.rl.changed(), "nothing changed since the start")

	hup := make(chan os.Signal, 1)
	tick := make(chan time.Time, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); b.rl.run(ctx, hup, tick) }()
	defer func() { cancel(); <-done }()

	// A tick after the file changed reloads it.
	b.write(t, strings.Replace(reloadV1, "description: v1", "description: watched", 1))
	require.True(t, b.rl.changed())
	tick <- time.Now()
	require.Eventually(t, func() bool { return b.source(t, "hooks").Description == "watched" }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return !b.rl.changed() }, 10*time.Second, 10*time.Millisecond, "the new stamp is kept")

	// SIGHUP reloads without a change of stamp being needed.
	b.write(t, strings.Replace(reloadV1, "description: v1", "description: hup", 1))
	hup <- os.Interrupt
	require.Eventually(t, func() bool { return b.source(t, "hooks").Description == "hup" }, 10*time.Second, 10*time.Millisecond)
	require.Contains(t, b.logs.String(), "reason=SIGHUP")
	require.Contains(t, b.logs.String(), `reason="file changed"`)

	// A deleted file is one refused reload, not one per tick.
	require.NoError(t, os.Remove(b.path))
	tick <- time.Now()
	require.Eventually(t, func() bool { return strings.Count(b.logs.String(), "config reload refused") == 1 }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return !b.rl.changed() }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, "hup", b.source(t, "hooks").Description)
}

func TestServeRefusesBadDeclarationAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	path := filepath.Join(dir, "hookline.yaml")
	content := "addr: 127.0.0.1:0\nsources:\n  - name: hooks\n    verification:\n      kind: nope\n"
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	noEnv := &bundle{}

	noEnv.run(t, "", "serve", "--config", path, "--data-dir", dataDir).fails(t, path+`:5: sources[0] (hooks): verification.kind: "nope" is not one of`, ">   5 |       kind: nope")

	// The failed start released the data dir.
	cfg := config.Default()
	cfg.DataDir = dataDir
	a, err := app.New(t.Context(), cfg, app.Options{})
	require.NoError(t, err)
	require.NoError(t, a.Stop(t.Context()))

	noEnv.run(t, "", "serve", "--watch").fails(t, "--watch needs --config FILE")
}

func TestServeAppliesAndWatchesConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "hookline.yaml")
	write := func(desc string) {
		content := "sources:\n  - name: hooks\n    description: " + desc + "\n    verification: {kind: none}\n"
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	}
	write("first")
	addr := testkit.FreeAddr(t)
	serve := (&bundle{env: map[string]string{envAPIKey: liveKey}}).start(t,
		"serve", "--config", path, "--watch", "--addr", addr, "--data-dir", filepath.Join(dir, "data"))

	c := client.New("http://"+addr, liveKey)
	description := func() string {
		page, err := c.ListSources(t.Context(), client.ListOptions{})
		if err != nil || len(page.Data) != 1 {
			return ""
		}
		return page.Data[0].Description
	}
	require.Eventually(t, func() bool { return description() == "first" }, 20*time.Second, 10*time.Millisecond,
		"the declaration is applied at start; logs: %s", &serve.stderr)

	write("second, after a change")
	require.Eventually(t, func() bool { return description() == "second, after a change" }, 20*time.Second, 10*time.Millisecond,
		"--watch applies the changed file; logs: %s", &serve.stderr)
	require.Contains(t, serve.stderr.String(), `reason="file changed"`)

	serve.stop(t)
}

var (
	adminKeyPattern = regexp.MustCompile(`hk_[A-Za-z0-9_-]{20,}`)
	listenAddr      = regexp.MustCompile(`msg="hookline listening" addr=(\S+)`)
)

// TestFirstStartOnBusyPortKeepsTheKey starts serve on an empty data dir
// and a port in use: it fails naming the address and prints no key; the
// next start, on a free port, prints the key, and the key works.
func TestFirstStartOnBusyPortKeepsTheKey(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { busy.Close() })
	dataDir := filepath.Join(t.TempDir(), "data")
	b := &bundle{env: map[string]string{}}

	res := b.run(t, "", "serve", "--addr", busy.Addr().String(), "--data-dir", dataDir).fails(t, "error: cannot listen on "+busy.Addr().String()+": the address is already in use", "--addr or HOOKLINE_ADDR")
	require.NotRegexp(t, adminKeyPattern, res.stdout+res.stderr, "no key printed by a start that failed")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr testkit.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, strings.NewReader(""), &stdout, &stderr,
			func(string) (string, bool) { return "", false })
	}()
	require.Eventually(t, func() bool { return listenAddr.MatchString(stderr.String()) }, 20*time.Second, 10*time.Millisecond,
		"the second start listens; stderr: %s", &stderr)
	key := adminKeyPattern.FindString(stdout.String())
	require.NotEmpty(t, key, "the second start prints the key; stdout: %s", stdout.String())
	require.Contains(t, stdout.String(), "It is shown only this once")

	addr := listenAddr.FindStringSubmatch(stderr.String())[1]
	_, err = client.New("http://"+addr, key).ListAPIKeys(ctx)
	require.NoError(t, err, "the printed key is the tenant's admin key")
	cancel()
	require.Equal(t, 0, <-done, "stderr: %s", &stderr)

	// A third start prints nothing: the key was issued once.
	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	var stdout3, stderr3 testkit.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir}, strings.NewReader(""), &stdout3, &stderr3,
			func(string) (string, bool) { return "", false })
	}()
	require.Eventually(t, func() bool { return listenAddr.MatchString(stderr3.String()) }, 20*time.Second, 10*time.Millisecond)
	require.Empty(t, stdout3.String())
	cancel()
	require.Equal(t, 0, <-done)
}
