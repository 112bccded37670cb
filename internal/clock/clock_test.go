package clock

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSleep(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		require.True(t, Sleep(t.Context(), time.Minute))
		require.Equal(t, time.Minute, time.Since(start))

		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start = time.Now()
		require.False(t, Sleep(ctx, time.Minute), "cut short by ctx")
		require.Equal(t, time.Second, time.Since(start))
		require.False(t, Sleep(ctx, 0), "ctx is done")
		require.True(t, Sleep(t.Context(), -time.Second), "nothing to wait, ctx going")
	})
}
