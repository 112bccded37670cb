package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNotFoundSaysWhat asks every route that names a resource for one
// that does not exist: a 404 not_found whose message names the kind and
// the id, as do its details.
func TestNotFoundSaysWhat(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cases := []struct {
		method, path, body string
		kind, id           string
	}{
		{"GET", "/v1/endpoints/ep_x", "", "endpoint", "ep_x"},
		{"PATCH", "/v1/endpoints/ep_x", `{"description": "x"}`, "endpoint", "ep_x"},
		{"DELETE", "/v1/endpoints/ep_x", "", "endpoint", "ep_x"},
		{"POST", "/v1/endpoints/ep_x/rotate-secret", "", "endpoint", "ep_x"},
		{"GET", "/v1/endpoints/ep_x/secret", "", "endpoint", "ep_x"},
		{"POST", "/v1/endpoints/ep_x/recover", `{"since": "2026-01-01T00:00:00Z"}`, "endpoint", "ep_x"},
		{"GET", "/v1/events/evt_x", "", "event", "evt_x"},
		{"POST", "/v1/events/evt_x/replay", "", "event", "evt_x"},
		{"GET", "/v1/deliveries/dlv_x", "", "delivery", "dlv_x"},
		{"POST", "/v1/deliveries/dlv_x/retry", "", "delivery", "dlv_x"},
		{"GET", "/v1/sources/src_x", "", "source", "src_x"},
		{"PATCH", "/v1/sources/src_x", `{"description": "x"}`, "source", "src_x"},
		{"DELETE", "/v1/sources/src_x", "", "source", "src_x"},
		{"GET", "/v1/sources/src_x/rejections", "", "source", "src_x"},
		{"GET", "/v1/subscriptions/sub_x", "", "subscription", "sub_x"},
		{"PATCH", "/v1/subscriptions/sub_x", `{}`, "subscription", "sub_x"},
		{"DELETE", "/v1/subscriptions/sub_x", "", "subscription", "sub_x"},
		{"GET", "/v1/collections/nope", "", "collection", "nope"},
		{"PUT", "/v1/collections/nope", `{"key": "data.id", "events": {"a.b": "upsert"}}`, "collection", "nope"},
		{"DELETE", "/v1/collections/nope", "", "collection", "nope"},
		{"GET", "/v1/collections/nope/records", "", "collection", "nope"},
		{"POST", "/v1/collections/nope/records", `{"records": [{"id": "1"}]}`, "collection", "nope"},
		{"GET", "/v1/collections/nope/records/k1", "", "collection", "nope"},
		{"GET", "/v1/collections/nope/changes", "", "collection", "nope"},
		{"GET", "/v1/workflows/nope", "", "workflow", "nope"},
		{"GET", "/v1/workflows/nope?version=3", "", "workflow", "nope version 3"},
		{"PATCH", "/v1/workflows/nope", `{"enabled": false}`, "workflow", "nope"},
		{"DELETE", "/v1/workflows/nope", "", "workflow", "nope"},
		{"GET", "/v1/workflows/nope/runs", "", "workflow", "nope"},
		{"GET", "/v1/runs/run_x", "", "run", "run_x"},
		{"POST", "/v1/runs/run_x/retry", "", "run", "run_x"},
		{"POST", "/v1/runs/run_x/cancel", "", "run", "run_x"},
		{"GET", "/v1/recipients/r_x", "", "recipient", "r_x"},
		{"DELETE", "/v1/recipients/r_x", "", "recipient", "r_x"},
		{"GET", "/v1/recipients/r_x/token", "", "recipient", "r_x"},
		{"GET", "/v1/templates/nope", "", "template", "nope"},
		{"DELETE", "/v1/templates/nope", "", "template", "nope"},
		{"POST", "/v1/templates/nope/preview", `{}`, "template", "nope"},
		{"GET", "/v1/notify-rules/nope", "", "notify rule", "nope"},
		{"PUT", "/v1/notify-rules/nope", `{}`, "notify rule", "nope"},
		{"DELETE", "/v1/notify-rules/nope", "", "notify rule", "nope"},
		{"GET", "/v1/messages/msg_x", "", "message", "msg_x"},
		{"DELETE", "/v1/api-keys/key_x", "", "API key", "key_x"},
		{"GET", "/v1/event-types/nope.type", "", "event type", "nope.type"},
	}
	for _, tc := range cases {
		status, body := b.do(tc.method, tc.path, tc.body)
		apiRequire(t, 404, "not_found", status, body)
		_, msg, details := apiErrorOf(t, body)
		require.Equal(t, tc.kind+" "+tc.id+" not found", msg, "%s %s", tc.method, tc.path)
		require.Equal(t, map[string]any{"kind": tc.kind, "id": tc.id}, details, "%s %s", tc.method, tc.path)
	}
}
