package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

const sourceAnswer = `{"id":"src_1","name":"orders","path":"/in/orders","description":"shop",
	"verification":{"kind":"hmac","secrets":["****cret"]},"event_type":{"path":"type","prefix":"shop."},
	"dedup":{"paths":["id"],"window":"24h0m0s"},"enabled":true,"created_at":"2025-01-02T03:04:05Z"}`

func TestSourcesCreate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := b.fake("POST /v1/sources", http.StatusCreated, sourceAnswer)

	res := b.run(t, "", "sources", "create", "orders", "--verification", "hmac",
		"--secret", "s3cret", "--secret", "old,secret", "--event-type-path", "type", "--prefix", "shop.",
		"--dedup-path", "id", "--dedup-window", "24h", "--description", "shop")
	require.Equal(t, 0, res.code, res.stderr)

	desc := "shop"
	require.Equal(t, client.SourceCreate{
		Name:         "orders",
		Description:  &desc,
		Verification: &client.Verification{Kind: "hmac", Secrets: []string{"s3cret", "old,secret"}},
		EventType:    &client.SourceEventType{Path: "type", Prefix: "shop."},
		Dedup:        &client.SourceDedup{Paths: []string{"id"}, Window: "24h0m0s"},
	}, decode[client.SourceCreate](t, <-got))
	require.Regexp(t, `(?m)^id:\s+src_1$`, res.stdout)
	require.Regexp(t, `(?m)^path:\s+/in/orders$`, res.stdout)
	require.Regexp(t, `(?m)^url:\s+http://127\.0\.0\.1:\d+/in/orders$`, res.stdout)
	require.Regexp(t, `(?m)^verification:\s+hmac$`, res.stdout)
	require.Regexp(t, `(?m)^secrets:\s+\*\*\*\*cret$`, res.stdout)
	require.Regexp(t, `(?m)^event type:\s+path type, prefix shop\.$`, res.stdout)
	require.Regexp(t, `(?m)^dedup:\s+paths id within 24h0m0s$`, res.stdout)
}

func TestSourcesCreateMinimal(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := b.fake("POST /v1/sources", http.StatusCreated, `{"id":"src_2","name":"hooks","path":"/in/hooks","verification":{"kind":"none"},"enabled":true}`)
	res := b.run(t, "", "sources", "create", "hooks", "--verification", "none", "-o", "json").ok(t)
	require.JSONEq(t, `{"name":"hooks","verification":{"kind":"none"}}`, string((<-got).body), "unset groups are not sent")
	var src client.Source
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &src))
	require.Equal(t, "/in/hooks", src.Path)
}

func TestSourcesCreateRejectsBadFlagsLocally(t *testing.T) {
	t.Parallel()
	requireUsageErrors(t, "sources create", []usageCase{
		{[]string{"a"}, "--verification is required"},
		{[]string{"a", "--verification", "none", "--event-type-header", "X-Kind", "--event-type", "a.b"}, "--event-type-header and --event-type exclude each other"},
		{[]string{"a", "--verification", "none", "--dedup-window", "-1h"}, "invalid --dedup-window"},
		{[]string{"--verification", "none"}, "missing argument NAME"},
	})
}

func TestSourcesListGetDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	listed := b.fake("GET /v1/sources", http.StatusOK, `{"data":[`+sourceAnswer+`],"next_cursor":"src_1"}`)
	b.fake("GET /v1/sources/{id}", http.StatusOK, sourceAnswer)
	deleted := b.fake("DELETE /v1/sources/{id}", http.StatusNoContent, "")

	res := b.run(t, "", "sources", "list", "--limit", "1").ok(t)
	require.Regexp(t, `(?m)^ID\s+NAME\s+VERIFICATION\s+PATH\s+ENABLED\s+CREATED$`, res.stdout)
	require.Regexp(t, `(?m)^src_1\s+orders\s+hmac\s+/in/orders\s+true\s+2025-01-02T03:04:05Z$`, res.stdout)
	require.Contains(t, res.stderr, "more results: add --cursor src_1")
	require.Equal(t, "limit=1", (<-listed).URL.RawQuery)

	res = b.run(t, "", "source", "get", "src_1").ok(t)
	require.Regexp(t, `(?m)^description:\s+shop$`, res.stdout)

	res = b.run(t, "", "sources", "delete", "src_1").ok(t)
	require.Equal(t, "deleted source src_1\n", res.stdout)
	require.Equal(t, "src_1", (<-deleted).PathValue("id"))
}

func TestSourcesRejections(t *testing.T) {
	t.Parallel()
	b := setup(t)
	listed := b.fake("GET /v1/sources/{id}/rejections", http.StatusOK, `{"data":[{"id":"rj_1","created_at":"2025-01-02T03:04:05Z",
		"reason":"verify github webhook: no signature matches","method":"POST","remote_addr":"192.0.2.1:5555",
		"headers":{"X-Hub-Signature-256":"sha256=00"},"body":"{}"}]}`)

	res := b.run(t, "", "sources", "rejections", "src_1").ok(t)
	require.Regexp(t, `(?m)^ID\s+TIME\s+METHOD\s+REMOTE\s+REASON$`, res.stdout)
	require.Regexp(t, `(?m)^rj_1\s+2025-01-02T03:04:05Z\s+POST\s+192\.0\.2\.1:5555\s+verify github webhook: no signature matches$`, res.stdout)
	require.Equal(t, "src_1", (<-listed).PathValue("id"))

	res = b.run(t, "", "sources", "rejections", "src_1", "-o", "json").ok(t)
	var page client.Page[client.Rejection]
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &page))
	require.Equal(t, "sha256=00", page.Data[0].Headers["X-Hub-Signature-256"])
}
