package bench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteTable writes r as two tables for a person: how the events were
// published and accepted, then how they were delivered.
func WriteTable(w io.Writer, r Results) error {
	fmt.Fprintf(w, "hookline bench  %s  commit %s  %s  GOMAXPROCS %d  load %s  server %s  store %s  %d publishers  %s events\n\n",
		r.Time.Format(time.RFC3339), orDash(r.Commit), r.GoVersion, r.GOMAXPROCS, orDash(r.LoadAvg), r.Server, storeStr(r),
		r.Publishers, sizeStr(r.EventSize))
	tw := newTable(w)
	fmt.Fprintln(tw, "scenario\trate\taccepted\terrors\taccept/s\tpublish p50\tp90\tp99\tmax\tserver CPU\tbench CPU\tpeak RSS")
	for _, s := range r.Scenarios {
		label := s.Name + " " + s.Title
		switch {
		case s.Skipped != "":
			fmt.Fprintf(tw, "%s\tskipped%s\n", label, strings.Repeat("\t", 10))
			continue
		case s.Accepted == 0 && s.PublishErrors == 0:
			fmt.Fprintf(tw, "%s\tno result%s\n", label, strings.Repeat("\t", 10))
			continue
		}
		l := s.PublishLatency
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			label, rateStr(s.Rate), s.Accepted, s.PublishErrors, num(s.AcceptedPerSec),
			latencyStr(l, l.P50MS), latencyStr(l, l.P90MS), latencyStr(l, l.P99MS), latencyStr(l, l.MaxMS),
			coresStr(s.ServerCPU), coresStr(s.BenchCPU), bytesIEC(s.PeakRSSBytes))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = newTable(w)
	fmt.Fprintln(tw, "scenario\tendpoints\tdelivered\tdeliver/s\tp50\tp95\tp99\tmax\tdup\tlost")
	for _, s := range r.Scenarios {
		if s.Skipped != "" {
			continue
		}
		label := s.Name + " " + s.Title
		if len(s.Groups) == 0 {
			fmt.Fprintf(tw, "%s\tno result%s\n", label, strings.Repeat("\t", 8))
			continue
		}
		for i, g := range s.Groups {
			if i > 0 {
				label = "" // the scenario's name on its first group's row only
			}
			lost := strconv.Itoa(g.Lost)
			if !g.Waited {
				lost = "-" // not waited for: see Pending
			}
			l := g.Latency
			fmt.Fprintf(tw, "%s\t%s ×%d\t%d/%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n",
				label, g.Name, g.Endpoints, g.Unique, g.Expected, num(g.DeliveredPerSec),
				latencyStr(l, l.P50MS), latencyStr(l, l.P95MS), latencyStr(l, l.P99MS), latencyStr(l, l.MaxMS),
				g.Duplicates, lost)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	notes(w, r)
	return nil
}

// notes writes what the table has no column for: failures, pending and
// failed attempts, the crash, and the ceilings.
func notes(w io.Writer, r Results) {
	var lines []string
	for _, s := range r.Scenarios {
		if s.Skipped != "" {
			lines = append(lines, fmt.Sprintf("%s skipped: %s", s.Name, s.Skipped))
		}
		if s.Error != "" {
			lines = append(lines, fmt.Sprintf("%s failed: %s", s.Name, s.Error))
		}
		if s.TimedOut {
			lines = append(lines, fmt.Sprintf("%s timed out waiting for deliveries", s.Name))
		}
		for _, g := range s.Groups {
			if g.Pending > 0 {
				lines = append(lines, fmt.Sprintf("%s %s: not waited for; deliveries still pending at the end: %d", s.Name, g.Name, g.Pending))
			}
			if g.FailedAttempts > 0 {
				lines = append(lines, fmt.Sprintf("%s %s: requests answered 500: %d", s.Name, g.Name, g.FailedAttempts))
			}
			if g.Unacked > 0 {
				lines = append(lines, fmt.Sprintf("%s %s: deliveries of events whose 202 never reached the publisher: %d", s.Name, g.Name, g.Unacked))
			}
		}
		if s.MirroredPerSec > 0 {
			lines = append(lines, fmt.Sprintf("%s: every change in the mirror table at %s events/s (from the first 202)", s.Name, num(s.MirroredPerSec)))
		}
		if c := s.Crash; c != nil {
			lines = append(lines, fmt.Sprintf("%s: killed with SIGKILL after %d accepted events; ready again after %.2fs; %d publishes repeated",
				s.Name, c.AcceptedBeforeKill, c.DownSeconds, s.PublishRetries))
		}
	}
	if c := r.Ceilings; c != nil {
		l := c.HTTPLatency
		lines = append(lines, fmt.Sprintf("ceiling HTTP hop: %s requests/s (%d requests, %d errors), p50 %s p99 %s",
			num(c.HTTPPerSec), c.HTTPRequests, c.HTTPErrors, latencyStr(l, l.P50MS), latencyStr(l, l.P99MS)),
			fmt.Sprintf("ceiling SQLite AcceptEvents: %s events/s (%d events, batches of %d)", num(c.SQLitePerSec), c.SQLiteEvents, c.SQLiteBatch))
		for _, s := range r.Scenarios {
			if s.Name != "S1" || len(s.Groups) == 0 {
				continue
			}
			g := s.Groups[0]
			lines = append(lines, fmt.Sprintf("S1 accept/s = %s of the SQLite ceiling and %s of the HTTP hop; S1 deliver/s = %s of the HTTP hop",
				pct(s.AcceptedPerSec, c.SQLitePerSec), pct(s.AcceptedPerSec, c.HTTPPerSec), pct(g.DeliveredPerSec, c.HTTPPerSec)))
		}
	}
	if len(lines) > 0 {
		fmt.Fprintln(w)
	}
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// metric is one figure compared between two runs.
type metric struct {
	name string
	get  func(Scenario, Group) float64
	// format formats a value.
	format func(float64) string
}

// scenarioMetrics are compared once per scenario, groupMetrics per group.
var (
	scenarioMetrics = []metric{
		{"accept/s", func(s Scenario, _ Group) float64 { return s.AcceptedPerSec }, num},
		{"publish p50", func(s Scenario, _ Group) float64 { return s.PublishLatency.P50MS }, msStr},
		{"publish p99", func(s Scenario, _ Group) float64 { return s.PublishLatency.P99MS }, msStr},
		{"server CPU", func(s Scenario, _ Group) float64 { return cores(s.ServerCPU) }, coresNum},
		{"peak RSS", func(s Scenario, _ Group) float64 { return float64(s.PeakRSSBytes) }, func(v float64) string { return bytesIEC(int64(v)) }},
	}
	groupMetrics = []metric{
		{"deliver/s", func(_ Scenario, g Group) float64 { return g.DeliveredPerSec }, num},
		{"p50", func(_ Scenario, g Group) float64 { return g.Latency.P50MS }, msStr},
		{"p95", func(_ Scenario, g Group) float64 { return g.Latency.P95MS }, msStr},
		{"p99", func(_ Scenario, g Group) float64 { return g.Latency.P99MS }, msStr},
		{"max", func(_ Scenario, g Group) float64 { return g.Latency.MaxMS }, msStr},
	}
)

// WriteComparison writes the changes from old to cur, scenario by scenario
// and group by group, for the figures both runs have.
func WriteComparison(w io.Writer, old, cur Results) error {
	fmt.Fprintf(w, "compared with %s (commit %s, load %s):\n\n", old.Time.Format(time.RFC3339), orDash(old.Commit), orDash(old.LoadAvg))
	tw := newTable(w)
	fmt.Fprintln(tw, "scenario\tgroup\tfigure\told\tnew\tchange")
	if o, c := old.Ceilings, cur.Ceilings; o != nil && c != nil {
		fmt.Fprintf(tw, "ceiling\t\tHTTP hop/s\t%s\t%s\t%s\n", num(o.HTTPPerSec), num(c.HTTPPerSec), change(o.HTTPPerSec, c.HTTPPerSec))
		fmt.Fprintf(tw, "ceiling\t\tSQLite/s\t%s\t%s\t%s\n", num(o.SQLitePerSec), num(c.SQLitePerSec), change(o.SQLitePerSec, c.SQLitePerSec))
	}
	row := func(name, group string, m metric, prev, cur Scenario, pg, g Group) {
		ov, nv := m.get(prev, pg), m.get(cur, g)
		if ov == 0 && nv == 0 {
			return
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, group, m.name, m.format(ov), m.format(nv), change(ov, nv))
	}
	var warnings []string
	for _, s := range cur.Scenarios {
		prev, ok := findScenario(old, s.Name)
		if !ok || s.Skipped != "" || prev.Skipped != "" {
			continue
		}
		if prev.Events != s.Events {
			warnings = append(warnings, fmt.Sprintf("%s published %d events, the old run %d: figures are not comparable", s.Name, s.Events, prev.Events))
		}
		for _, m := range scenarioMetrics {
			row(s.Name, "", m, prev, s, Group{}, Group{})
		}
		for _, g := range s.Groups {
			if pg, ok := findGroup(prev, g.Name); ok {
				for _, m := range groupMetrics {
					row(s.Name, g.Name, m, prev, s, pg, g)
				}
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(warnings) > 0 {
		fmt.Fprintln(w)
	}
	for _, l := range warnings {
		fmt.Fprintln(w, l)
	}
	return nil
}

func findScenario(r Results, name string) (Scenario, bool) {
	for _, s := range r.Scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

func findGroup(s Scenario, name string) (Group, bool) {
	for _, g := range s.Groups {
		if g.Name == name {
			return g, true
		}
	}
	return Group{}, false
}

// change is the relative change from old to cur, such as "+12.5%"; "n/a"
// when either is zero, which means unknown (such as the RSS of a
// --server).
func change(old, cur float64) string {
	if old == 0 || cur == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", (cur-old)/old*100)
}

// pct is part as a percentage of whole.
func pct(part, whole float64) string {
	if whole == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", part/whole*100)
}

// num formats a count or rate without decimals.
func num(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }

// msStr formats milliseconds: "0.8ms", "12ms", "1.25s".
func msStr(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + "s"
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 0, 64) + "ms"
	default:
		return strconv.FormatFloat(v, 'f', 1, 64) + "ms"
	}
}

// latencyStr formats v, a figure of l; "-" when l has no values.
func latencyStr(l Latency, v float64) string {
	if l.Count == 0 {
		return "-"
	}
	return msStr(v)
}

// rateStr formats the rate of an open-loop run; "max" for a closed loop.
func rateStr(rate float64) string {
	if rate <= 0 {
		return "max"
	}
	return num(rate) + "/s"
}

// cores returns the cores u used, 0 when unknown.
func cores(u *CPUUse) float64 {
	if u == nil {
		return 0
	}
	return u.Cores
}

// coresNum formats a number of cores.
func coresNum(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// coresStr formats the cores u used; "n/a" when unknown.
func coresStr(u *CPUUse) string {
	if u == nil {
		return "n/a"
	}
	return coresNum(u.Cores) + " cores"
}

// storeStr names the store of r's servers, and their number when more
// than one.
func storeStr(r Results) string {
	s := orDash(r.Database)
	if r.PostgresDelay > 0 {
		s += fmt.Sprintf(" (%s away each way)", r.PostgresDelay)
	}
	if r.Nodes > 1 {
		s += fmt.Sprintf(" ×%d nodes", r.Nodes)
	}
	return s
}

// sizeStr formats an event size; "-" when unknown (results of an older
// run).
func sizeStr(n int) string {
	if n <= 0 {
		return "-"
	}
	return strconv.Itoa(n) + "-byte"
}

// bytesIEC formats a byte count in MiB; "n/a" for 0 (unknown).
func bytesIEC(n int64) string {
	if n <= 0 {
		return "n/a"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// newTable returns a tabwriter for a table of aligned columns written to
// w, without the spaces that pad a row's empty last cells.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(&trimWriter{w: w}, 0, 0, 2, ' ', 0)
}

// trimWriter drops the spaces at the ends of the lines it writes.
type trimWriter struct {
	w io.Writer
	// spaces counts the spaces held back since the last other byte.
	spaces int
	buf    []byte
}

func (t *trimWriter) Write(p []byte) (int, error) {
	t.buf = t.buf[:0]
	for _, c := range p {
		switch c {
		case ' ':
			t.spaces++
			continue
		case '\n':
			t.spaces = 0
		}
		for ; t.spaces > 0; t.spaces-- {
			t.buf = append(t.buf, ' ')
		}
		t.buf = append(t.buf, c)
	}
	if _, err := t.w.Write(t.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}
