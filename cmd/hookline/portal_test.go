package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

func TestPortal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	calls := b.fake("POST /v1/portal/sessions", http.StatusCreated,
		`{"id":"ps_1","url":"http://127.0.0.1:8080/portal/open/tok","expires_at":"2026-01-02T04:04:05Z","event_types":["order.*"],"label":"Acme"}`)

	res := b.run(t, "", "portal", "--event-type", "order.*", "--event-type", "invoice.paid", "--expires-in", "2h", "--label", "Acme").ok(t)
	in := decode[client.PortalSessionCreate](t, <-calls)
	require.Equal(t, client.PortalSessionCreate{EventTypes: []string{"order.*", "invoice.paid"}, ExpiresIn: 7200, Label: "Acme"}, in)
	require.Contains(t, res.stdout, "http://127.0.0.1:8080/portal/open/tok")
	require.Contains(t, res.stdout, "order.*")
	require.Contains(t, res.stderr, "portal link is shown only this once")

	b.run(t, "", "portal").ok(t)
	require.Equal(t, client.PortalSessionCreate{}, decode[client.PortalSessionCreate](t, <-calls), "the server's defaults")

	requireUsageErrors(t, "portal", []usageCase{
		{[]string{"--expires-in", "1.5s"}, "whole seconds"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	})
}
