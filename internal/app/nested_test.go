package app_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNestedListsOfMissingParents checks that a list under a resource
// (a workflow's runs, a collection's records, a source's rejections) is a
// 404 when the resource is not the caller's, never an empty page.
func TestNestedListsOfMissingParents(t *testing.T) {
	t.Parallel()
	b := setup(t)

	b.saveWorkflow(`name: mine
on: { events: ["order.created"] }
steps:
  - id: note
    emit: { type: order.noted, data: { order: "{{ event.data.id }}" } }
`)
	b.saveWorkflow(`name: gone
on: { events: ["order.created"] }
steps:
  - id: note
    emit: { type: order.gone, data: { order: "{{ event.data.id }}" } }
`)
	status, body := b.do("POST", "/v1/collections", `{"name": "customers", "key": "data.id", "events": {"customer.updated": "upsert"}}`)
	apiRequire(t, 201, "", status, body)
	status, body = b.do("POST", "/v1/sources", `{"name": "shop", "verification": {"kind": "none"}}`)
	apiRequire(t, 201, "", status, body)
	sourceID, _ := body["id"].(string)
	require.NotEmpty(t, sourceID)

	// A run of each workflow, then "gone" is deleted: its runs are kept.
	b.send("order.created", `{"id": "o1"}`)
	b.waitRun("mine", "succeeded")
	b.waitRun("gone", "succeeded")
	status, body = b.do("DELETE", "/v1/workflows/gone", "")
	apiRequire(t, 204, "", status, body)

	status, body = b.do("POST", "/v1/tenants", `{"name": "other"}`)
	apiRequire(t, 201, "", status, body)
	otherKey, _ := body["api_key"].(map[string]any)["key"].(string)
	other := apiBearer(otherKey)

	for _, r := range []struct{ path, msg string }{
		{"/v1/workflows/mine/runs", "workflow mine not found"},
		{"/v1/workflows/gone/runs", "workflow gone not found"},
		{"/v1/workflows/mine/runs?status=failed", "workflow mine not found"},
		{"/v1/collections/customers/records", ""},
		{"/v1/collections/customers/records/c1", ""},
		{"/v1/collections/customers/changes", ""},
		{"/v1/sources/" + sourceID + "/rejections", ""},
	} {
		status, body := b.do("GET", r.path, "", other...)
		apiRequire(t, 404, "not_found", status, body)
		if r.msg != "" {
			_, msg, _ := apiErrorOf(t, body)
			require.Equal(t, r.msg, msg, "GET %s", r.path)
		}
	}

	// In the owner's tenant: a name never used is a 404 too, a workflow's
	// runs list, and so do the kept runs of a deleted workflow.
	status, body = b.do("GET", "/v1/workflows/never/runs", "")
	apiRequire(t, 404, "not_found", status, body)
	_, msg, _ := apiErrorOf(t, body)
	require.Equal(t, "workflow never not found", msg)
	for _, name := range []string{"mine", "gone"} {
		status, body = b.do("GET", "/v1/workflows/"+name+"/runs", "")
		apiRequire(t, 200, "", status, body)
		require.Len(t, body["data"], 1, "runs of %s", name)
		status, body = b.do("GET", "/v1/workflows/"+name+"/runs?status=failed", "")
		apiRequire(t, 200, "", status, body)
		require.Empty(t, body["data"], "failed runs of %s", name)
	}
}
