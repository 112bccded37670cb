package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCloseAnnouncementsFitNotify(t *testing.T) {
	t.Parallel()
	require.Empty(t, closeAnnouncements(nil))
	require.Equal(t, []string{"close-circuits\ndelivery:ep_1\nworkflow:run_2"}, closeAnnouncements([]string{"delivery:ep_1", "workflow:run_2"}))

	var keys []string
	for i := range 1000 {
		keys = append(keys, "delivery:ep_"+strings.Repeat("x", 20)+string(rune('a'+i%26)))
	}
	msgs := closeAnnouncements(keys)
	require.Greater(t, len(msgs), 1)
	var got []string
	for _, m := range msgs {
		require.LessOrEqual(t, len(m), maxAnnouncement)
		rest, ok := strings.CutPrefix(m, msgCloseCircuits)
		require.True(t, ok)
		got = append(got, strings.Split(rest, "\n")...)
	}
	require.Equal(t, keys, got, "every key, once, in order")
}
