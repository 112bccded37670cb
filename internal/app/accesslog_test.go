package app_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/config"
	"github.com/hookline/hookline/internal/testkit"
)

// accessLines returns the decoded "http request" lines of logs.
func accessLines(t *testing.T, logs *testkit.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for l := range strings.Lines(logs.String()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		if m["msg"] == "http request" {
			out = append(out, m)
		}
	}
	return out
}

// TestAccessLog checks that every answer of the server carries a request
// id and that each request is logged once, with its route pattern and
// tenant, and without the key or query string it came with.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	b := setup(t, func(_ *config.Config, o *app.Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	status, out := b.do(http.MethodPost, "/v1/events?token=query-secret", `{"type":"order.created","data":{}}`, "X-Request-Id", "trace-me-1")
	require.Equal(t, http.StatusAccepted, status, "%v", out)
	b.source(client.SourceCreate{Name: "plain", Verification: &client.Verification{Kind: "none"}})
	code, _ := b.post("plain", []byte(`{"a":1}`), http.Header{"Content-Type": {"application/json"}})
	require.Equal(t, http.StatusOK, code)
	// Unauthenticated and unrouted requests are answered and logged too.
	req, err := http.NewRequest(http.MethodGet, b.url+"/v1/endpoints", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Regexp(t, `^[A-Z2-7]{26}$`, resp.Header.Get("X-Request-Id"), "generated when none was sent")

	tenant, err := b.app.Store().TenantByName(t.Context(), app.DefaultTenant)
	require.NoError(t, err)
	var lines []map[string]any
	eventually(t, func() bool { lines = accessLines(t, &logs); return len(lines) >= 4 }, "four requests logged")
	byRoute := map[string]map[string]any{}
	for _, l := range lines {
		byRoute[l["route"].(string)] = l
	}
	publish := byRoute["POST /v1/events"]
	require.NotNil(t, publish, "%v", lines)
	require.Equal(t, "POST", publish["method"])
	require.EqualValues(t, 202, publish["status"])
	require.Equal(t, tenant.ID, publish["tenant_id"])
	require.Equal(t, "trace-me-1", publish["request_id"])
	require.Contains(t, publish, "duration_ms")
	in := byRoute["/in/{source}"]
	require.NotNil(t, in, "%v", lines)
	require.EqualValues(t, 200, in["status"])
	require.Equal(t, tenant.ID, in["tenant_id"])
	unauth := byRoute["GET /v1/endpoints"]
	require.EqualValues(t, 401, unauth["status"])
	require.Equal(t, "", unauth["tenant_id"])
	require.Equal(t, resp.Header.Get("X-Request-Id"), unauth["request_id"])

	all := logs.String()
	require.NotContains(t, all, b.key, "no API key in the log")
	require.NotContains(t, all, "query-secret", "no query string in the log")
}
