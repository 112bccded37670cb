package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/bench"
)

// newBenchCmd returns `hookline bench`: the load tool of internal/bench.
func newBenchCmd(g *globals) *cobra.Command {
	var (
		cfg                   bench.Config
		jsonPath, comparePath string
		targets               bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput, delivery latency and losses under load",
		Long: `Load-test Hookline end to end and report accepted events/s, publish
latency percentiles (from sending POST /v1/events to its 202), the server's
CPU use (cores on average) and peak RSS, delivered/s, accept→delivery
latency percentiles, duplicates, lost deliveries (must be 0) and publish
errors.

bench runs a webhook receiver on 127.0.0.1 and, for each scenario, starts
'hookline serve' from its own executable on a fresh data dir in a
temporary directory (removed unless --keep-data): on SQLite, or with
--postgres DSN in a fresh schema of that database (dropped afterwards),
--nodes N processes on it. With --server URL it drives that running
server instead, with --api-key or HOOKLINE_API_KEY; the server must allow
deliveries to 127.0.0.1, and S5 is skipped; give --server-pid when it
runs on this machine to measure its CPU use.

Scenarios (--scenario, default all):
  S1 throughput  1 endpoint, 20,000 events
  S2 fan-out     10 endpoints, 5,000 events (50,000 deliveries)
  S3 isolation   S2 plus an endpoint taking --slow-delay per request; only
                 the healthy endpoints are waited for, then the slow one
                 is watched for two of its delays
  S4 outage      1 endpoint answering 500 for --outage, 2,000 events
  S5 crash       S1 with kill -9 of the server halfway and a restart
  R1 steady      1 endpoint, --rate events/s (default 2,000) for --duration
  Y1 sync        20,000 events applied to a collection; delivered once the
                 collection's changed event for each reached 1 endpoint
  Y2 sync+mirror Y1 with a mirror table in the --mirror database; until
                 the table holds every change (skipped without --mirror)
  W1 workflow    5,000 three-step workflow runs (http call, set, emit);
                 delivered once each run's emitted event reached 1 endpoint
  M1 backlog     1,000,000 events in batches to an endpoint that never
                 answers; the server's peak RSS with all of them pending

Publishers send events of --event-size bytes as fast as the server
answers (closed loop), except in R1 and, with --rate, in every scenario
but M1: then events are due on a fixed timetable (open loop), and an
event's publish latency runs from when it was due, so that waiting for a
free publisher counts too. Accepted/s is accepted events over the time from the first
publish to the last 202.

With --ceilings (on when S1 runs) it also measures one HTTP hop from a
plain Go client to the receiver, with the same publishers and event size,
and the SQLite store's batch-insert rate, and shows S1 as fractions of
both. --targets compares the figures with the performance targets of
issue 17. Progress goes to stderr, the tables to stdout. The exit status
is 1 when a scenario failed or lost a delivery.`,
		Example: `  hookline bench --json bench.json
  hookline bench --scale 0.1 --scenario S1,S4
  hookline bench --scenario S1,S2,S3,R1,Y1,W1,M1 --targets
  hookline bench --scenario R1 --rate 5000 --duration 10s
  hookline bench --json new.json --compare old.json
  hookline bench --server http://127.0.0.1:8080 --api-key $KEY --scenario S1`,
		Args: argsNamed(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			if cfg.Scale <= 0 {
				return usagef(cmd, "invalid --scale %v: want a positive number", cfg.Scale)
			}
			if f.Changed("server") {
				if g.apiKey == "" {
					return usagef(cmd, "--server needs --api-key or %s", envAPIKey)
				}
				cfg.Server, cfg.APIKey = g.server, g.apiKey
			} else if f.Changed("server-pid") {
				return usagef(cmd, "--server-pid needs --server")
			} else {
				bin, err := os.Executable()
				if err != nil {
					return fmt.Errorf("find the hookline executable: %w", err)
				}
				cfg.Binary, cfg.Env = bin, os.Environ()
			}
			names, err := bench.ParseScenarios(cfg.Scenarios)
			if err != nil {
				return usagef(cmd, "invalid --scenario: %v", err)
			}
			cfg.Scenarios = names
			if !f.Changed("ceilings") {
				cfg.Ceilings = slices.Contains(names, "S1")
			}
			var old bench.Results
			if comparePath != "" {
				if old, err = bench.ReadJSON(comparePath); err != nil {
					return err
				}
			}
			cfg.Commit = bench.GitCommit(cmd.Context(), "")
			cfg.Progress = cmd.ErrOrStderr()

			res, runErr := bench.Run(cmd.Context(), cfg)
			if res.Time.IsZero() {
				return runErr
			}
			if targets {
				var base *bench.Results
				if comparePath != "" {
					base = &old
				}
				res.Targets = bench.CheckTargets(res, base)
			}
			out := cmd.OutOrStdout()
			if g.output == outputJSON {
				err = writeJSON(out, res)
			} else {
				err = bench.WriteTable(out, res)
			}
			if err != nil {
				return err
			}
			if targets && g.output != outputJSON {
				fmt.Fprintln(out)
				if err := bench.WriteTargets(out, res.Targets); err != nil {
					return err
				}
			}
			if jsonPath != "" {
				if err := res.WriteJSON(jsonPath); err != nil {
					return err
				}
			}
			if comparePath != "" && g.output != outputJSON {
				fmt.Fprintln(out)
				if err := bench.WriteComparison(out, old, res); err != nil {
					return err
				}
			}
			return runErr
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&cfg.Scenarios, "scenario", nil, "scenarios to run, such as S1,S4 (default all)")
	f.IntVar(&cfg.Events, "events", 0, "events per scenario and ceiling, replacing the defaults")
	f.Float64Var(&cfg.Scale, "scale", 1, "multiply the default event counts, such as 0.1 for a quick run")
	f.IntVar(&cfg.Publishers, "publishers", bench.DefaultPublishers, "concurrent publishers")
	f.IntVar(&cfg.EventSize, "event-size", bench.DefaultEventSize, "size of each event's request body in `BYTES`")
	f.Float64Var(&cfg.Rate, "rate", 0, "publish at `N` events/s on a fixed timetable in every scenario but M1, and R1 at N/s (default: as fast as answered; R1 2000)")
	f.DurationVar(&cfg.Duration, "duration", bench.DefaultDuration, "how long R1 publishes")
	f.StringVar(&cfg.Postgres, "postgres", "", "run the servers on the PostgreSQL database at `DSN`, each scenario in a fresh schema (default SQLite)")
	f.DurationVar(&cfg.PostgresDelay, "postgres-delay", 0, "hold every packet between the servers and --postgres this long each way, through a proxy on 127.0.0.1: a database on another host (a round trip costs twice this)")
	f.StringVar(&cfg.Mirror, "mirror", "", "PostgreSQL database at `DSN` for Y2's mirror table (Y2 is skipped without it)")
	f.IntVar(&cfg.Nodes, "nodes", 1, "server processes per scenario on the --postgres database; publishers spread events over them")
	f.IntVar(&cfg.ServerPID, "server-pid", 0, "process id of the --server, when local, to measure its CPU use")
	f.BoolVar(&targets, "targets", false, "compare the figures with issue 17's performance targets")
	f.DurationVar(&cfg.Timeout, "timeout", bench.DefaultTimeout, "how long each scenario waits for its deliveries after publishing")
	f.BoolVar(&cfg.KeepData, "keep-data", false, "keep the data dirs and server logs")
	f.BoolVar(&cfg.Ceilings, "ceilings", false, "also measure the HTTP-hop and SQLite ceilings (on by default when S1 runs)")
	f.DurationVar(&cfg.Outage, "outage", bench.DefaultOutage, "how long S4's endpoint answers 500")
	f.DurationVar(&cfg.SlowDelay, "slow-delay", bench.DefaultSlowDelay, "how long S3's slow endpoint takes per request")
	f.StringVar(&jsonPath, "json", "", "write the results to `FILE` as JSON")
	f.StringVar(&comparePath, "compare", "", "show changes from the results in `FILE` (written by --json)")
	return cmd
}
