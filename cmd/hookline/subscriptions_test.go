package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

const subscriptionAnswer = `{"id":"sub_1","name":"public","event_types":["github.*"],"filter":"event.data.n > 1",
	"destination":{"kind":"forward","endpoint_id":"ep_1"},"enabled":true,"circuit":"open","created_at":"2025-01-02T03:04:05Z"}`

func TestSubscriptionsCreate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := b.fake("POST /v1/subscriptions", http.StatusCreated, subscriptionAnswer)

	res := b.run(t, "", "subscriptions", "create", "--endpoint", "ep_1", "--event-type", "github.*", "--event-type", "stripe.charge.*",
		"--filter", "event.data.n > 1", "--transform", `{"n": event.data.n}`, "--name", "public")
	require.Equal(t, 0, res.code, res.stderr)
	require.JSONEq(t, `{"name":"public","event_types":["github.*","stripe.charge.*"],"filter":"event.data.n > 1",
		"transform":"{\"n\": event.data.n}","destination":{"kind":"forward","endpoint_id":"ep_1"}}`, string((<-got).body))
	require.Regexp(t, `(?m)^id:\s+sub_1$`, res.stdout)
	require.Regexp(t, `(?m)^destination:\s+forward → ep_1$`, res.stdout)

	b.run(t, "", "subscriptions", "create", "--endpoint", "ep_1").ok(t)
	require.JSONEq(t, `{"destination":{"kind":"forward","endpoint_id":"ep_1"}}`, string((<-got).body), "unset fields are not sent")

	b.run(t, "", "subscriptions", "create", "--event-type", "a.b").fails(t, "--endpoint is required")
}

func TestSubscriptionsListGetDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake("GET /v1/subscriptions", http.StatusOK, `{"data":[`+subscriptionAnswer+`]}`)
	b.fake("GET /v1/subscriptions/{id}", http.StatusOK, subscriptionAnswer)
	deleted := b.fake("DELETE /v1/subscriptions/{id}", http.StatusNoContent, "")

	res := b.run(t, "", "subscriptions", "list").ok(t)
	require.Regexp(t, `(?m)^ID\s+NAME\s+EVENT TYPES\s+DESTINATION\s+ENABLED\s+CIRCUIT\s+CREATED$`, res.stdout)
	require.Regexp(t, `(?m)^sub_1\s+public\s+github\.\*\s+forward → ep_1\s+true\s+open\s+2025-01-02T03:04:05Z$`, res.stdout)

	res = b.run(t, "", "subscriptions", "get", "sub_1").ok(t)
	require.Regexp(t, `(?m)^circuit:\s+open$`, res.stdout)

	res = b.run(t, "", "subscription", "get", "sub_1", "-o", "json").ok(t)
	var sub client.Subscription
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &sub))
	require.Equal(t, "event.data.n > 1", sub.Filter)

	res = b.run(t, "", "subscriptions", "delete", "sub_1", "-o", "json").ok(t)
	require.JSONEq(t, `{"id":"sub_1","deleted":true}`, res.stdout)
	require.Equal(t, "sub_1", (<-deleted).PathValue("id"))
}
