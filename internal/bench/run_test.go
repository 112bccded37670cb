package bench_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/app/apptest"
	"github.com/hookline/hookline/internal/bench"
	"github.com/hookline/hookline/internal/testkit"
)

// testKey is the admin key of the servers the tests start.
const testKey = "hk_bench_test_key_0123456789abcdef"

// progress collects a run's progress lines and logs them when the test
// fails. Run writes them one at a time.
func progress(t *testing.T) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("progress:\n%s", b.String())
		}
	})
	return &b
}

// startServer starts Hookline in this process on a fresh data dir and
// returns its URL. Its breaker cooldown is the shortest allowed, so that
// the shortened S4 outage ends in seconds.
func startServer(t *testing.T) string {
	t.Helper()
	cfg := apptest.Config(t)
	cfg.AllowPrivateNetworks = true
	cfg.APIKey = testKey
	cfg.BreakerCooldown = time.Second
	a, err := app.New(context.Background(), cfg, app.Options{})
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Stop(ctx)
	})
	return "http://" + a.Addr()
}

// checkComplete checks the figures every waited-for group of a finished
// scenario must have.
func checkComplete(t *testing.T, s bench.Scenario, events int) {
	t.Helper()
	require.Empty(t, s.Error, s.Name)
	require.False(t, s.TimedOut, s.Name)
	require.Equal(t, events, s.Events, s.Name)
	require.Equal(t, events, s.Accepted, s.Name)
	require.Zero(t, s.PublishErrors, s.Name)
	require.Positive(t, s.PublishSeconds, s.Name)
	require.Positive(t, s.AcceptedPerSec, s.Name)
	for _, g := range s.Groups {
		if !g.Waited {
			continue
		}
		require.Equal(t, events*g.Endpoints, g.Expected, "%s %s", s.Name, g.Name)
		require.Equal(t, g.Expected, g.Unique, "%s %s", s.Name, g.Name)
		require.Zero(t, g.Lost, "%s %s", s.Name, g.Name)
		require.Equal(t, g.Unique, g.Latency.Count, "%s %s", s.Name, g.Name)
		require.Positive(t, g.DeliveredPerSec, "%s %s", s.Name, g.Name)
		checkOrdered(t, g.Latency, s.Name+" "+g.Name)
	}
	require.Equal(t, s.Accepted, s.PublishLatency.Count, "%s: a publish latency per accepted event", s.Name)
	checkOrdered(t, s.PublishLatency, s.Name+" publish")
}

// checkOrdered checks that l's percentiles are in order.
func checkOrdered(t *testing.T, l bench.Latency, what string) {
	t.Helper()
	require.True(t, 0 <= l.P50MS && l.P50MS <= l.P90MS && l.P90MS <= l.P95MS && l.P95MS <= l.P99MS && l.P99MS <= l.MaxMS, "%s: %+v", what, l)
}

// checkCPU checks a CPU figure that must be known on Linux.
func checkCPU(t *testing.T, u *bench.CPUUse, what string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		return
	}
	require.NotNil(t, u, what)
	require.GreaterOrEqual(t, u.Seconds, 0.0, what)
	require.Positive(t, u.WallSeconds, what)
}

func groupNamed(t *testing.T, s bench.Scenario, name string) bench.Group {
	t.Helper()
	for _, g := range s.Groups {
		if g.Name == name {
			return g
		}
	}
	require.FailNow(t, "no group", "%s has no group %q: %+v", s.Name, name, s.Groups)
	return bench.Group{}
}

// TestRunAgainstServer drives a server started in this process (the
// --server mode, its pid given) through S1, S3, S4 and R1 at a tiny
// scale, with the ceilings, and checks the figures against the targets.
func TestRunAgainstServer(t *testing.T) {
	t.Parallel()
	url := startServer(t)
	const events = 200
	outage := time.Second
	// Y2 mirrors into the test database, or is skipped without one.
	mirror := os.Getenv(testkit.PostgresEnv)
	res, err := bench.Run(context.Background(), bench.Config{
		Server: url, APIKey: testKey, ServerPID: os.Getpid(), Scenarios: []string{"S1,S3,S4,S5,R1,Y1,Y2,W1"}, Events: events, Mirror: mirror,
		Ceilings: true, Outage: outage, SlowDelay: 100 * time.Millisecond, Timeout: time.Minute,
		TempDir: t.TempDir(), Progress: progress(t), Commit: "abc1234",
	})
	require.NoError(t, err)
	require.Zero(t, res.Lost())
	require.Equal(t, url, res.Server)
	require.Equal(t, "abc1234", res.Commit)
	require.Equal(t, runtime.Version(), res.GoVersion)
	require.Equal(t, runtime.GOMAXPROCS(0), res.GOMAXPROCS)
	require.Equal(t, bench.DefaultPublishers, res.Publishers)
	require.Empty(t, res.ServerEnv, "no child servers")

	require.NotNil(t, res.Ceilings)
	require.Equal(t, events, res.Ceilings.HTTPRequests)
	require.Zero(t, res.Ceilings.HTTPErrors)
	require.Positive(t, res.Ceilings.HTTPPerSec)
	require.Equal(t, events, res.Ceilings.HTTPLatency.Count)
	checkOrdered(t, res.Ceilings.HTTPLatency, "ceiling")
	require.Equal(t, bench.DefaultEventSize, res.EventSize)
	require.Equal(t, events, res.Ceilings.SQLiteEvents)
	require.Positive(t, res.Ceilings.SQLitePerSec)

	require.Len(t, res.Scenarios, 8)
	s1, s3, s4, s5, r1 := res.Scenarios[0], res.Scenarios[1], res.Scenarios[2], res.Scenarios[3], res.Scenarios[4]
	y1, y2, w1 := res.Scenarios[5], res.Scenarios[6], res.Scenarios[7]

	require.Equal(t, "S1", s1.Name)
	checkComplete(t, s1, events)
	require.Zero(t, s1.Rate, "closed loop")
	checkCPU(t, s1.ServerCPU, "S1 server CPU, from --server-pid")
	checkCPU(t, s1.BenchCPU, "S1 bench CPU")
	require.Len(t, s1.Groups, 1)
	ok := groupNamed(t, s1, "ok")
	require.Equal(t, 1, ok.Endpoints)
	require.Zero(t, ok.Duplicates, "nothing failed, so nothing is sent twice")
	require.Zero(t, s1.PeakRSSBytes, "the RSS of a --server is unknown")
	// Without keep-alive every event would dial; with it, about one dial
	// per publisher (the transport may dial a spare when requests race).
	require.LessOrEqual(t, s1.Dials, int64(2*bench.DefaultPublishers), "publishers keep their connections alive")

	require.Equal(t, "S3", s3.Name)
	checkComplete(t, s3, events)
	healthy, slow := groupNamed(t, s3, "ok"), groupNamed(t, s3, "slow")
	require.Equal(t, 10, healthy.Endpoints)
	require.True(t, healthy.Waited)
	require.False(t, slow.Waited)
	require.Equal(t, 1, slow.Endpoints)
	require.Equal(t, events, slow.Unique+slow.Pending, "the slow endpoint's deliveries are done or pending, never lost")
	require.Zero(t, slow.Lost)

	require.Equal(t, "S4", s4.Name)
	checkComplete(t, s4, events)
	down := groupNamed(t, s4, "outage")
	require.Positive(t, down.FailedAttempts, "the endpoint answered 500 during the outage")
	require.GreaterOrEqual(t, down.Latency.MaxMS, 0.5*float64(outage.Milliseconds()),
		"the first events waited for the outage to end")

	require.Equal(t, "S5", s5.Name)
	require.Contains(t, s5.Skipped, "--server")
	require.Empty(t, s5.Groups)

	require.Equal(t, "R1", r1.Name)
	checkComplete(t, r1, events)
	require.Equal(t, float64(bench.DefaultRate), r1.Rate, "open loop at the default rate")
	checkCPU(t, r1.ServerCPU, "R1 server CPU")

	// Y1 and W1 count an event delivered when the event it caused (the
	// collection's changed event, the run's emitted one) arrived.
	chained := []bench.Scenario{y1, w1}
	if mirror == "" {
		require.Contains(t, y2.Skipped, "--mirror")
	} else {
		chained = append(chained, y2)
		require.Positive(t, y2.MirroredPerSec, "the mirror table caught up")
		conn, err := pgx.Connect(context.Background(), mirror)
		require.NoError(t, err)
		defer conn.Close(context.Background())
		var left int
		require.NoError(t, conn.QueryRow(context.Background(),
			`SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'bench\_%\_y2'`).Scan(&left))
		require.Zero(t, left, "the mirror table is dropped")
	}
	for _, s := range chained {
		checkComplete(t, s, events)
		require.Len(t, s.Groups, 1, "%s: the workflow's service is no group", s.Name)
		chained := groupNamed(t, s, "chained")
		require.Equal(t, 1, chained.Endpoints)
		require.Zero(t, chained.Unacked, "%s: every caused event names an accepted one", s.Name)
	}

	checks := bench.CheckTargets(res, nil)
	byTarget := map[string]bench.TargetCheck{}
	for _, c := range checks {
		require.Contains(t, []string{bench.Met, bench.NotMet, bench.NotMeasured}, c.Verdict, c.Target)
		byTarget[c.Target] = c
	}
	steady := byTarget["steady 2000 events/s: accept→delivery p99 ≤ 50 ms"]
	require.NotEqual(t, bench.NotMeasured, steady.Verdict, "R1 ran: %+v", steady)
	require.Equal(t, r1.Groups[0].Latency.P99MS, steady.Value)
	require.Equal(t, 50.0, steady.Limit)
	ceiling := byTarget["S1 delivered/s ≥ ½ of the ceiling measured in the same run"]
	require.Equal(t, res.Ceilings.HTTPPerSec/2, ceiling.Limit, "the ceiling of this run: %+v", ceiling)
	require.Equal(t, bench.NotMeasured, byTarget["S2 accepted/s ≥ 10000"].Verdict, "S2 did not run")
	require.Equal(t, y1.Groups[0].DeliveredPerSec, byTarget["data sync end to end (publish → applied → changed event delivered) ≥ 10000 events/s"].Value)
	require.Equal(t, w1.Groups[0].DeliveredPerSec, byTarget["workflows ≥ 2000 three-step runs/s"].Value)
}

// TestRunChildServers builds the hookline binary and lets Run start it as
// child processes: S1, and S5 with its kill -9 and restart.
func TestRunChildServers(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "hookline")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/hookline/hookline/cmd/hookline").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	const events = 400
	res, err := bench.Run(context.Background(), bench.Config{
		Binary: bin, Env: []string{"HOOKLINE_WORKERS=32", "HOOKLINE_API_KEY=not_passed_on"},
		Scenarios: []string{"S1", "S5", "M1"}, Events: events, Publishers: 16, Timeout: time.Minute,
		TempDir: dir, Progress: progress(t),
	})
	require.NoError(t, err)
	require.Equal(t, "child", res.Server)
	require.Equal(t, []string{"HOOKLINE_WORKERS=32"}, res.ServerEnv)
	require.Nil(t, res.Ceilings, "not asked for")
	require.Len(t, res.Scenarios, 3)
	s1, s5, m1 := res.Scenarios[0], res.Scenarios[1], res.Scenarios[2]

	// M1 leaves every delivery pending at a dead endpoint and reads the
	// server's memory with them.
	require.Empty(t, m1.Error)
	require.Equal(t, events, m1.Accepted)
	require.Zero(t, m1.PublishErrors)
	require.Equal(t, []bench.Group{{Name: "dead", Endpoints: 1, Expected: events, Pending: events}}, m1.Groups)
	checkCPU(t, m1.ServerCPU, "M1")
	if runtime.GOOS == "linux" {
		require.Positive(t, m1.PeakRSSBytes)
	}
	for _, c := range bench.CheckTargets(res, nil) {
		if c.Target == "memory ≤ 256 MiB with 1000000 pending" {
			require.Equal(t, bench.NotMeasured, c.Verdict)
			require.Equal(t, "M1 left 400 pending, not 1000000 (--scale, --events)", c.Note)
		}
	}

	checkComplete(t, s1, events)
	checkCPU(t, s1.ServerCPU, "S1 child's CPU")
	checkCPU(t, s5.ServerCPU, "S5 CPU of the child and its restart")
	if runtime.GOOS == "linux" {
		require.Positive(t, s1.PeakRSSBytes, "VmHWM of the child")
		require.Positive(t, s5.PeakRSSBytes)
	}

	checkComplete(t, s5, events)
	require.NotNil(t, s5.Crash)
	require.GreaterOrEqual(t, s5.Crash.AcceptedBeforeKill, events/2)
	require.Positive(t, s5.Crash.DownSeconds)
	require.LessOrEqual(t, groupNamed(t, s5, "ok").Unacked, 16, "only requests in flight at the kill can be committed unacknowledged")

	matches, err := filepath.Glob(filepath.Join(dir, "hookline-bench-*"))
	require.NoError(t, err)
	require.Empty(t, matches, "the run's data dirs are removed")

	dsn := os.Getenv(testkit.PostgresEnv)
	if dsn == "" {
		t.Logf("%s is not set: the run on PostgreSQL is skipped", testkit.PostgresEnv)
		return
	}
	res, err = bench.Run(context.Background(), bench.Config{
		Binary: bin, Postgres: dsn, Nodes: 2, Scenarios: []string{"S1"}, Events: events, Publishers: 16,
		Timeout: time.Minute, TempDir: dir, Progress: progress(t),
	})
	require.NoError(t, err)
	require.Equal(t, "postgres", res.Database)
	require.Equal(t, 2, res.Nodes, "two processes on one database, the events spread over both")
	checkComplete(t, res.Scenarios[0], events)
	checkCPU(t, res.Scenarios[0].ServerCPU, "S1 on PostgreSQL, both nodes")
	conn, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var left int
	require.NoError(t, conn.QueryRow(context.Background(),
		"SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE $1", bench.SchemaPrefix+"%").Scan(&left))
	require.Zero(t, left, "the scenario's schema is dropped")
}
