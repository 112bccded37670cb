package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

func TestEndpointsCreate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := b.fake("POST /v1/endpoints", http.StatusCreated, `{"id":"ep_1","url":"https://example.com/hooks","event_types":["order.*"],"format":"json",
		"timeout":"10s","enabled":true,"secret":"whsec_c2VjcmV0"}`)

	res := b.run(t, "", "endpoints", "create",
		"--url", "https://example.com/hooks",
		"--event-type", "order.*", "--event-type", "user.created",
		"--header", "X-Team=billing", "--header", "X-Tag=a=b,c",
		"--timeout", "10s", "--format", "json", "--filter", "event.data.total > 100",
		"--description", "billing")
	require.Equal(t, 0, res.code, res.stderr)

	require.Equal(t, client.EndpointCreate{
		URL:         "https://example.com/hooks",
		Description: "billing",
		EventTypes:  []string{"order.*", "user.created"},
		Filter:      "event.data.total > 100",
		Format:      "json",
		Headers:     map[string]string{"X-Team": "billing", "X-Tag": "a=b,c"},
		Timeout:     "10s",
	}, decode[client.EndpointCreate](t, <-got))
	require.Regexp(t, `(?m)^id:\s+ep_1$`, res.stdout)
	require.Regexp(t, `(?m)^secret:\s+whsec_c2VjcmV0$`, res.stdout)
	require.Contains(t, res.stderr, "shown only this once")
}

func TestEndpointsCreateRejectsBadFlagsLocally(t *testing.T) {
	t.Parallel()
	requireUsageErrors(t, "endpoints create", []usageCase{
		{[]string{"--event-type", "a.b"}, "--url is required"},
		{[]string{"--url", "https://x.test", "--format", "yaml"}, `invalid --format "yaml"`},
		{[]string{"--url", "https://x.test", "--header", "no-equals-sign"}, `invalid --header "no-equals-sign"`},
	})
}
