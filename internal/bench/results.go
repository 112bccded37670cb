package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Results is everything one run measured, written by --json and read back
// by --compare.
type Results struct {
	Time       time.Time `json:"time"`
	GoVersion  string    `json:"go_version"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	NumCPU     int       `json:"num_cpu"`
	// Commit is the short git commit of the code measured, when known.
	Commit string `json:"commit,omitempty"`
	// LoadAvg is /proc/loadavg when the run started: other work on the
	// machine skews the figures.
	LoadAvg string `json:"load_avg,omitempty"`
	// Server is "child" when the run started its own servers, otherwise
	// the URL of the server it drove.
	Server     string `json:"server"`
	Publishers int    `json:"publishers"`
	// Database is the child servers' store, "sqlite" or "postgres";
	// empty for a --server, whose store the run does not know.
	Database string `json:"database,omitempty"`
	// Nodes is how many server processes each scenario ran (1 for a
	// --server); see Config.Nodes.
	Nodes int `json:"nodes,omitempty"`
	// PostgresDelay is the delay added each way between the servers and
	// PostgreSQL (Config.PostgresDelay).
	PostgresDelay time.Duration `json:"postgres_delay,omitempty"`
	// EventSize is the size of each event's request body in bytes.
	EventSize int `json:"event_size,omitempty"`
	// Scale multiplied the default event counts; 0 when a fixed count
	// (--events) replaced them.
	Scale float64 `json:"scale"`
	// ServerEnv lists the HOOKLINE_* and GO* variables the child servers
	// inherited, as NAME=value.
	ServerEnv []string   `json:"server_env,omitempty"`
	Ceilings  *Ceilings  `json:"ceilings,omitempty"`
	Scenarios []Scenario `json:"scenarios"`
	// Targets compares the figures with issue 17's targets (--targets).
	Targets []TargetCheck `json:"targets,omitempty"`
}

// Ceilings are the upper bounds S1 is compared with.
type Ceilings struct {
	// HTTPRequests bodies of EventSize bytes were posted by Publishers
	// goroutines straight to the receiver over keep-alive connections,
	// as the scenarios' publishers post events.
	HTTPRequests int     `json:"http_requests"`
	HTTPErrors   int     `json:"http_errors"`
	HTTPPerSec   float64 `json:"http_per_sec"`
	// HTTPLatency is the time from sending each request to its 2xx.
	HTTPLatency Latency `json:"http_latency"`
	// SQLiteEvents events with one task each were written with
	// AcceptEvents in batches of SQLiteBatch on a fresh SQLite store.
	SQLiteEvents int     `json:"sqlite_events"`
	SQLiteBatch  int     `json:"sqlite_batch"`
	SQLitePerSec float64 `json:"sqlite_per_sec"`
}

// Scenario is the outcome of one scenario.
type Scenario struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Skipped says why the scenario did not run.
	Skipped string `json:"skipped,omitempty"`
	// Error is why the scenario stopped early; its figures are partial.
	Error string `json:"error,omitempty"`
	// Events is how many events the publishers tried to publish.
	Events   int `json:"events"`
	Accepted int `json:"accepted"`
	// PublishErrors counts events that were never answered 202.
	PublishErrors int `json:"publish_errors"`
	// PublishRetries counts attempts repeated after the S5 crash.
	PublishRetries int `json:"publish_retries,omitempty"`
	// Rate is the events per second of an open-loop run, whose events
	// were published on a fixed timetable; 0 when each publisher sent its
	// next event once the last one was answered.
	Rate float64 `json:"rate,omitempty"`
	// PublishSeconds is the wall time from the first request sent to the
	// last 2xx received.
	PublishSeconds float64 `json:"publish_seconds"`
	// AcceptedPerSec is Accepted / PublishSeconds.
	AcceptedPerSec float64 `json:"accepted_per_sec"`
	// PublishLatency is the time from when each accepted event was due
	// to its 2xx: from sending it, or in an open-loop run from its place
	// in the timetable.
	PublishLatency Latency `json:"publish_latency"`
	// Dials counts the publishers' new connections; with keep-alive it
	// stays near the number of publishers.
	Dials int64 `json:"dials"`
	// MirroredPerSec is, for Y2, accepted events over the time from the
	// first accept until the mirror table held every change.
	MirroredPerSec float64 `json:"mirrored_per_sec,omitempty"`
	// TimedOut is set when the wait for deliveries hit the timeout.
	TimedOut bool `json:"timed_out,omitempty"`
	// PeakRSSBytes is the highest VmHWM of the scenario's server
	// processes; 0 when unknown (a --server run, or not Linux).
	PeakRSSBytes int64 `json:"peak_rss_bytes,omitempty"`
	// ServerCPU is the CPU the server processes used from the first
	// publish until the deliveries were done; nil when unknown (a
	// --server without --server-pid, or not Linux).
	ServerCPU *CPUUse `json:"server_cpu,omitempty"`
	// BenchCPU is what the bench process itself (publishers and
	// receiver) used over the same time, on the same machine.
	BenchCPU *CPUUse `json:"bench_cpu,omitempty"`
	Crash    *Crash  `json:"crash,omitempty"`
	Groups   []Group `json:"groups"`
}

// CPUUse is the CPU time a process used over a span of wall time.
type CPUUse struct {
	Seconds     float64 `json:"seconds"`
	WallSeconds float64 `json:"wall_seconds"`
	// Cores is Seconds / WallSeconds: the cores used on average.
	Cores float64 `json:"cores"`
}

// Crash describes S5's kill and restart.
type Crash struct {
	// AcceptedBeforeKill is how many events had been accepted when the
	// server was killed.
	AcceptedBeforeKill int `json:"accepted_before_kill"`
	// DownSeconds is the time from the kill until the restarted server
	// was ready.
	DownSeconds float64 `json:"down_seconds"`
}

// Group is what the endpoints of one behaviour received in a scenario.
type Group struct {
	// Name is the endpoints' behaviour: ok, slow or outage.
	Name      string `json:"name"`
	Endpoints int    `json:"endpoints"`
	// Waited is set when the scenario waited for every delivery of the
	// group; otherwise undelivered events count as Pending, not Lost.
	Waited bool `json:"waited"`
	// Expected is accepted events × endpoints.
	Expected int `json:"expected"`
	// Unique counts (event, endpoint) pairs answered 2xx at least once.
	Unique int `json:"unique"`
	// Duplicates counts extra 2xx-answered arrivals of the same pair.
	Duplicates int `json:"duplicates"`
	// Lost counts accepted pairs never delivered in a waited group.
	Lost int `json:"lost"`
	// Pending counts pairs not delivered yet in a group not waited for.
	Pending int `json:"pending,omitempty"`
	// Unacked counts pairs delivered for events whose publisher never got
	// a 202 (a request cut by the S5 kill after its commit).
	Unacked int `json:"unacked,omitempty"`
	// FailedAttempts counts requests the receiver answered with 500.
	FailedAttempts int `json:"failed_attempts,omitempty"`
	// DeliveredPerSec is Unique over the time from the first accept to the
	// last first delivery.
	DeliveredPerSec float64 `json:"delivered_per_sec"`
	Latency         Latency `json:"latency"`
}

// Latency summarises latencies: of deliveries, the first 2xx arrival of
// each (event, endpoint) minus the event's accept time; of publishes, see
// Scenario.PublishLatency.
type Latency struct {
	Count int     `json:"count"`
	P50MS float64 `json:"p50_ms"`
	P90MS float64 `json:"p90_ms"`
	P95MS float64 `json:"p95_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
}

// WriteJSON writes r to path as indented JSON.
func (r Results) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// ReadJSON reads results that WriteJSON wrote.
func ReadJSON(path string) (Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Results{}, fmt.Errorf("read results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return Results{}, fmt.Errorf("read results %s: %w", path, err)
	}
	return r, nil
}

// Lost is the number of accepted deliveries lost over every scenario.
func (r Results) Lost() int {
	n := 0
	for _, s := range r.Scenarios {
		for _, g := range s.Groups {
			n += g.Lost
		}
	}
	return n
}
