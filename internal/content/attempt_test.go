package content

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/clip"
	"github.com/hookline/hookline/internal/store"
)

// tricky are subjects fmt's %q quotes into invalid JSON (a control byte
// becomes \x01) or that JSON must escape.
var tricky = []string{
	"\x01 start of heading",
	"line\u2028separator\u2029paragraph",
	`a "quoted" \ backslash`,
	"tab\tnewline\n\x7f del",
	"<script>&amp;</script>",
	strings.Repeat("é", 150), // cut at 200 bytes, on a rune boundary
}

// TestSentAttemptIsJSON sends inbox messages whose subjects are tricky:
// each attempt's detail is valid JSON and gives the subject back.
func TestSentAttemptIsJSON(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const tenant = "ten_attempt"
	st, now := openStore(t, tenant, "attempt")
	x := New(Config{Store: st}).MessageExecutor()

	for i, subject := range tricky {
		m := store.Message{
			ID: "msg_" + string(rune('a'+i)), TenantID: tenant, Rule: "r", RecipientID: "u1", Channel: ChannelInbox,
			Subject: subject, Text: "t", Status: store.MessageScheduled, SendAt: now, CreatedAt: now, UpdatedAt: now,
		}
		require.NoError(t, st.SaveMessages(ctx, []store.Message{m}, nil, nil))
		out := x.Execute(ctx, &store.Task{ID: "dlv_" + m.ID, TenantID: tenant, DestinationID: m.ID})
		require.NoError(t, out.Err)
		require.Equal(t, "sent", out.Attempt.Outcome)
		require.Equal(t, store.AttemptMessage, out.Attempt.Kind)
		body := out.Attempt.Detail
		require.Truef(t, json.Valid(body), "subject %q: %s", subject, body)
		var got sent
		require.NoError(t, json.Unmarshal(body, &got))
		require.Equal(t, ChannelInbox, got.Channel)
		require.Equal(t, clip.To(subject, 200), got.Subject)
		require.True(t, utf8.ValidString(got.Subject))
		require.True(t, strings.HasPrefix(subject, strings.TrimSuffix(got.Subject, "…")))
	}
}
