package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/clock"
	"github.com/hookline/hookline/internal/config"
)

// POST /v1/portal/sessions: defaults, a link on the request's host or
// public_url, and the refusals of bad bodies, each with its JSON error.
func TestPortalSessionCreate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	b := setup(t, withClock(clock.NewManual(now)))
	ctx := context.Background()

	ps, err := b.client.CreatePortalSession(ctx, client.PortalSessionCreate{})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(ps.ID, "ps_"), ps.ID)
	require.Regexp(t, `^`+b.url+`/portal/open/[A-Za-z0-9_-]{43}$`, ps.URL, "on the host the request came to")
	require.Equal(t, now.Add(time.Hour), ps.ExpiresAt.Time, "an hour by default")
	require.Equal(t, []string{}, ps.EventTypes, "every type")

	scoped, err := b.client.CreatePortalSession(ctx, client.PortalSessionCreate{EventTypes: []string{"order.*", "invoice.paid"},
		ExpiresIn: 86400, Label: "  Acme Inc. "})
	require.NoError(t, err)
	require.Equal(t, []string{"order.*", "invoice.paid"}, scoped.EventTypes)
	require.Equal(t, "Acme Inc.", scoped.Label)
	require.Equal(t, now.Add(24*time.Hour), scoped.ExpiresAt.Time)
	require.NotEqual(t, ps.URL, scoped.URL)

	// An empty body is every type for an hour, as {}.
	status, out := b.do(http.MethodPost, "/v1/portal/sessions", "")
	require.Equal(t, http.StatusCreated, status, out)

	for _, tc := range []struct {
		body, code, field string
		status            int
	}{
		{`{"expires_in": 59}`, "validation_failed", "expires_in", 422},
		{`{"expires_in": 86401}`, "validation_failed", "expires_in", 422},
		{`{"expires_in": -5}`, "validation_failed", "expires_in", 422},
		{`{"event_types": ["order..created"]}`, "validation_failed", "event_types", 422},
		{`{"event_types": ["**.x"]}`, "validation_failed", "event_types", 422},
		{`{"event_types": [` + strings.Repeat(`"a",`, 100) + `"a"]}`, "validation_failed", "event_types", 422},
		{`{"label": "` + strings.Repeat("x", 101) + `"}`, "validation_failed", "label", 422},
		{`{"label": "a\u0007b"}`, "validation_failed", "label", 422},
		{`{"expires_in": "1h"}`, "invalid_json", "expires_in", 400},
		{`{"tenant_id": "ten_other"}`, "invalid_json", "", 400},
		{`[]`, "invalid_json", "", 400},
	} {
		status, out := b.do(http.MethodPost, "/v1/portal/sessions", tc.body)
		require.Equal(t, tc.status, status, "%s: %v", tc.body, out)
		e := out["error"].(map[string]any)
		require.Equal(t, tc.code, e["code"], tc.body)
		require.NotEmpty(t, e["message"], tc.body)
		if tc.field != "" {
			require.Equal(t, tc.field, e["details"].(map[string]any)["field"], tc.body)
		}
	}
	status, out = b.do(http.MethodPost, "/v1/portal/sessions", `{}`, "Authorization", "Bearer hk_nope")
	require.Equal(t, http.StatusUnauthorized, status, out)
}

// The link is public_url's when it is set, under the dashboard's prefix;
// with the dashboard off there is no portal, and the API says so.
func TestPortalSessionLinkBase(t *testing.T) {
	t.Parallel()
	b := setup(t, withPublicURL("https://hooks.example.com/"), func(c *config.Config, _ *app.Options) { c.Dashboard = "/ui" })
	ps, err := b.client.CreatePortalSession(context.Background(), client.PortalSessionCreate{})
	require.NoError(t, err)
	require.Regexp(t, `^https://hooks\.example\.com/ui/portal/open/[A-Za-z0-9_-]{43}$`, ps.URL)

	off := setup(t, func(c *config.Config, _ *app.Options) { c.Dashboard = "off" })
	status, out := off.do(http.MethodPost, "/v1/portal/sessions", `{}`)
	require.Equal(t, http.StatusConflict, status)
	require.Contains(t, out["error"].(map[string]any)["message"], "dashboard is off")
}
