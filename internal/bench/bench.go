package bench

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultPublishers = 32
	DefaultTimeout    = 5 * time.Minute
	DefaultOutage     = 20 * time.Second
	DefaultSlowDelay  = 5 * time.Second
	// DefaultEventSize is the size of an event's request body in bytes.
	DefaultEventSize = 1024
	// DefaultRate is R1's events per second.
	DefaultRate = 2000
	// DefaultDuration is how long R1 publishes.
	DefaultDuration = 20 * time.Second
	// DefaultProgressInterval is how often progress lines are written.
	DefaultProgressInterval = time.Second
)

// DefaultRetrySchedule is the retry schedule of S4's endpoint: short, so
// that the outage is over well before its deliveries run out of attempts.
var DefaultRetrySchedule = []string{"1s", "2s", "5s", "10s", "20s"}

// ErrLost is returned by Run when an accepted event did not reach an
// endpoint the run waited for.
var ErrLost = errors.New("accepted deliveries lost")

// spec defines one scenario.
type spec struct {
	name, title string
	// events is the event count at scale 1.
	events int
	// healthy is the number of endpoints answering at once.
	healthy int
	// slow adds an endpoint that takes Config.SlowDelay per request.
	slow bool
	// outage adds an endpoint answering 500 for Config.Outage.
	outage bool
	// crash kills the server with SIGKILL once half the events are
	// accepted, and restarts it.
	crash bool
	// sync applies each event to a collection (key data.seq) whose
	// changed events go to the one chained endpoint.
	sync bool
	// mirror adds to sync a mirror table in Config.Mirror, and waits for
	// it to hold every change.
	mirror bool
	// workflow starts a three-step run per event (an http call to the
	// service endpoint, a set, an emit) whose emitted event goes to the
	// chained endpoint.
	workflow bool
	// backlog publishes in batches to an endpoint that never answers and
	// reads the server's memory with every delivery pending.
	backlog bool
	// steady publishes on a fixed timetable at Config.Rate (default
	// DefaultRate) for Config.Duration; events is then unused.
	steady bool
}

// specs are the scenarios in the order they run.
var specs = []spec{
	{name: "S1", title: "throughput", events: 20000, healthy: 1},
	{name: "S2", title: "fan-out", events: 5000, healthy: 10},
	{name: "S3", title: "isolation", events: 5000, healthy: 10, slow: true},
	{name: "S4", title: "outage", events: 2000, outage: true},
	{name: "S5", title: "crash", events: 20000, healthy: 1, crash: true},
	{name: "R1", title: "steady", healthy: 1, steady: true},
	{name: "Y1", title: "sync", events: 20000, sync: true},
	{name: "Y2", title: "sync+mirror", events: 20000, sync: true, mirror: true},
	{name: "W1", title: "workflow", events: 5000, workflow: true},
	{name: "M1", title: "backlog", events: MemoryTargetPending, backlog: true},
}

// kinds lists the behaviour of each of the scenario's endpoints.
func (s spec) kinds() []behaviour {
	var k []behaviour
	for range s.healthy {
		k = append(k, behaviourOK)
	}
	if s.slow {
		k = append(k, behaviourSlow)
	}
	if s.outage {
		k = append(k, behaviourOutage)
	}
	if s.workflow {
		k = append(k, behaviourService)
	}
	if s.sync || s.workflow {
		k = append(k, behaviourChained)
	}
	return k
}

// ScenarioNames lists the scenarios, in the order they run.
func ScenarioNames() []string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.name
	}
	return names
}

// Config configures Run. Zero fields take defaults.
type Config struct {
	// Scenarios to run, by name (S1 … S5, R1, Y1, Y2, W1, M1, any case); empty
	// runs all.
	Scenarios []string
	// Events, when positive, is the event count of every scenario and of
	// the ceilings; otherwise the defaults are multiplied by Scale.
	Events int
	// Scale multiplies the default event counts; default 1.
	Scale float64
	// Publishers is the number of concurrent publishers; default 32.
	Publishers int
	// EventSize is the size of each event's request body in bytes, from
	// MinEventSize to MaxEventSize; default 1,024.
	EventSize int
	// Rate, when positive, publishes every scenario but M1 open-loop at Rate
	// events per second (see publisher.run) instead of as fast as the
	// server answers; it is also R1's rate, by default DefaultRate.
	Rate float64
	// Duration is how long R1 publishes; default 20 s. Scale and Events
	// change its event count as they change the others'.
	Duration time.Duration
	// Timeout bounds each scenario's wait for its deliveries once
	// publishing is done; default 5 minutes.
	Timeout time.Duration

	// Server is the URL of a running server to drive with APIKey. When
	// empty, each scenario starts `Binary serve` on a fresh data dir.
	Server string
	APIKey string
	// ServerPID is the process id of Server when it runs on this machine,
	// so that its CPU use can be measured; 0 when unknown.
	ServerPID int
	// Postgres, when set, is the DSN of a PostgreSQL database the child
	// servers store their data in, each scenario in a fresh schema
	// (dropped afterwards unless KeepData); default SQLite in the data dir.
	Postgres string
	// PostgresDelay, when positive, puts a proxy between the child
	// servers and Postgres that holds every chunk of bytes that long in
	// each direction: a database another host away (a round trip costs
	// twice the delay). Schemas are made and dropped directly.
	PostgresDelay time.Duration
	// Mirror, when set, is the DSN of a PostgreSQL database for Y2's
	// mirror table (made and dropped by the run); without it Y2 is
	// skipped.
	Mirror string
	// Nodes is how many server processes each scenario starts on the
	// Postgres database (1 to 9; default 1). Publishers spread events
	// over them; API calls go to the first, and S5 kills the first.
	Nodes int
	// Binary is the hookline executable to start servers from.
	Binary string
	// Env is the environment child servers inherit (HOOKLINE_API_KEY,
	// the address, data dir and database are replaced).
	Env []string
	// TempDir is where the run's data dirs are made; default the system
	// temporary directory.
	TempDir string
	// KeepData keeps the data dirs and server logs after the run.
	KeepData bool

	// Ceilings also measures the HTTP-hop and SQLite ceilings.
	Ceilings bool
	// Outage is how long S4's endpoint answers 500; default 20 s.
	Outage time.Duration
	// SlowDelay is how long S3's slow endpoint takes per request; default
	// 5 s.
	SlowDelay time.Duration
	// RetrySchedule is S4's endpoint's retry schedule; default
	// DefaultRetrySchedule.
	RetrySchedule []string

	// Commit is recorded in the results (see GitCommit).
	Commit string
	// Progress receives progress lines; default none.
	Progress io.Writer
	// ProgressInterval is how often progress lines are written; default
	// 1 s.
	ProgressInterval time.Duration
}

// withDefaults fills zero fields and validates the result.
func (c Config) withDefaults() (Config, error) {
	c.Scale = cmp.Or(c.Scale, 1)
	c.Publishers = cmp.Or(c.Publishers, DefaultPublishers)
	c.EventSize = cmp.Or(c.EventSize, DefaultEventSize)
	c.Nodes = cmp.Or(c.Nodes, 1)
	c.Duration = cmp.Or(c.Duration, DefaultDuration)
	c.Timeout = cmp.Or(c.Timeout, DefaultTimeout)
	c.Outage = cmp.Or(c.Outage, DefaultOutage)
	c.SlowDelay = cmp.Or(c.SlowDelay, DefaultSlowDelay)
	c.ProgressInterval = cmp.Or(c.ProgressInterval, DefaultProgressInterval)
	if c.RetrySchedule == nil {
		c.RetrySchedule = DefaultRetrySchedule
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	names, err := ParseScenarios(c.Scenarios)
	if err != nil {
		return c, err
	}
	c.Scenarios = names
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Events < 0 {
		bad("events must not be negative, got %d", c.Events)
	}
	if c.Scale < 0 || math.IsNaN(c.Scale) || math.IsInf(c.Scale, 0) {
		bad("scale must be a positive number, got %v", c.Scale)
	}
	if c.Publishers < 1 || c.Publishers > 10000 {
		bad("publishers must be from 1 to 10000, got %d", c.Publishers)
	}
	if c.EventSize < MinEventSize || c.EventSize > MaxEventSize {
		bad("event size must be from %d to %d bytes, got %d", MinEventSize, MaxEventSize, c.EventSize)
	}
	if c.Rate < 0 || c.Rate > maxRate || math.IsNaN(c.Rate) {
		bad("rate must be from 0 to %d events/s, got %v", maxRate, c.Rate)
	}
	if c.Timeout < 0 || c.Outage < 0 || c.SlowDelay < 0 || c.Duration < 0 {
		bad("timeout, outage, slow delay and duration must not be negative")
	}
	if c.Postgres != "" {
		if err := validStoreDSN(c.Postgres); err != nil {
			bad("%v", err)
		}
	}
	if c.PostgresDelay < 0 || c.PostgresDelay > time.Second {
		bad("postgres delay must be from 0 to 1s, got %s", c.PostgresDelay)
	} else if c.PostgresDelay > 0 && c.Postgres == "" {
		bad("a postgres delay needs a PostgreSQL database (--postgres)")
	}
	if c.Mirror != "" {
		if err := validPostgresDSN(c.Mirror); err != nil {
			bad("mirror %v", err)
		}
	}
	if c.Nodes < 0 || c.Nodes > maxNodes {
		bad("nodes must be from 1 to %d, got %d", maxNodes, c.Nodes)
	} else if c.Nodes > 1 && c.Postgres == "" {
		bad("several nodes need a PostgreSQL database (--postgres)")
	}
	if c.ServerPID < 0 || (c.ServerPID > 0 && c.Server == "") {
		bad("a server pid needs a server URL, and must be positive")
	}
	if c.Server != "" {
		if u, err := url.Parse(c.Server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("server %q is not an http:// or https:// URL", c.Server)
		}
		if c.APIKey == "" {
			bad("a server URL needs an API key")
		}
		if c.Postgres != "" {
			bad("a server URL and a PostgreSQL database exclude each other: the server has its own")
		}
	} else if c.Binary == "" {
		bad("no hookline binary to start servers from")
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("invalid bench config: %w", err)
	}
	c.Server = strings.TrimRight(c.Server, "/")
	return c, nil
}

// ParseScenarios checks and normalises scenario names (case-insensitive,
// each may also be a comma-separated list) and returns them in run order
// without repeats; none means all.
func ParseScenarios(in []string) ([]string, error) {
	if len(in) == 0 {
		return ScenarioNames(), nil
	}
	want := map[string]bool{}
	for _, item := range in {
		for name := range strings.SplitSeq(item, ",") {
			name = strings.ToUpper(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			if !slices.Contains(ScenarioNames(), name) {
				return nil, fmt.Errorf("unknown scenario %q: want %s", name, strings.Join(ScenarioNames(), ", "))
			}
			want[name] = true
		}
	}
	if len(want) == 0 {
		return nil, errors.New("no scenario named")
	}
	var out []string
	for _, n := range ScenarioNames() {
		if want[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

// maxNodes bounds Config.Nodes.
const maxNodes = 9

// maxRate bounds Config.Rate: far above what one machine publishes.
const maxRate = 1_000_000

// steadyRate is R1's rate.
func (c Config) steadyRate() float64 {
	if c.Rate > 0 {
		return c.Rate
	}
	return DefaultRate
}

// events returns the event count of sp.
func (c Config) events(sp spec) int {
	if sp.steady {
		return c.count(int(math.Round(c.steadyRate() * c.Duration.Seconds())))
	}
	return c.count(sp.events)
}

// rate returns the open-loop rate of sp, 0 for a closed loop (and for
// M1, whose batches are not paced).
func (c Config) rate(sp spec) float64 {
	switch {
	case sp.steady:
		return c.steadyRate()
	case sp.backlog:
		return 0
	}
	return c.Rate
}

// count returns the event count of a scenario whose default is def.
func (c Config) count(def int) int {
	if c.Events > 0 {
		return c.Events
	}
	return max(1, int(math.Round(float64(def)*c.Scale)))
}

// runner holds what one Run shares between scenarios.
type runner struct {
	cfg   Config
	runID string // makes the run's event types unique on a shared server
	root  string // the run's temporary directory
	// pgProxy, with Config.PostgresDelay, is what the servers connect to.
	pgProxy *delayProxy
	mu      sync.Mutex
}

// logf writes one progress line.
func (r *runner) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.cfg.Progress, format+"\n", args...)
}

// Run measures the ceilings (when asked) and runs the scenarios one after
// the other. It returns every result it has, also with an error: a
// scenario that failed is recorded and the next one still runs. ErrLost
// is returned (wrapped) when an accepted event was lost.
func Run(ctx context.Context, cfg Config) (Results, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Results{}, err
	}
	res := Results{
		Time: time.Now().UTC().Truncate(time.Second), GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		NumCPU: runtime.NumCPU(), Commit: cfg.Commit, LoadAvg: loadAvg(), Server: cmp.Or(cfg.Server, "child"),
		Publishers: cfg.Publishers, Scale: cfg.Scale, EventSize: cfg.EventSize, Database: "sqlite", Nodes: cfg.Nodes,
	}
	switch {
	case cfg.Server != "":
		res.Database = "" // the server's own
	case cfg.Postgres != "":
		res.Database = "postgres"
	}
	if cfg.Events > 0 {
		res.Scale = 0
	}
	if cfg.Server == "" {
		res.ServerEnv = inheritedEnv(childEnv(cfg.Env, ""))
	}
	root, err := os.MkdirTemp(cfg.TempDir, "hookline-bench-")
	if err != nil {
		return res, fmt.Errorf("create data dir: %w", err)
	}
	r := &runner{cfg: cfg, runID: randomHex(4), root: root}
	proxy, stopProxy, err := delayedPostgres(cfg.Postgres, cfg.PostgresDelay)
	if err != nil {
		os.RemoveAll(root)
		return res, err
	}
	defer stopProxy()
	r.pgProxy = proxy
	res.PostgresDelay = cfg.PostgresDelay
	defer func() {
		if cfg.KeepData {
			r.logf("kept data dirs and server logs in %s", root)
			return
		}
		if err := os.RemoveAll(root); err != nil {
			r.logf("remove %s: %v", root, err)
		}
	}()

	var errs []error
	if cfg.Ceilings {
		c, err := r.ceilings(ctx, cfg.count(specs[0].events))
		if err != nil {
			errs = append(errs, err)
		} else {
			res.Ceilings = &c
		}
	}
	for _, sp := range specs {
		if !slices.Contains(cfg.Scenarios, sp.name) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		sc, err := r.scenario(ctx, sp)
		if err != nil {
			sc.Error = err.Error()
			errs = append(errs, fmt.Errorf("%s %s: %w", sp.name, sp.title, err))
		}
		res.Scenarios = append(res.Scenarios, sc)
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	if n := res.Lost(); n > 0 {
		errs = append(errs, fmt.Errorf("%d %w", n, ErrLost))
	}
	return res, errors.Join(errs...)
}

// GitCommit returns the short commit of the git checkout in dir, or ""
// when there is none.
func GitCommit(ctx context.Context, dir string) string {
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// loadAvg returns /proc/loadavg's three load averages, or "".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b)
}
