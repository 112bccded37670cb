package testkit

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// Case is one row of a table test of a function that may fail: given In
// it returns Want, or, when Err is not empty, an error that says Err.
type Case[In, Out any] struct {
	Name string // the subtest's name; In printed when empty
	In   In
	Want Out
	Err  string
}

// Table runs each case against f as a parallel subtest.
func Table[In, Out any](t *testing.T, f func(In) (Out, error), cases []Case[In, Out]) {
	t.Helper()
	for _, c := range cases {
		name := c.Name
		if name == "" {
			name = fmt.Sprint(c.In)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := f(c.In)
			if c.Err != "" {
				require.ErrorContains(t, err, c.Err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.Want, got)
		})
	}
}
