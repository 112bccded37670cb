package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// readyTimeout bounds the wait for a started server's /readyz.
	readyTimeout = 60 * time.Second
	// stopGrace is how long a server gets to stop on SIGTERM before it is
	// killed.
	stopGrace = 10 * time.Second
	// logTail is how much of a server's log an error quotes, in bytes.
	logTail = 2 << 10
)

// childEnvDropped are variables a child server must not inherit: the run
// gives it its own key, address and data dir, and a fresh SQLite store.
var childEnvDropped = []string{
	"HOOKLINE_API_KEY", "HOOKLINE_ADDR", "HOOKLINE_DATA_DIR", "HOOKLINE_DATABASE",
	"HOOKLINE_ENCRYPTION_KEY", "HOOKLINE_NODE_ID", "HOOKLINE_SERVER",
}

// childConfig says how to start a `hookline serve` child process.
type childConfig struct {
	binary  string
	env     []string
	addr    string
	dataDir string
	key     string
	// logPath receives the server's stdout and stderr.
	logPath string
}

// child is a running `hookline serve` process.
type child struct {
	cfg  childConfig
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{} // closed once the process has been waited for
	err  error         // the process's exit, set before done closes
}

// childEnv returns base without the variables in childEnvDropped, plus
// HOOKLINE_API_KEY=key.
func childEnv(base []string, key string) []string {
	out := make([]string, 0, len(base)+1)
	for _, kv := range base {
		name, _, _ := strings.Cut(kv, "=")
		dropped := false
		for _, d := range childEnvDropped {
			dropped = dropped || name == d
		}
		if !dropped {
			out = append(out, kv)
		}
	}
	return append(out, "HOOKLINE_API_KEY="+key)
}

// inheritedEnv lists the HOOKLINE_* and GO* variables of env other than
// HOOKLINE_API_KEY: the tuning a child server ran with.
func inheritedEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if (strings.HasPrefix(name, "HOOKLINE_") || strings.HasPrefix(name, "GO")) && name != "HOOKLINE_API_KEY" {
			out = append(out, kv)
		}
	}
	return out
}

// startChild starts the server and waits until it is ready.
func startChild(ctx context.Context, cfg childConfig) (*child, error) {
	log, err := os.OpenFile(cfg.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	cmd := exec.Command(cfg.binary, "serve", "--addr", cfg.addr, "--data-dir", cfg.dataDir, "--allow-private-networks")
	cmd.Env = cfg.env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start server %s: %w", cfg.binary, err)
	}
	c := &child{cfg: cfg, cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		log.Close()
		close(c.done)
	}()
	if err := c.waitReady(ctx); err != nil {
		c.kill()
		return nil, err
	}
	return c, nil
}

// waitReady polls /readyz until it answers 200.
func (c *child) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, Timeout: 2 * time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if readyz(ctx, hc, "http://"+c.cfg.addr) {
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("server exited before it was ready (%v); log:\n%s", c.err, tail(c.cfg.logPath))
		case <-ctx.Done():
			return fmt.Errorf("server not ready on %s: %w; log:\n%s", c.cfg.addr, ctx.Err(), tail(c.cfg.logPath))
		case <-tick.C:
		}
	}
}

// readyz reports whether the server at base answers /readyz with 200.
func readyz(ctx context.Context, hc *http.Client, base string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// pid returns the process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// peakRSS returns the process's peak resident set size (VmHWM), or 0 when
// it cannot be read.
func (c *child) peakRSS() int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(c.pid()) + "/status")
	if err != nil {
		return 0
	}
	n, _ := parseVmHWM(b)
	return n
}

// kill sends SIGKILL and waits for the process to end.
func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.done
}

// stop asks the server to shut down gracefully and kills it after
// stopGrace.
func (c *child) stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		c.kill()
	}
}

// parseVmHWM returns the VmHWM line of /proc/<pid>/status in bytes.
func parseVmHWM(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("parse VmHWM %q: want \"<n> kB\"", rest)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse VmHWM: %w", err)
		}
		return kb << 10, nil
	}
	return 0, errors.New("parse VmHWM: no VmHWM line")
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// tail returns the end of the file at path.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if len(b) > logTail {
		b = b[len(b)-logTail:]
	}
	return string(b)
}
