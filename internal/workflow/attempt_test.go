package workflow

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

// TestAttemptDetail checks the details of workflow attempts: the wire
// format of the maps before them, and valid JSON that round-trips whatever
// a reason holds (a run's error quotes a step id).
func TestAttemptDetail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		detail any
		want   string
	}{
		{skipped{Reason: "workflow deleted"}, `{"reason":"workflow deleted"}`},
		{skipped{Reason: "event does not match the wait", EventID: "evt_1"}, `{"event_id":"evt_1","reason":"event does not match the wait"}`},
		{started{RunID: "run_1", Version: 2}, `{"run_id":"run_1","version":2}`},
		{progressed{RunID: "run_1", Status: "waiting", CurrentStep: "paid"}, `{"current_step":"paid","run_id":"run_1","status":"waiting"}`},
	} {
		out := outcome("x", "workflow:w", tc.detail)
		require.Equal(t, store.AttemptWorkflow, out.Attempt.Kind)
		require.Equal(t, tc.want, string(out.Attempt.Detail))
	}
	require.Nil(t, outcome("internal_error", "workflow:w", nil).Attempt.Detail)

	for _, s := range []string{"\x01", "a\u2028b", `step "q" \ b`, "\x7f\t\n"} {
		out := outcome("skipped", "workflow:w", skipped{Reason: s})
		require.Truef(t, json.Valid(out.Attempt.Detail), "%q: %s", s, out.Attempt.Detail)
		var back skipped
		require.NoError(t, json.Unmarshal(out.Attempt.Detail, &back))
		require.Equal(t, s, back.Reason)
	}
}
