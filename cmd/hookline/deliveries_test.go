package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDeliveriesGetShowsAttemptLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := b.fake("GET /v1/deliveries/{id}", http.StatusOK, `{"id":"dlv_1","event_id":"evt_1","event_type":"order.created","endpoint_id":"ep_1",
			"status":"succeeded","attempts":2,"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:10Z",
			"attempt_log":[
				{"id":"att_1","number":1,"started_at":"2025-01-02T03:04:05Z","duration_ms":31,"outcome":"retry","response_status":503,"response_body":"upstream\tdown\n"},
				{"id":"att_2","number":2,"started_at":"2025-01-02T03:04:10Z","duration_ms":12,"outcome":"success","response_status":200}
			]}`)

	res := b.run(t, "", "deliveries", "get", "dlv_1").ok(t)
	require.Regexp(t, `(?m)^status:\s+succeeded$`, res.stdout)
	require.Regexp(t, `(?m)^event:\s+evt_1 \(order.created\)$`, res.stdout)
	require.Contains(t, res.stdout, "attempt log:")
	require.Regexp(t, `(?m)^1\s+2025-01-02T03:04:05Z\s+31ms\s+retry\s+503\s+upstream down$`, res.stdout)
	require.Regexp(t, `(?m)^2\s+2025-01-02T03:04:10Z\s+12ms\s+success\s+200\s+-$`, res.stdout)
	require.Equal(t, "dlv_1", (<-got).PathValue("id"))
}
