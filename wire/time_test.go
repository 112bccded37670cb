package wire_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/wire"
)

func TestTimeMarshal(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CET", 3600)
	for _, c := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 27, 0, 26, 17, 260*int(time.Millisecond), time.UTC), `"2026-11-27T00:26:17.260Z"`},
		{time.Date(2026, 11, 27, 0, 26, 17, 0, time.UTC), `"2026-11-27T00:26:17.000Z"`},
		{time.Date(2026, 11, 27, 0, 26, 17, 5*int(time.Millisecond), time.UTC), `"2026-11-27T00:26:17.005Z"`},
		{time.Date(2026, 11, 27, 0, 26, 17, 100*int(time.Millisecond), time.UTC), `"2026-11-27T00:26:17.100Z"`},
		// Truncated to milliseconds, never rounded up.
		{time.Date(2026, 11, 27, 0, 26, 17, 999_999_999, time.UTC), `"2026-11-27T00:26:17.999Z"`},
		{time.Date(2026, 11, 27, 0, 26, 17, 260_900_000, time.UTC), `"2026-11-27T00:26:17.260Z"`},
		// Always UTC.
		{time.Date(2026, 11, 27, 1, 26, 17, 260*int(time.Millisecond), paris), `"2026-11-27T00:26:17.260Z"`},
		{time.Time{}, `"0001-01-01T00:00:00.000Z"`},
	} {
		got, err := json.Marshal(wire.TimeOf(c.in))
		require.NoError(t, err)
		require.Equal(t, c.want, string(got), "%v", c.in)

		text, err := wire.TimeOf(c.in).MarshalText()
		require.NoError(t, err)
		require.Equal(t, c.want[1:len(c.want)-1], string(text))

		var back wire.Time
		require.NoError(t, json.Unmarshal(got, &back))
		require.True(t, back.Equal(c.in.Truncate(time.Millisecond)), "%s read back as %v", got, back)
	}

	_, err := json.Marshal(wire.TimeOf(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)))
	require.Error(t, err)
}

func TestTimeUnmarshal(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 11, 27, 0, 26, 17, 260*int(time.Millisecond), time.UTC)
	for _, in := range []string{
		`"2026-11-27T00:26:17.26Z"`,
		`"2026-11-27T00:26:17.260Z"`,
		`"2026-11-27T00:26:17.260000000Z"`,
		`"2026-11-27T01:26:17.260+01:00"`,
	} {
		var got wire.Time
		require.NoError(t, json.Unmarshal([]byte(in), &got), in)
		require.True(t, got.Equal(want), "%s read as %v", in, got)
	}
	for _, in := range []string{`"2026-11-27"`, `"yesterday"`, `17`} {
		var got wire.Time
		require.Error(t, json.Unmarshal([]byte(in), &got), in)
	}
	var got wire.Time
	require.NoError(t, json.Unmarshal([]byte(`null`), &got))
	require.True(t, got.IsZero())
}

// TestTimeInAnswers checks the wire types: times are written with three
// digits, optional ones are left out when zero or nil.
func TestTimeInAnswers(t *testing.T) {
	t.Parallel()
	at := wire.TimeOf(time.Date(2026, 11, 27, 0, 26, 17, 260*int(time.Millisecond), time.UTC))
	b, err := json.Marshal(wire.Delivery{ID: "dlv_1", CreatedAt: at, UpdatedAt: at, NextAttemptAt: &at})
	require.NoError(t, err)
	require.Contains(t, string(b), `"next_attempt_at":"2026-11-27T00:26:17.260Z"`)
	require.Contains(t, string(b), `"created_at":"2026-11-27T00:26:17.260Z"`)

	b, err = json.Marshal(wire.Delivery{ID: "dlv_1", CreatedAt: at, UpdatedAt: at})
	require.NoError(t, err)
	require.NotContains(t, string(b), "next_attempt_at")

	b, err = json.Marshal(wire.Message{ID: "msg_1", SendAt: at, CreatedAt: at})
	require.NoError(t, err)
	require.NotContains(t, string(b), "sent_at", "a zero sent_at is left out")
	require.Contains(t, string(b), `"send_at":"2026-11-27T00:26:17.260Z"`)
}
