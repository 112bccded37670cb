package collection

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

// TestSyncSummary checks a sync attempt's summary: the wire format the
// map before it wrote (keys in order, seq and stored_version only when
// known), and valid JSON whatever the strings hold.
func TestSyncSummary(t *testing.T) {
	t.Parallel()
	got := summary(Result{Key: "7", Op: "merge", Outcome: "applied", Version: "t:2026-11-27T10:07:00Z",
		Stored: "t:2026-11-27T10:00:00Z", Change: &store.Change{Seq: 2}})
	require.Equal(t, `{"key":"7","op":"merge","outcome":"applied","seq":2,"stored_version":"2026-11-27T10:00:00Z","version":"2026-11-27T10:07:00Z"}`, string(got))
	require.Equal(t, `{"key":"7","op":"upsert","outcome":"duplicate","version":""}`, string(summary(Result{Key: "7", Op: "upsert", Outcome: "duplicate"})))

	for _, s := range []string{"\x01", "a\u2028b", `"q" \ b`, "\x7f\t\n"} {
		for _, body := range []json.RawMessage{
			summary(Result{Key: s, Op: "merge", Outcome: "applied", Version: "s:" + s}),
			marshal(syncSkipped{Outcome: "skipped", Reason: "no operation of collection " + s + " matches " + s}),
		} {
			require.Truef(t, json.Valid(body), "%q: %s", s, body)
		}
		var d syncDetail
		require.NoError(t, json.Unmarshal(summary(Result{Key: s, Version: "s:" + s}), &d))
		require.Equal(t, s, d.Key)
		require.Equal(t, s, d.Version)
	}
}
