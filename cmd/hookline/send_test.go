package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sendFake answers POST /v1/events by echoing the event and passes on what it
// received.
func sendFake(t *testing.T, b *bundle) <-chan map[string]any {
	t.Helper()
	got := make(chan map[string]any, 1)
	b.mux.HandleFunc("POST /v1/events", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var in map[string]any
		assert.NoError(t, json.Unmarshal(body, &in))
		data, err := json.Marshal(in["data"])
		assert.NoError(t, err)
		in["header_idempotency_key"] = r.Header.Get("Idempotency-Key")
		got <- in
		answer(w, http.StatusAccepted, `{"id":"evt_1","type":"order.created","data":`+string(data)+`,"deliveries":1}`)
	})
	return got
}

func TestSendPrintsEventID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := sendFake(t, b)

	res := b.run(t, "", "send", "order.created", "--data", `{"total":42}`, "--idempotency-key", "ord_1").ok(t)
	require.Equal(t, "evt_1\n", res.stdout)
	in := <-got
	require.Equal(t, "order.created", in["type"])
	require.Equal(t, map[string]any{"total": 42.0}, in["data"])
	require.Equal(t, "ord_1", in["idempotency_key"])
	require.Equal(t, "ord_1", in["header_idempotency_key"])
}

func TestSendReadsStdinAndPrintsJSON(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := sendFake(t, b)

	res := b.run(t, `{"id":"ord_2"}`, "send", "order.created", "--data-file", "-", "-o", "json").ok(t)
	in := <-got
	require.Equal(t, map[string]any{"id": "ord_2"}, in["data"])
	require.Empty(t, in["header_idempotency_key"])

	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &out))
	require.Equal(t, "evt_1", out["id"])
	require.Equal(t, 1.0, out["deliveries"])
}

func TestSendRefusesDataNotUTF8(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got := sendFake(t, b)
	bad := "{\"x\":\"\xff\xfe\"}"
	path := writeTemp(t, "order.json", bad)

	// encoding/json calls this valid JSON; the API and strict clients do not.
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"send", "a.b", "--data-file", path}, "error: event data in " + path + " is not valid UTF-8 at byte 7\n"},
		{bad, []string{"send", "a.b", "--data-file", "-"}, "error: event data on standard input is not valid UTF-8 at byte 7\n"},
		{"", []string{"send", "a.b", "--data", bad}, "error: event data is not valid UTF-8 at byte 7\n"},
		{"", []string{"recipients", "put", "c1", "--data", "@" + path}, "error: --data (" + path + ") is not valid UTF-8 at byte 7\n"},
	} {
		res := b.run(t, tc.stdin, tc.args...)
		require.Equal(t, 1, res.code, tc.args)
		require.Contains(t, res.stderr, tc.want, tc.args)
	}
	require.Empty(t, got, "nothing was sent")
}
