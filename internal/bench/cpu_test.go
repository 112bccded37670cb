package bench

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	// A name with spaces and a ")" must not shift the fields: utime 1234,
	// stime 566 ticks.
	line := "4242 (hook line) x) S 1 4242 4242 0 -1 4194560 123 0 0 0 1234 566 0 0 20 0 9 0 100 1000 200 18446744073709551615\n"
	d, err := parseStatCPU([]byte(line))
	require.NoError(t, err)
	require.Equal(t, 18*time.Second, d)

	for _, tc := range []struct{ name, line, err string }{
		{"no name", "4242 S 1 2 3", "no process name"},
		{"short", "4242 (x) S 1 4242 4242 0 -1 4194560 123 0 0 0 1234", "fields after the name"},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 12a 5 0 0", `cpu time "12a"`},
		{"negative", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 -3 5 0 0", `cpu time "-3"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseStatCPU([]byte(tc.line))
			require.ErrorContains(t, err, tc.err)
		})
	}
}

func TestCPUMeter(t *testing.T) {
	t.Parallel()
	require.Nil(t, startCPU(0).stop(), "an unknown pid measures nothing")
	require.Nil(t, startCPU(1<<30).stop(), "a pid that does not exist measures nothing")
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	m := startCPU(os.Getpid())
	// Burn CPU until the process's own counter moves by a few ticks.
	before, err := processCPU(os.Getpid())
	require.NoError(t, err)
	for {
		now, err := processCPU(os.Getpid())
		require.NoError(t, err)
		if now-before >= 3*clockTick {
			break
		}
	}
	u := m.stop()
	require.NotNil(t, u)
	require.GreaterOrEqual(t, u.Seconds, (3 * clockTick).Seconds())
	require.Positive(t, u.WallSeconds)
	require.InDelta(t, u.Seconds/u.WallSeconds, u.Cores, 1e-9)

	// A process that left the window keeps what it used in it; its
	// successor counts from zero.
	m = &cpuMeter{pid: os.Getpid(), start: time.Now().Add(-time.Second), base: 0}
	self, err := processCPU(os.Getpid())
	require.NoError(t, err)
	m.retire()
	require.GreaterOrEqual(t, m.done, self)
	m.follow(os.Getpid())
	require.Zero(t, m.base)
	u = m.stop()
	require.NotNil(t, u)
	require.GreaterOrEqual(t, u.Seconds, 2*self.Seconds(), "the retired process and its successor both count")
}
