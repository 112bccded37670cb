package main

import (
	"testing"

	"github.com/hookline/hookline/internal/testkit"
	"github.com/stretchr/testify/require"
)

// TestUnreachableServerSuggestsServe points the CLI at a port where
// nothing listens, by environment and by flag.
func TestUnreachableServerSuggestsServe(t *testing.T) {
	t.Parallel()
	url := "http://" + testkit.FreeAddr(t)
	want := "error: cannot reach the Hookline server at " + url +
		": connection refused — start it with 'hookline serve' or point --server / HOOKLINE_SERVER at it\n"

	b := &bundle{env: map[string]string{envServer: url, envAPIKey: testKey}}
	res := b.run(t, "", "endpoints", "list").fails(t)
	require.Equal(t, want, res.stderr)

	b = &bundle{env: map[string]string{envAPIKey: testKey}}
	res = b.run(t, "", "events", "get", "evt_1", "--server", url).fails(t)
	require.Equal(t, want, res.stderr)
}

// TestNotFoundNamesTheResource asks a real server for resources that do
// not exist.
func TestNotFoundNamesTheResource(t *testing.T) {
	t.Parallel()
	l := startLive(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"endpoints", "get", "ep_x"}, "error: endpoint ep_x not found (not_found, HTTP 404)\n  id: ep_x\n  kind: endpoint\n"},
		{[]string{"events", "get", "evt_x"}, "error: event evt_x not found (not_found, HTTP 404)\n  id: evt_x\n  kind: event\n"},
		{[]string{"deliveries", "retry", "dlv_x"}, "error: delivery dlv_x not found (not_found, HTTP 404)\n  id: dlv_x\n  kind: delivery\n"},
		{[]string{"workflows", "get", "nope"}, "error: workflow nope not found (not_found, HTTP 404)\n  id: nope\n  kind: workflow\n"},
		{[]string{"notify-rules", "delete", "nope"}, "error: notify rule nope not found (not_found, HTTP 404)\n  id: nope\n  kind: notify rule\n"},
	} {
		res := l.run(t, "", tc.args...)
		require.Equal(t, 1, res.code, tc.args)
		require.Equal(t, tc.want, res.stderr, tc.args)
	}
}
