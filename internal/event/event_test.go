package event

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, typ string
		want         bool
	}{
		{"order.created", "order.created", true},
		{"order.created", "order.updated", false},
		{"order.*", "order.created", true},
		{"order.*", "order.created.v2", false},
		{"order.*", "order", false},
		{"order.**", "order.created.v2", true},
		{"order.**", "order", false},
		{"*.created", "user.created", true},
		{"*", "anything.at.all", true},
		{"user.*", "order.created", false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, Match(c.pattern, c.typ), "%s vs %s", c.pattern, c.typ)
	}
	require.True(t, MatchAny(nil, "x"))
	require.True(t, MatchAny([]string{"a", "order.*"}, "order.paid"))
	require.False(t, MatchAny([]string{"a"}, "b"))
}

// Covers agrees with Match: a pattern covers another exactly when every
// type of a sample the other matches, the pattern matches too.
func TestCovers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, sub string
		want         bool
	}{
		{"*", "order.**", true},
		{"**", "*", true},
		{"order.*", "*", false},
		{"order.*", "order.created", true},
		{"order.*", "order.*", true},
		{"order.*", "order.**", false},
		{"order.*", "order", false},
		{"order.*", "order.created.v2", false},
		{"order.**", "order.created.v2", true},
		{"order.**", "order.*", true},
		{"order.**", "order.*.v2", true},
		{"order.**", "order.**", true},
		{"order.**", "order", false},
		{"order.**", "user.created", false},
		{"order.created", "order.created", true},
		{"order.created", "order.*", false},
		{"*.created", "user.created", true},
		{"*.created", "*.created", true},
		{"*.created", "user.*", false},
		{"a.*.c", "a.b.c", true},
		{"a.*.c", "a.**", false},
	}
	types := []string{"order", "order.created", "order.paid", "order.created.v2", "order.x.v2", "user.created", "a.b.c", "a.b", "a.b.c.d", "x"}
	for _, c := range cases {
		require.Equal(t, c.want, Covers(c.pattern, c.sub), "%s covers %s", c.pattern, c.sub)
		if c.want {
			for _, typ := range types {
				if Match(c.sub, typ) {
					require.True(t, Match(c.pattern, typ), "%s covers %s, so matches %s", c.pattern, c.sub, typ)
				}
			}
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, ValidateType("order.created"))
	require.Error(t, ValidateType(""))
	require.Error(t, ValidateType("order..created"))
	require.Error(t, ValidateType("order created"))
	require.Error(t, ValidateType(strings.Repeat("a", MaxTypeLength+1)))
	require.NoError(t, ValidatePattern("order.*"))
	require.NoError(t, ValidatePattern("order.**"))
	require.NoError(t, ValidatePattern("*"))
	require.Error(t, ValidatePattern("order.**.x"))
	require.Error(t, ValidatePattern("order.cre ated"))
}

func TestNewIDSortsByTime(t *testing.T) {
	t.Parallel()
	now := time.Now()
	a := NewID(PrefixEvent, now)
	b := NewID(PrefixEvent, now)
	c := NewID(PrefixEvent, now.Add(time.Millisecond))
	require.True(t, strings.HasPrefix(a, "evt_"))
	require.Less(t, a, b)
	require.Less(t, b, c)

	// An id for an earlier time made later still sorts after: creation
	// order wins over the time given.
	d := NewID(PrefixEvent, now.Add(-time.Second))
	require.Less(t, c, d)
}

func TestValidID(t *testing.T) {
	t.Parallel()
	id := NewID(PrefixEvent, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	require.True(t, ValidID(PrefixEvent, id))
	rest := strings.TrimPrefix(id, "evt_")
	for _, bad := range []string{
		"", "evt_", "evt", rest, "ep_" + rest, "evt" + rest, "evt__" + rest,
		"evt_" + strings.ToUpper(rest), // ids are lower case and compared as text
		"evt_" + rest[:25], "evt_" + rest + "0",
		"evt_" + rest[:25] + "u", // not Crockford base32
		"evt_8" + rest[1:],       // overflows 128 bits
		"evt_" + rest[:10] + "\xff" + rest[11:],
	} {
		require.False(t, ValidID(PrefixEvent, bad), "%q", bad)
	}
	require.True(t, ValidID(PrefixEndpoint, NewID(PrefixEndpoint, time.Now())))
	require.False(t, ValidID(PrefixEndpoint, id))
}
