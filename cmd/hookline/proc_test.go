package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/testkit"
)

// serveKey is the admin API key of the servers startServe starts.
const serveKey = "hk_test_serve_admin_key_0123456789"

// buildHookline builds the binary into a temporary directory, with the
// extra go build flags, or skips the test with -short.
func buildHookline(t *testing.T, flags ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "hookline")
	args := append(append([]string{"build"}, flags...), "-o", bin, ".")
	out, err := exec.Command("go", args...).CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// serveProc is one `hookline serve` process.
type serveProc struct {
	id     string
	addr   string
	bin    string
	env    []string
	args   []string
	cmd    *exec.Cmd
	logs   *testkit.Buffer
	exited chan struct{}
}

func (p *serveProc) url() string { return "http://" + p.addr }

// client returns an API client of p with the admin key.
func (p *serveProc) client() *client.Client { return client.New(p.url(), serveKey) }

// startServe starts `hookline serve` with args on a free address and waits
// until it is ready.
func startServe(t *testing.T, bin, id string, args ...string) *serveProc {
	t.Helper()
	return startServeEnv(t, bin, id, nil, args...)
}

// startServeEnv is startServe with more environment variables, such as
// HOOKLINE_COMMIT_TIMEOUT=2s.
func startServeEnv(t *testing.T, bin, id string, env []string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{id: id, addr: testkit.FreeAddr(t), bin: bin, env: env, args: args}
	p.start(t)
	return p
}

// restart starts p again, after it exited, on the same address with the
// same arguments.
func (p *serveProc) restart(t *testing.T) {
	t.Helper()
	p.start(t)
}

func (p *serveProc) start(t *testing.T) {
	t.Helper()
	p.logs, p.exited = &testkit.Buffer{}, make(chan struct{})
	p.cmd = exec.Command(p.bin, append([]string{"serve", "--addr", p.addr, "--allow-private-networks"}, p.args...)...)
	p.cmd.Env = append(os.Environ(), "HOOKLINE_API_KEY="+serveKey, "HOOKLINE_ENCRYPTION_KEY="+strings.Repeat("cd", 32))
	p.cmd.Env = append(p.cmd.Env, p.env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	require.NoError(t, p.cmd.Start())
	cmd, exited := p.cmd, p.exited
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get(p.url() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond, "%s ready; logs: %s", p.id, p.logs)
}

// signal sends sig and waits for the process to exit.
func (p *serveProc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not exit; logs: %s", p.id, p.logs)
	}
}

// onStores runs test as parallel subtests on a SQLite data dir and on a
// PostgreSQL schema (skipped without HOOKLINE_TEST_POSTGRES), with the
// serve arguments that choose each.
func onStores(t *testing.T, test func(t *testing.T, db string, args []string)) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			args := []string{"--data-dir", filepath.Join(t.TempDir(), "data")}
			if db == "postgres" {
				args = append(args, "--database", testkit.PostgresSchema(t))
			}
			test(t, db, args)
		})
	}
}
