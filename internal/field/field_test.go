package field

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestJoin(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ parent, child, want string }{
		{"a", "b", "a.b"},
		{"a", "[0]", "a[0]"},
		{"", "b", "b"},
		{"a", "", "a"},
		{"steps[2]", "http.url", "steps[2].http.url"},
	} {
		require.Equal(t, tc.want, Join(tc.parent, tc.child))
	}
}

func TestWrap(t *testing.T) {
	t.Parallel()
	require.NoError(t, Wrap("a", nil))

	err := Wrap("postgres", Errorf("dsn", "is required"))
	require.EqualError(t, err, "postgres.dsn: is required")
	path, ok := Of(err)
	require.True(t, ok)
	require.Equal(t, "postgres.dsn", path)

	plain := errors.New("boom")
	err = Wrap("rules", plain)
	require.EqualError(t, err, "rules: boom")
	require.ErrorIs(t, err, plain)

	// A field error inside other wrapping is still found.
	err = Wrap("prefs", fmt.Errorf("check: %w", Errorf("quiet_hours", "bad")))
	require.EqualError(t, err, "prefs.quiet_hours: bad")

	_, ok = Of(errors.New("x"))
	require.False(t, ok)
}
