package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat: USER_HZ,
// which Linux fixes at 100 for user space on every architecture Go runs
// on there.
const clockTick = 10 * time.Millisecond

// processCPU returns the CPU time (user + system, over all its threads)
// that process pid has used so far, from /proc/<pid>/stat.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read cpu time: %w", err)
	}
	return parseStatCPU(b)
}

// parseStatCPU returns utime + stime of a /proc/<pid>/stat line. The
// process name (field 2, in parentheses) may hold spaces and ")", so the
// fields are counted from the last ")".
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("parse /proc stat: no process name")
	}
	// After the name: state (field 3) … utime (14), stime (15).
	f := bytes.Fields(stat[i+1:])
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, fmt.Errorf("parse /proc stat: %d fields after the name, want more than %d", len(f), stime)
	}
	var ticks int64
	for _, field := range [][]byte{f[utime], f[stime]} {
		n, err := strconv.ParseInt(string(field), 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("parse /proc stat: cpu time %q", field)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// cpuMeter measures the CPU a process uses over a window of wall time.
// Its pid may change (a server killed and started again): add the time
// the old process used with retire before switching.
type cpuMeter struct {
	pid   int
	start time.Time
	// base is the CPU time of the current process when it joined the
	// window (0 for a process started within it).
	base time.Duration
	// done is the CPU time processes that left the window used in it.
	done time.Duration
	// broken is set once a reading failed: the figure would be wrong.
	broken bool
}

// startCPU starts measuring process pid; 0 means unknown, and the meter
// reports nothing.
func startCPU(pid int) *cpuMeter {
	m := &cpuMeter{pid: pid, start: time.Now()}
	if pid == 0 {
		m.broken = true
		return m
	}
	m.base, m.broken = m.read()
	return m
}

// read returns the current process's CPU time, and true if it failed.
func (m *cpuMeter) read() (time.Duration, bool) {
	d, err := processCPU(m.pid)
	return d, err != nil
}

// retire adds what the current process used since it joined the window;
// call it just before the process ends.
func (m *cpuMeter) retire() {
	if m.broken {
		return
	}
	d, failed := m.read()
	m.broken = failed
	m.done += d - m.base
}

// follow measures process pid, started within the window, from now on.
func (m *cpuMeter) follow(pid int) {
	m.pid, m.base = pid, 0
}

// stop ends the window and returns the CPU used in it, or nil when it is
// unknown.
func (m *cpuMeter) stop() *CPUUse {
	wall := time.Since(m.start)
	if m.broken || wall <= 0 {
		return nil
	}
	d, failed := m.read()
	if failed {
		return nil
	}
	return cpuUse(m.done+d-m.base, wall)
}

// cpuUse returns the use of cpu CPU time over wall.
func cpuUse(cpu, wall time.Duration) *CPUUse {
	return &CPUUse{Seconds: cpu.Seconds(), WallSeconds: wall.Seconds(), Cores: cpu.Seconds() / wall.Seconds()}
}
