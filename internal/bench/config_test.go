package bench

import (
	"testing"
	"time"

	"github.com/hookline/hookline/internal/testkit"
	"github.com/stretchr/testify/require"
)

func TestParseScenarios(t *testing.T) {
	t.Parallel()
	testkit.Table(t, ParseScenarios, []testkit.Case[[]string, []string]{
		{Name: "none is all", Want: []string{"S1", "S2", "S3", "S4", "S5", "R1", "Y1", "Y2", "W1", "M1"}},
		{Name: "comma list, any case, run order, no repeats", In: []string{"s4,S1", "S4"}, Want: []string{"S1", "S4"}},
		{Name: "spaces and empty items", In: []string{" S2 , ,s3"}, Want: []string{"S2", "S3"}},
		{Name: "unknown", In: []string{"S1,S9"}, Err: `unknown scenario "S9": want S1, S2, S3, S4, S5, R1, Y1, Y2, W1, M1`},
		{Name: "R1 runs last", In: []string{"r1,s2"}, Want: []string{"S2", "R1"}},
		{Name: "only commas", In: []string{","}, Err: "no scenario named"},
	})
}

func TestConfigCountScalesDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		def  int
		want int
	}{
		{"scale 1", Config{Scale: 1}, 20000, 20000},
		{"scale 0.1", Config{Scale: 0.1}, 2000, 200},
		{"rounds", Config{Scale: 0.0001}, 5000, 1},
		{"never zero", Config{Scale: 0.00001}, 2000, 1},
		{"events replaces the default", Config{Scale: 0.1, Events: 300}, 20000, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.cfg.count(tc.def))
		})
	}
}

func TestConfigRates(t *testing.T) {
	t.Parallel()
	s1, r1 := specs[0], specs[5]
	require.Equal(t, "R1", r1.name)
	cfg, err := Config{Binary: "b"}.withDefaults()
	require.NoError(t, err)
	require.Zero(t, cfg.rate(s1), "closed loop by default")
	require.Equal(t, 20000, cfg.events(s1))
	require.Equal(t, float64(DefaultRate), cfg.rate(r1))
	require.Equal(t, 40000, cfg.events(r1), "2,000/s for 20 s")

	cfg, err = Config{Binary: "b", Rate: 500, Duration: 3 * time.Second, Scale: 0.5}.withDefaults()
	require.NoError(t, err)
	require.Equal(t, 500.0, cfg.rate(s1), "--rate makes every scenario open-loop")
	require.Equal(t, 10000, cfg.events(s1))
	require.Equal(t, 500.0, cfg.rate(r1))
	require.Equal(t, 750, cfg.events(r1), "scaled like the others")
	m1 := specs[len(specs)-1]
	require.Equal(t, "M1", m1.name)
	require.Zero(t, cfg.rate(m1), "M1's batches are not paced")

	cfg.Events = 40
	require.Equal(t, 40, cfg.events(r1), "--events replaces the count")
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	t.Parallel()
	cfg, err := Config{Binary: "/bin/hookline"}.withDefaults()
	require.NoError(t, err)
	require.Equal(t, ScenarioNames(), cfg.Scenarios)
	require.Equal(t, 1.0, cfg.Scale)
	require.Equal(t, DefaultPublishers, cfg.Publishers)
	require.Equal(t, DefaultTimeout, cfg.Timeout)
	require.Equal(t, DefaultOutage, cfg.Outage)
	require.Equal(t, DefaultSlowDelay, cfg.SlowDelay)
	require.Equal(t, DefaultRetrySchedule, cfg.RetrySchedule)
	require.Equal(t, DefaultEventSize, cfg.EventSize)
	require.Equal(t, DefaultDuration, cfg.Duration)
	require.Zero(t, cfg.Rate)
	require.Equal(t, 1, cfg.Nodes)

	cfg, err = Config{Server: "http://127.0.0.1:8080/", APIKey: "k"}.withDefaults()
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8080", cfg.Server)

	for _, tc := range []struct {
		name string
		cfg  Config
		err  string
	}{
		{"no binary", Config{}, "no hookline binary"},
		{"server without key", Config{Server: "http://127.0.0.1:1"}, "needs an API key"},
		{"server not a URL", Config{Server: "127.0.0.1:1", APIKey: "k"}, "is not an http:// or https:// URL"},
		{"negative scale", Config{Binary: "b", Scale: -1}, "scale must be a positive number"},
		{"publishers", Config{Binary: "b", Publishers: -2}, "publishers must be from 1 to 10000"},
		{"scenario", Config{Binary: "b", Scenarios: []string{"S0"}}, "unknown scenario"},
		{"event too small", Config{Binary: "b", EventSize: 100}, "event size must be from 128 to 1048576 bytes, got 100"},
		{"event too large", Config{Binary: "b", EventSize: 2 << 20}, "event size must be from"},
		{"negative rate", Config{Binary: "b", Rate: -1}, "rate must be from 0 to 1000000 events/s"},
		{"negative duration", Config{Binary: "b", Duration: -time.Second}, "duration must not be negative"},
		{"pid without server", Config{Binary: "b", ServerPID: 42}, "a server pid needs a server URL"},
		{"postgres not a URL", Config{Binary: "b", Postgres: "host=127.0.0.1"}, "is not a postgres:// URL"},
		{"postgres password not echoed", Config{Binary: "b", Postgres: "mysql://u:hunter2@h/db"}, `"mysql://u:xxxxx@h/db" is not`},
		{"postgres search_path", Config{Binary: "b", Postgres: "postgres://h/db?search_path=x"}, "must not set search_path"},
		{"mirror not a URL", Config{Binary: "b", Mirror: "db"}, `mirror "db" is not a postgres:// URL`},
		{"nodes without postgres", Config{Binary: "b", Nodes: 3}, "several nodes need a PostgreSQL database"},
		{"postgres delay without postgres", Config{Binary: "b", PostgresDelay: time.Millisecond}, "a postgres delay needs a PostgreSQL database"},
		{"postgres delay too long", Config{Binary: "b", Postgres: "postgres://u@h/db", PostgresDelay: 2 * time.Second}, "postgres delay must be from 0 to 1s"},
		{"too many nodes", Config{Binary: "b", Nodes: 10, Postgres: "postgres://h/db"}, "nodes must be from 1 to 9"},
		{"postgres and server", Config{Server: "http://127.0.0.1:1", APIKey: "k", Postgres: "postgres://h/db"}, "exclude each other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.cfg.withDefaults()
			require.ErrorContains(t, err, tc.err)
		})
	}
}

func TestParseVmHWM(t *testing.T) {
	t.Parallel()
	n, err := parseVmHWM([]byte("Name:\thookline\nVmPeak:\t 1000 kB\nVmHWM:\t   81234 kB\nVmRSS:\t 80000 kB\n"))
	require.NoError(t, err)
	require.Equal(t, int64(81234*1024), n)

	_, err = parseVmHWM([]byte("Name:\thookline\n"))
	require.EqualError(t, err, "parse VmHWM: no VmHWM line")
	_, err = parseVmHWM([]byte("VmHWM:\t12 MB\n"))
	require.ErrorContains(t, err, `want "<n> kB"`)
	_, err = parseVmHWM([]byte("VmHWM:\tx kB\n"))
	require.ErrorContains(t, err, "parse VmHWM")
}

func TestChildEnv(t *testing.T) {
	t.Parallel()
	base := []string{
		"PATH=/usr/bin", "HOOKLINE_API_KEY=theirs", "HOOKLINE_DATABASE=postgres://x", "HOOKLINE_WORKERS=128",
		"HOOKLINE_DATA_DIR=/var/lib/hookline", "GOGC=200", "HOOKLINE_ENCRYPTION_KEY=secret",
	}
	env := childEnv(base, "hk_bench_key")
	require.Equal(t, []string{"PATH=/usr/bin", "HOOKLINE_WORKERS=128", "GOGC=200", "HOOKLINE_API_KEY=hk_bench_key"}, env)
	require.Equal(t, []string{"HOOKLINE_WORKERS=128", "GOGC=200"}, inheritedEnv(env), "the run's own key is not recorded")
}
