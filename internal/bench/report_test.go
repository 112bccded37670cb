package bench

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	require.Equal(t, string(want), string(got))
}

// sampleResults is a run with every kind of row and note.
func sampleResults() Results {
	return Results{
		Time: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), GoVersion: "go1.26.8", GOMAXPROCS: 2, NumCPU: 2,
		Commit: "904a3b6", LoadAvg: "1.50 1.20 0.90", Server: "child", Publishers: 32, Scale: 1, EventSize: 1024, Database: "sqlite",
		Ceilings: &Ceilings{HTTPRequests: 20000, HTTPPerSec: 20000, SQLiteEvents: 20000, SQLiteBatch: 500, SQLitePerSec: 40000,
			HTTPLatency: Latency{Count: 20000, P50MS: 0.5, P90MS: 1.5, P95MS: 2, P99MS: 4.7, MaxMS: 20}},
		Scenarios: []Scenario{
			{Name: "S1", Title: "throughput", Events: 20000, Accepted: 20000, PublishSeconds: 4, AcceptedPerSec: 5000,
				PublishLatency: Latency{Count: 20000, P50MS: 5.5, P90MS: 9, P95MS: 11, P99MS: 22, MaxMS: 300},
				ServerCPU:      &CPUUse{Seconds: 3.5, WallSeconds: 5, Cores: 0.7}, BenchCPU: &CPUUse{Seconds: 4, WallSeconds: 5, Cores: 0.8},
				PeakRSSBytes: 80 << 20, Groups: []Group{{Name: "ok", Endpoints: 1, Waited: true, Expected: 20000, Unique: 20000,
					DeliveredPerSec: 4800, Latency: Latency{Count: 20000, P50MS: 3.25, P95MS: 12, P99MS: 40, MaxMS: 1250}}}},
			{Name: "S2", Title: "fan-out", Events: 100, Accepted: 100, AcceptedPerSec: 12000, PeakRSSBytes: 90 << 20,
				PublishLatency: Latency{Count: 100, P50MS: 1, P90MS: 2, P95MS: 3, P99MS: 4, MaxMS: 5},
				Groups: []Group{{Name: "ok", Endpoints: 10, Waited: true, Expected: 1000, Unique: 1000, DeliveredPerSec: 16000,
					Latency: Latency{Count: 1000, P50MS: 4, P90MS: 10, P95MS: 15, P99MS: 25, MaxMS: 40}}}},
			{Name: "S3", Title: "isolation", Events: 100, Accepted: 99, PublishErrors: 1, AcceptedPerSec: 990, PeakRSSBytes: 90 << 20,
				PublishLatency: Latency{Count: 99, P50MS: 1, P90MS: 2, P95MS: 3, P99MS: 4, MaxMS: 5},
				Groups: []Group{
					{Name: "ok", Endpoints: 10, Waited: true, Expected: 990, Unique: 990, Duplicates: 2, DeliveredPerSec: 900,
						Latency: Latency{Count: 990, P50MS: 5, P95MS: 20, P99MS: 30, MaxMS: 45}},
					{Name: "slow", Endpoints: 1, Expected: 99, Unique: 20, Pending: 79, DeliveredPerSec: 2,
						Latency: Latency{Count: 20, P50MS: 5100, P95MS: 9000, P99MS: 9500, MaxMS: 9500}},
				}},
			{Name: "S4", Title: "outage", Events: 10, Accepted: 10, AcceptedPerSec: 100, Error: "server not ready",
				Groups: []Group{{Name: "outage", Endpoints: 1, Waited: true, Expected: 10, Unique: 9, Lost: 1, FailedAttempts: 12, Unacked: 1,
					Latency: Latency{Count: 9, P50MS: 30000, P95MS: 31000, P99MS: 31000, MaxMS: 31000}}}, TimedOut: true},
			{Name: "S5", Title: "crash", Skipped: "needs to kill the server, which --server does not allow", Groups: []Group{}},
			{Name: "R1", Title: "steady", Events: 40000, Accepted: 40000, Rate: 2000, AcceptedPerSec: 1999, PublishSeconds: 20,
				PublishLatency: Latency{Count: 40000, P50MS: 1.5, P90MS: 2.5, P95MS: 3, P99MS: 8, MaxMS: 90},
				ServerCPU:      &CPUUse{Seconds: 6, WallSeconds: 20, Cores: 0.3},
				Groups: []Group{{Name: "ok", Endpoints: 1, Waited: true, Expected: 40000, Unique: 40000, DeliveredPerSec: 1999,
					Latency: Latency{Count: 40000, P50MS: 2, P90MS: 9, P95MS: 20, P99MS: 60, MaxMS: 200}}}},
			{Name: "M1", Title: "backlog", Events: 1000000, Accepted: 1000000, AcceptedPerSec: 28000, PublishSeconds: 35.7,
				PeakRSSBytes: 60 << 20, ServerCPU: &CPUUse{Seconds: 50, WallSeconds: 37.7, Cores: 1.33},
				Groups: []Group{{Name: "dead", Endpoints: 1, Expected: 1000000, Pending: 1000000}}},
		},
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, WriteTable(&b, sampleResults()))
	golden(t, "table.golden", b.Bytes())
}

func TestWriteComparison(t *testing.T) {
	t.Parallel()
	old := sampleResults()
	old.Commit, old.LoadAvg = "1a199e2", "0.10 0.10 0.10"
	cur := sampleResults()
	cur.Ceilings.HTTPPerSec = 22000
	cur.Scenarios[0].AcceptedPerSec = 5500
	cur.Scenarios[0].Groups[0].Latency.P99MS = 30
	cur.Scenarios[0].PublishLatency.P50MS = 2.75
	cur.Scenarios[0].ServerCPU = &CPUUse{Seconds: 5, WallSeconds: 5, Cores: 1}
	cur.Scenarios[2].Groups = cur.Scenarios[2].Groups[:1] // a group only the old run has is left out
	cur.Scenarios[3].Events = 20
	var b bytes.Buffer
	require.NoError(t, WriteComparison(&b, old, cur))
	golden(t, "compare.golden", b.Bytes())
}

func TestWriteTargets(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, WriteTargets(&b, CheckTargets(sampleResults(), nil)))
	golden(t, "targets.golden", b.Bytes())
}

func TestCheckTargetsDatabaseAndNodes(t *testing.T) {
	t.Parallel()
	byTarget := func(checks []TargetCheck) map[string]TargetCheck {
		m := map[string]TargetCheck{}
		for _, c := range checks {
			m[c.Target] = c
		}
		return m
	}
	const pgOne, pgThree = "PostgreSQL, one node: S1 accepted/s ≥ 8000", "PostgreSQL, three nodes on one box: S1 accepted/s not below one node's"
	const sqliteS1 = "S1 accepted/s ≥ 15000 (32 publishers, 1 KiB events)"

	one := sampleResults()
	one.Database, one.Nodes = "postgres", 1
	one.Scenarios[0].AcceptedPerSec = 9000
	got := byTarget(CheckTargets(one, nil))
	require.Equal(t, TargetCheck{Target: pgOne, Verdict: Met, Value: 9000, Limit: 8000, Unit: "/s"}, got[pgOne])
	require.Equal(t, NotMeasured, got[sqliteS1].Verdict, "a SQLite target")
	require.Equal(t, "a SQLite target; this run used PostgreSQL", got["S1 delivered/s ≥ ½ of the ceiling measured in the same run"].Note)
	require.Equal(t, NotMeasured, got[pgThree].Verdict)

	three := sampleResults()
	three.Database, three.Nodes = "postgres", 3
	three.Scenarios[0].AcceptedPerSec = 8500
	got = byTarget(CheckTargets(three, nil))
	require.Equal(t, "compare with a one-node --postgres run (--compare FILE)", got[pgThree].Note)
	got = byTarget(CheckTargets(three, &one))
	require.Equal(t, NotMet, got[pgThree].Verdict)
	require.Equal(t, 8500.0, got[pgThree].Value)
	require.Equal(t, 9000.0, got[pgThree].Limit)

	// A --server's store is not known: the SQLite targets say so; a run
	// with other publishers is not the targets' shape.
	srv := sampleResults()
	srv.Database = ""
	require.Contains(t, byTarget(CheckTargets(srv, nil))[sqliteS1].Note, "a --server")
	srv.Publishers = 16
	require.Equal(t, NotMeasured, byTarget(CheckTargets(srv, nil))[sqliteS1].Verdict)
}

func TestResultsJSONRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bench.json")
	want := sampleResults()
	want.Targets = CheckTargets(want, nil)
	require.NoError(t, want.WriteJSON(path))
	got, err := ReadJSON(path)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Equal(t, 1, got.Lost())

	require.NoError(t, os.WriteFile(path, []byte("{"), 0o644))
	_, err = ReadJSON(path)
	require.ErrorContains(t, err, "read results")
}

func TestFormatting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ got, want string }{
		{msStr(0.84), "0.8ms"},
		{msStr(12.4), "12ms"},
		{msStr(1250), "1.25s"},
		{bytesIEC(0), "n/a"},
		{bytesIEC(3 << 19), "1.5 MiB"},
		{change(100, 112.5), "+12.5%"},
		{change(100, 90), "-10.0%"},
		{change(0, 5), "n/a"},
		{change(5, 0), "n/a"},
		{pct(1, 4), "25%"},
		{pct(1, 0), "n/a"},
		{latencyStr(Latency{}, 0), "-"},
		{latencyStr(Latency{Count: 1, P50MS: 2}, 2), "2.0ms"},
	} {
		require.Equal(t, tc.want, tc.got)
	}
}
