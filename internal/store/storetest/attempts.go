package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

// testAttemptDetail completes tasks with attempts of each kind: the kind
// and the detail read back byte for byte (the detail's control bytes,
// U+2028, quotes and backslashes escaped as json.Marshal wrote them, its
// key order kept), an HTTP attempt has no detail.
func testAttemptDetail(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid, ep := acme(t, s)
	ne := newEvent(tid, "order.created", "", base, ep.ID, ep.ID)
	require.NoError(t, errOf(s.AcceptEvents(ctx, []store.NewEvent{ne})))
	claimed := claimUntil(t, s, store.Claim{Now: base, Lease: time.Minute, Owner: "node-a", Limit: 10}, 2)

	tricky := "\x01 line\u2028sep \"q\" \\ é\t"
	detail, err := json.Marshal(struct {
		Reason string `json:"reason"`
		Z      int    `json:"z"`
		A      []any  `json:"a"`
	}{Reason: tricky, Z: 1, A: []any{nil, true, 2.5}})
	require.NoError(t, err)
	inProcess := store.Attempt{ID: "atm_1", TenantID: tid, Number: 1, StartedAt: base, Duration: time.Millisecond,
		Outcome: "skipped", Kind: store.AttemptNotify, Detail: detail, RequestURL: "notify:welcome"}
	web := store.Attempt{ID: "atm_2", TenantID: tid, Number: 1, StartedAt: base, Duration: time.Millisecond,
		Outcome: "success", Kind: store.AttemptHTTP, RequestURL: ep.URL, ResponseStatus: 200, ResponseBody: "ok"}
	var rs []store.TaskResult
	for i, id := range []string{ne.Tasks[0].ID, ne.Tasks[1].ID} {
		a := []store.Attempt{inProcess, web}[i]
		rs = append(rs, store.TaskResult{TaskID: id, Token: claimed[id].LeaseToken, Attempt: a, Status: store.StatusSucceeded})
	}
	stale, err := s.CompleteTasks(ctx, rs)
	require.NoError(t, err)
	require.Empty(t, stale)

	for _, r := range rs {
		got, err := s.ListAttempts(ctx, tid, r.TaskID)
		require.NoError(t, err)
		require.Len(t, got, 1)
		want := r.Attempt
		want.TaskID = r.TaskID
		want.RequestHeaders, want.ResponseHeaders = got[0].RequestHeaders, got[0].ResponseHeaders
		require.Equal(t, want, got[0])
	}
	got, err := s.ListAttempts(ctx, tid, ne.Tasks[0].ID)
	require.NoError(t, err)
	require.Equal(t, string(detail), string(got[0].Detail))
	require.True(t, json.Valid(got[0].Detail))
	var back struct {
		Reason string `json:"reason"`
	}
	require.NoError(t, json.Unmarshal(got[0].Detail, &back))
	require.Equal(t, tricky, back.Reason)
	got, err = s.ListAttempts(ctx, tid, ne.Tasks[1].ID)
	require.NoError(t, err)
	require.Nil(t, got[0].Detail, "an HTTP attempt has no detail")
}
