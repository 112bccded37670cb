package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/buildinfo"
)

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
