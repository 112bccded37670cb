package app_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/buildinfo"
)

// TestRequestsCarryTheBuild checks that deliveries, workflow HTTP steps and
// content lookups all send the server's build as User-Agent, and that
// /metrics exports it as hookline_build_info.
func TestRequestsCarryTheBuild(t *testing.T) {
	t.Parallel()
	bi := buildinfo.Info{Version: "v1.2.3-test", Revision: "0123456789abcdef0123456789abcdef01234567", GoVersion: "go1.99.9"}
	const want = "Hookline/v1.2.3-test (rev 0123456789ab)"
	b := setup(t, withBuild(bi))
	rc := newReceiver(t, nil)
	b.endpoint(client.EndpointCreate{URL: rc.URL, EventTypes: []string{"order.*", "shop.notice"}})
	svc := newService(t, nil)
	b.saveWorkflow(fmt.Sprintf(`name: call
on: { events: ["order.created"] }
steps:
  - id: call
    http: { url: "%s/step" }
`, svc.URL))
	status, out := b.do("POST", "/v1/apply", fmt.Sprintf(`{
	"recipients": [{"id": "r1", "email": "ada@example.com"}],
	"templates": [{"name": "t", "subject": "hi", "text": "{{.records.crm.ok}}"}],
	"notify_rules": [{"name": "n", "events": ["order.created"], "recipient": "data.to", "template": "t",
		"channels": ["webhook"], "webhook_type": "shop.notice",
		"lookups": [{"name": "crm", "url": "%s/lookup"}]}]}`, svc.URL))
	require.Equal(t, http.StatusOK, status, "%v", out)

	b.send("order.created", `{"to": "r1"}`)
	eventually(t, func() bool { return rc.count() == 2 }, "the event and the content webhook delivered")
	eventually(t, func() bool { return svc.count() == 2 }, "the workflow step and the lookup called")
	for _, r := range rc.requests() {
		require.Equal(t, want, r.header.Get("User-Agent"), "delivery")
	}
	for i := range 2 {
		require.Equal(t, want, svc.header(i, "User-Agent"), "workflow step or lookup %d", i)
	}

	resp, err := http.Get(b.url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, strings.Split(string(raw), "\n"),
		`hookline_build_info{go_version="go1.99.9",revision="0123456789abcdef0123456789abcdef01234567",version="v1.2.3-test"} 1`)
}
