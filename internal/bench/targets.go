package bench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Verdicts of a TargetCheck.
const (
	Met         = "met"
	NotMet      = "not met"
	NotMeasured = "not measured"
)

// TargetCheck is one of issue 17's performance targets against what a
// run measured.
type TargetCheck struct {
	// Target states the target, such as "S1 accepted/s ≥ 15000".
	Target string `json:"target"`
	// Verdict is Met, NotMet or NotMeasured.
	Verdict string `json:"verdict"`
	// Value and Limit are the figure measured and the bound it was held
	// to, in Unit; both 0 when not measured.
	Value float64 `json:"value,omitempty"`
	Limit float64 `json:"limit,omitempty"`
	Unit  string  `json:"unit,omitempty"`
	// Note says where the figure comes from, or why there is none.
	Note string `json:"note,omitempty"`
}

// Units of TargetCheck.
const (
	unitPerSec = "/s"
	unitMS     = "ms"
	unitMiB    = " MiB"
)

// The shape the targets were set with.
const (
	targetPublishers = 32
	targetEventSize  = 1024
	// targetSteadyRate is the rate of the accept→delivery p99 target.
	targetSteadyRate = 2000
	// targetPublishRate is the highest rate of the publish p50 target.
	targetPublishRate = 5000
)

// reading is what a goal found in a run: a figure and its bound, or why
// there is none (skip).
type reading struct {
	value, limit float64
	note, skip   string
}

// goal is one target: its statement, whether the figure must be at least
// (else at most) its limit, and how to read it from a run.
type goal struct {
	text    string
	atLeast bool
	unit    string
	read    func(r Results, base *Results) reading
}

// goals are issue 17's targets, in its order.
var goals = []goal{
	{"S1 accepted/s ≥ 15000 (32 publishers, 1 KiB events)", true, unitPerSec, func(r Results, _ *Results) reading {
		return onSQLite(r, "S1", func(s Scenario, _ Group) reading { return reading{value: s.AcceptedPerSec, limit: 15000} })
	}},
	{"S1 delivered/s ≥ 10000", true, unitPerSec, func(r Results, _ *Results) reading {
		return onSQLite(r, "S1", func(_ Scenario, g Group) reading { return reading{value: g.DeliveredPerSec, limit: 10000} })
	}},
	{"S1 delivered/s ≥ ½ of the ceiling measured in the same run", true, unitPerSec, func(r Results, _ *Results) reading {
		return onSQLite(r, "S1", func(_ Scenario, g Group) reading {
			if r.Ceilings == nil || r.Ceilings.HTTPPerSec == 0 {
				return reading{skip: "no ceiling in this run (--ceilings)"}
			}
			c := r.Ceilings.HTTPPerSec
			return reading{value: g.DeliveredPerSec, limit: c / 2, note: "ceiling " + num(c) + "/s"}
		})
	}},
	{"publish p50 ≤ 2 ms up to 5000 events/s", false, unitMS, publishP50},
	{"S2 accepted/s ≥ 10000", true, unitPerSec, func(r Results, _ *Results) reading {
		return onSQLite(r, "S2", func(s Scenario, _ Group) reading { return reading{value: s.AcceptedPerSec, limit: 10000} })
	}},
	{"S2 deliveries/s ≥ 15000", true, unitPerSec, func(r Results, _ *Results) reading {
		return onSQLite(r, "S2", func(_ Scenario, g Group) reading { return reading{value: g.DeliveredPerSec, limit: 15000} })
	}},
	{"steady 2000 events/s: accept→delivery p99 ≤ 50 ms", false, unitMS, func(r Results, _ *Results) reading {
		s, g, skip := scenarioGroup(r, "R1")
		switch {
		case skip != "":
			return reading{skip: skip}
		case s.Rate < targetSteadyRate:
			return reading{skip: fmt.Sprintf("R1 ran at %s/s (--rate), below %d/s", num(s.Rate), targetSteadyRate)}
		}
		return reading{value: g.Latency.P99MS, limit: 50, note: rateNote(s)}
	}},
	{"S3 healthy endpoints' p99 ≤ 1.5 × S2's", false, unitMS, func(r Results, _ *Results) reading {
		_, s2, skip := scenarioGroup(r, "S2")
		if skip != "" {
			return reading{skip: skip}
		}
		_, s3, skip := scenarioGroup(r, "S3")
		if skip != "" {
			return reading{skip: skip}
		}
		return reading{value: s3.Latency.P99MS, limit: 1.5 * s2.Latency.P99MS, note: "S2 p99 " + msStr(s2.Latency.P99MS)}
	}},
	{"memory ≤ 256 MiB with 1000000 pending", false, unitMiB, func(r Results, _ *Results) reading {
		s, _, skip := scenarioGroup(r, "M1")
		switch {
		case skip != "":
			return reading{skip: skip}
		case s.PeakRSSBytes == 0:
			return reading{skip: "the server's memory is not known (a --server, or not Linux)"}
		case s.Accepted < MemoryTargetPending:
			return reading{skip: fmt.Sprintf("M1 left %d pending, not %d (--scale, --events)", s.Accepted, MemoryTargetPending)}
		}
		return reading{value: float64(s.PeakRSSBytes) / (1 << 20), limit: 256, note: fmt.Sprintf("peak RSS with %d pending", s.Accepted)}
	}},
	{"data sync end to end (publish → applied → changed event delivered) ≥ 10000 events/s", true, unitPerSec, func(r Results, _ *Results) reading {
		return onSQLite(r, "Y1", func(_ Scenario, g Group) reading { return reading{value: g.DeliveredPerSec, limit: 10000} })
	}},
	{"data sync with a PostgreSQL mirror (until the table holds every change) ≥ 5000 events/s", true, unitPerSec, func(r Results, _ *Results) reading {
		return onSQLite(r, "Y2", func(s Scenario, _ Group) reading { return reading{value: s.MirroredPerSec, limit: 5000} })
	}},
	{"workflows ≥ 2000 three-step runs/s", true, unitPerSec, func(r Results, _ *Results) reading {
		return onSQLite(r, "W1", func(_ Scenario, g Group) reading { return reading{value: g.DeliveredPerSec, limit: 2000} })
	}},
	{"PostgreSQL, one node: S1 accepted/s ≥ 8000", true, unitPerSec, func(r Results, _ *Results) reading {
		if r.Database != "postgres" {
			return reading{skip: "not run on PostgreSQL (--postgres)"}
		}
		return closedLoop(r, "S1", func(s Scenario, _ Group) reading { return reading{value: s.AcceptedPerSec, limit: 8000} })
	}},
	{"PostgreSQL, three nodes on one box: S1 accepted/s not below one node's", true, unitPerSec, threeNodes},
}

// threeNodes reads S1 of a three-node PostgreSQL run against S1 of the
// one-node run it is compared with (--compare).
func threeNodes(r Results, base *Results) reading {
	if r.Database != "postgres" || r.Nodes != 3 {
		return reading{skip: "not run on three PostgreSQL nodes (--postgres, --nodes 3)"}
	}
	if base == nil || base.Database != "postgres" || base.Nodes != 1 {
		return reading{skip: "compare with a one-node --postgres run (--compare FILE)"}
	}
	one := closedLoop(*base, "S1", func(s Scenario, _ Group) reading { return reading{value: s.AcceptedPerSec} })
	if one.skip != "" {
		return reading{skip: "one-node run: " + one.skip}
	}
	return closedLoop(r, "S1", func(s Scenario, _ Group) reading {
		return reading{value: s.AcceptedPerSec, limit: one.value, note: "one node " + num(one.value) + "/s, " + base.Time.Format(time.RFC3339)}
	})
}

// scenarioGroup returns scenario name of r and its first group (the
// healthy endpoints), or why they cannot be used.
func scenarioGroup(r Results, name string) (Scenario, Group, string) {
	s, ok := findScenario(r, name)
	switch {
	case !ok:
		return s, Group{}, name + " did not run"
	case s.Skipped != "":
		return s, Group{}, name + " skipped"
	case s.Error != "":
		return s, Group{}, name + " failed: " + s.Error
	case s.TimedOut:
		return s, Group{}, name + " timed out"
	case len(s.Groups) == 0:
		return s, Group{}, name + " has no result"
	}
	for _, g := range s.Groups {
		if g.Lost > 0 {
			return s, Group{}, fmt.Sprintf("%s lost %d deliveries", name, g.Lost)
		}
	}
	return s, s.Groups[0], ""
}

// closedLoop reads a figure of scenario name run as the harness
// ran it: closed loop, 32 publishers, 1 KiB events.
func closedLoop(r Results, name string, read func(Scenario, Group) reading) reading {
	s, g, skip := scenarioGroup(r, name)
	switch {
	case skip != "":
		return reading{skip: skip}
	case s.Rate > 0:
		return reading{skip: fmt.Sprintf("%s ran at a fixed rate (--rate)", name)}
	case r.Publishers != targetPublishers || r.EventSize != targetEventSize:
		return reading{skip: fmt.Sprintf("ran with %d publishers and %d-byte events, not %d and %d",
			r.Publishers, r.EventSize, targetPublishers, targetEventSize)}
	}
	return read(s, g)
}

// onSQLite reads a figure of scenario name as closedLoop does, for a
// target set for SQLite: not measured on PostgreSQL, and noted for a
// --server, whose store the run does not know.
func onSQLite(r Results, name string, read func(Scenario, Group) reading) reading {
	if r.Database == "postgres" {
		return reading{skip: "a SQLite target; this run used PostgreSQL"}
	}
	rd := closedLoop(r, name, read)
	if r.Database == "" && rd.skip == "" {
		rd.note = strings.TrimSpace(rd.note + " (a --server: its store is not known)")
	}
	return rd
}

// publishP50 reads the highest publish p50 of the open-loop scenarios at
// up to targetPublishRate.
func publishP50(r Results, _ *Results) reading {
	var out reading
	for _, s := range r.Scenarios {
		if s.Rate <= 0 || s.Rate > targetPublishRate {
			continue
		}
		if _, _, skip := scenarioGroup(r, s.Name); skip != "" || s.PublishLatency.Count == 0 {
			continue
		}
		if out.note == "" || s.PublishLatency.P50MS > out.value {
			out = reading{value: s.PublishLatency.P50MS, limit: 2, note: s.Name + " " + rateNote(s)}
		}
	}
	if out.note == "" {
		return reading{skip: fmt.Sprintf("no fixed-rate scenario at up to %d/s completed (R1, --rate)", targetPublishRate)}
	}
	return out
}

// rateNote says at what rate s was published and what it achieved.
func rateNote(s Scenario) string {
	return fmt.Sprintf("at %s/s (achieved %s/s)", num(s.Rate), num(s.AcceptedPerSec))
}

// CheckTargets compares r with issue 17's targets. base, when not nil,
// is an earlier run r is compared with (--compare): the three-node target
// takes its one-node figure from there.
func CheckTargets(r Results, base *Results) []TargetCheck {
	out := make([]TargetCheck, 0, len(goals))
	for _, g := range goals {
		rd := g.read(r, base)
		c := TargetCheck{Target: g.text, Note: rd.note}
		switch {
		case rd.skip != "":
			c.Verdict, c.Note = NotMeasured, rd.skip
		default:
			c.Value, c.Limit, c.Unit = rd.value, rd.limit, g.unit
			met := rd.value <= rd.limit
			if g.atLeast {
				met = rd.value >= rd.limit
			}
			c.Verdict = NotMet
			if met {
				c.Verdict = Met
			}
		}
		out = append(out, c)
	}
	return out
}

// WriteTargets writes checks as a table.
func WriteTargets(w io.Writer, checks []TargetCheck) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "target\tmeasured\tbound\tverdict\tnote")
	for _, c := range checks {
		measured, bound := "-", "-"
		if c.Verdict != NotMeasured {
			measured, bound = formatUnit(c.Value, c.Unit), formatUnit(c.Limit, c.Unit)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Target, measured, bound, c.Verdict, c.Note)
	}
	return tw.Flush()
}

// formatUnit formats v in unit.
func formatUnit(v float64, unit string) string {
	switch unit {
	case unitMS:
		return msStr(v)
	case unitMiB:
		return strconv.FormatFloat(v, 'f', 1, 64) + unit
	}
	return num(v) + unit
}
