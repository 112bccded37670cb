package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
	// Time zones are looked up in the binary, not the host's zoneinfo.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// Missed-run policies of a schedule: what a node does with the times
// that passed while no node ran (or the workflow's schedule could not
// be read).
const (
	// MissedSkip runs none of them: only a time less than MissedAfter
	// old still starts its run.
	MissedSkip = "skip"
	// MissedRunOnce starts one run, for the latest time missed.
	MissedRunOnce = "run_once"
	// MissedRunAll starts a run for each time missed, the latest
	// catch_up of them (DefaultCatchUp, at most MaxCatchUp).
	MissedRunAll = "run_all"
)

// Limits and defaults of schedules.
const (
	// MissedAfter is how late a scheduled time may be started and still
	// count as on time.
	MissedAfter    = time.Minute
	DefaultCatchUp = 10
	MaxCatchUp     = 100
	maxSchedules   = 10
	maxCron        = 200
	minEvery       = time.Minute
	// maxWalk bounds the scheduled times looked at in one catch-up;
	// past it only the last day's are.
	maxWalk = 100_000
)

// ScheduledType is the type of the event that starts a scheduled run.
// Its data is {"workflow", "scheduled_at", "schedule", "timezone"}; its
// occurred_at is the scheduled time.
const ScheduledType = "workflow.scheduled"

// cronParser reads the five standard fields and descriptors (@daily).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// schedule is a compiled ScheduleDef.
type schedule struct {
	// key names the schedule's row (store.Schedule.Key): what it says,
	// not its missed policy, so changing the policy keeps its time.
	key      string
	text     string // the cron expression, or "every 1h"
	timezone string
	spec     cron.Schedule
	missed   string
	catchUp  int
}

func compileSchedule(path string, d ScheduleDef) (*schedule, error) {
	s := &schedule{timezone: d.Timezone, missed: d.Missed, catchUp: d.CatchUp}
	if s.timezone == "" {
		s.timezone = "UTC"
	}
	loc, err := time.LoadLocation(s.timezone)
	if err != nil || s.timezone == "Local" {
		return nil, errAt(path+".timezone", "%q is not an IANA time zone such as Europe/Berlin", d.Timezone)
	}
	switch {
	case (d.Cron == "") == (d.Every == ""):
		return nil, errAt(path, `give one of cron ("0 9 * * MON-FRI") or every ("1h")`)
	case d.Cron != "":
		c := strings.TrimSpace(d.Cron)
		if len(c) > maxCron {
			return nil, errAt(path+".cron", "must be at most %d characters", maxCron)
		}
		if strings.HasPrefix(c, "TZ=") || strings.HasPrefix(c, "CRON_TZ=") {
			return nil, errAt(path+".cron", "give the time zone in timezone, not in the expression")
		}
		if strings.HasPrefix(c, "@every") {
			return nil, errAt(path+".cron", `use every: "1h" for a fixed interval`)
		}
		spec, err := cronParser.Parse(c)
		if err != nil {
			return nil, errAt(path+".cron", "%v (five fields: minute hour day-of-month month day-of-week)", err)
		}
		spec.(*cron.SpecSchedule).Location = loc
		s.spec, s.text = spec, c
		// Any start will do: a time it fires at comes within five years
		// of every start, or never.
		if spec.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
			return nil, errAt(path+".cron", "%q never fires", c)
		}
	default:
		every, err := time.ParseDuration(d.Every)
		if err != nil || every < minEvery || every > maxWait || every%time.Second != 0 {
			return nil, errAt(path+".every", "must be whole seconds from %s to %s, e.g. \"15m\"", minEvery, maxWait)
		}
		s.spec, s.text = cron.Every(every), "every "+every.String()
	}
	s.key = s.text + "|" + s.timezone
	switch s.missed {
	case "":
		s.missed = MissedRunOnce
	case MissedSkip, MissedRunOnce, MissedRunAll:
	default:
		return nil, errAt(path+".missed", `must be "skip", "run_once" or "run_all"`)
	}
	switch {
	case d.CatchUp != 0 && s.missed != MissedRunAll:
		return nil, errAt(path+".catch_up", `applies to missed: run_all only`)
	case d.CatchUp < 0 || d.CatchUp > MaxCatchUp:
		return nil, errAt(path+".catch_up", "must be 1 to %d", MaxCatchUp)
	case d.CatchUp == 0:
		s.catchUp = DefaultCatchUp
	}
	return s, nil
}

func compileSchedules(in []ScheduleDef) ([]*schedule, error) {
	if len(in) > maxSchedules {
		return nil, errAt("on.schedule", "at most %d schedules", maxSchedules)
	}
	var out []*schedule
	var errs []error
	seen := map[string]int{}
	for i, d := range in {
		path := fmt.Sprintf("on.schedule[%d]", i)
		s, err := compileSchedule(path, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if j, dup := seen[s.key]; dup {
			errs = append(errs, errAt(path, "is the same schedule as on.schedule[%d]", j))
			continue
		}
		seen[s.key] = i
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}

// due says which scheduled times a row due at from starts runs for at
// now (oldest first), by the missed policy, and when the row is due next.
// next is zero when the schedule has no time after now.
func (s *schedule) due(from, now time.Time) (fire []time.Time, next time.Time) {
	keep := 1
	if s.missed == MissedRunAll {
		keep = s.catchUp
	}
	t := from
	for n := 0; !t.IsZero() && !t.After(now); n++ {
		if n == maxWalk {
			// Too many to look at: only the last day's count.
			fire, n = fire[:0], 0
			t = s.spec.Next(now.Add(-24 * time.Hour))
			continue
		}
		if len(fire) == keep {
			fire = append(fire[:0], fire[1:]...)
		}
		fire = append(fire, t)
		t = s.spec.Next(t)
	}
	if s.missed == MissedSkip && len(fire) > 0 && now.Sub(fire[len(fire)-1]) > MissedAfter {
		fire = nil
	}
	return fire, t
}

// first is the first scheduled time after now.
func (s *schedule) first(now time.Time) time.Time { return s.spec.Next(now) }

// ScheduleInfo describes a workflow's schedule for people: what it says
// and when it is due next.
type ScheduleInfo struct {
	Schedule string
	Timezone string
	Missed   string
	NextAt   time.Time
}

// PlanSchedules makes a tenant's schedule rows match its workflows: a row
// for each schedule of each enabled workflow (a new one due at its first
// time after now; one planned before keeps its time), none for the
// others. Call it after a tenant's workflows change.
func (r *Runner) PlanSchedules(ctx context.Context, tenantID string) error {
	list, err := r.cfg.Store.ListWorkflows(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("plan schedules: %w", err)
	}
	have, err := r.cfg.Store.ListSchedules(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("plan schedules: %w", err)
	}
	now := r.cfg.Clock.Now()
	want := map[string]bool{}
	for _, sw := range list {
		if !sw.Enabled {
			continue
		}
		w, err := r.compile(sw)
		if err != nil {
			continue
		}
		for _, s := range w.schedules {
			want[sw.Name+"\x00"+s.key] = true
			sc := store.Schedule{TenantID: tenantID, Workflow: sw.Name, Key: s.key, NextAt: s.first(now)}
			if err := r.cfg.Store.PlanSchedule(ctx, sc); err != nil {
				return fmt.Errorf("plan schedules: %w", err)
			}
		}
	}
	for _, sc := range have {
		if !want[sc.Workflow+"\x00"+sc.Key] {
			if err := r.cfg.Store.DeleteSchedule(ctx, tenantID, sc.Workflow, sc.Key); err != nil {
				return fmt.Errorf("plan schedules: %w", err)
			}
		}
	}
	return nil
}

// Schedules describes a workflow's schedules with their next times, in
// the order declared (a schedule not planned yet has no NextAt).
func (r *Runner) Schedules(ctx context.Context, sw store.Workflow) ([]ScheduleInfo, error) {
	w, err := r.compile(sw)
	if err != nil || len(w.schedules) == 0 {
		// One that no longer compiles runs on no schedule.
		return nil, nil
	}
	rows, err := r.cfg.Store.ListSchedules(ctx, sw.TenantID)
	if err != nil {
		return nil, err
	}
	next := map[string]time.Time{}
	for _, sc := range rows {
		if sc.Workflow == sw.Name {
			next[sc.Key] = sc.NextAt
		}
	}
	out := make([]ScheduleInfo, len(w.schedules))
	for i, s := range w.schedules {
		out[i] = ScheduleInfo{Schedule: s.text, Timezone: s.timezone, Missed: s.missed}
		if sw.Enabled {
			out[i].NextAt = next[s.key]
		}
	}
	return out, nil
}

// SchedulerConfig wires a Scheduler.
type SchedulerConfig struct {
	Runner *Runner
	// Publish commits the event of a scheduled run with a task for the
	// named workflow only (engine.PublishTo): idempotently, by the
	// event's key.
	Publish func(ctx context.Context, ev event.Event, workflow string) error
	// Interval is how often due schedules are looked for; default
	// DefaultScheduleInterval.
	Interval time.Duration
}

// DefaultScheduleInterval is how often a node looks for due schedules.
const DefaultScheduleInterval = time.Second

// dueBatch bounds the schedules fired in one look.
const dueBatch = 100

// Scheduler starts the runs of scheduled workflows. Every node runs one;
// each scheduled time starts one run however many nodes see it due: the
// run's event carries an idempotency key of the workflow, schedule and
// time, and the schedule's row moves on by a conditional update.
type Scheduler struct {
	cfg  SchedulerConfig
	r    *Runner
	stop context.CancelFunc
	done chan struct{}
}

// NewScheduler returns a Scheduler; Start runs it.
func NewScheduler(cfg SchedulerConfig) *Scheduler {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultScheduleInterval
	}
	return &Scheduler{cfg: cfg, r: cfg.Runner}
}

// Start looks for due schedules every Interval until Stop.
func (s *Scheduler) Start(ctx context.Context) {
	ctx, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		tick := time.NewTicker(s.cfg.Interval)
		defer tick.Stop()
		for {
			s.Tick(ctx)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

// Stop stops the scheduler and waits for a look in progress.
func (s *Scheduler) Stop() {
	if s.stop != nil {
		s.stop()
		<-s.done
	}
}

// Tick fires every schedule due now.
func (s *Scheduler) Tick(ctx context.Context) {
	due, err := s.r.cfg.Store.DueSchedules(ctx, s.r.cfg.Clock.Now(), dueBatch)
	if err != nil {
		if ctx.Err() == nil {
			s.r.cfg.Logger.ErrorContext(ctx, "due schedules", "error", err)
		}
		return
	}
	for _, sc := range due {
		if err := s.fire(ctx, sc); err != nil && ctx.Err() == nil {
			s.r.cfg.Logger.ErrorContext(ctx, "scheduled run not started; trying again", "workflow", sc.Workflow,
				"schedule", sc.Key, "error", err)
		}
	}
}

// fire starts the runs a due schedule owes, then moves its row on. The
// events go first: a node that stops between the two finds the row due
// again and publishes the same events, which their keys make harmless.
func (s *Scheduler) fire(ctx context.Context, sc store.Schedule) error {
	st := s.r.cfg.Store
	sw, err := st.GetWorkflow(ctx, sc.TenantID, sc.Workflow, 0)
	var w *Workflow
	if err == nil && sw.Enabled {
		w, err = s.r.compile(sw)
	}
	var sched *schedule
	if w != nil {
		for _, x := range w.schedules {
			if x.key == sc.Key {
				sched = x
			}
		}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if sched == nil {
		// Deleted, disabled, or no longer scheduled so.
		return st.DeleteSchedule(ctx, sc.TenantID, sc.Workflow, sc.Key)
	}
	now := s.r.cfg.Clock.Now()
	times, next := sched.due(sc.NextAt, now)
	if next.IsZero() {
		return st.DeleteSchedule(ctx, sc.TenantID, sc.Workflow, sc.Key)
	}
	for _, at := range times {
		if err := s.cfg.Publish(ctx, s.scheduledEvent(sc, sched, at, now), sc.Workflow); err != nil {
			return err
		}
	}
	if late := len(times) == 0 || now.Sub(times[0]) > MissedAfter; late {
		s.r.cfg.Logger.InfoContext(ctx, "scheduled times missed", "workflow", sc.Workflow, "schedule", sched.text,
			"since", sc.NextAt, "policy", sched.missed, "runs", len(times))
	}
	_, err = st.AdvanceSchedule(ctx, sc, next)
	return err
}

func (s *Scheduler) scheduledEvent(sc store.Schedule, sched *schedule, at, now time.Time) event.Event {
	h := fnv.New32a()
	h.Write([]byte(sc.Key))
	data, _ := json.Marshal(map[string]string{
		"workflow": sc.Workflow, "scheduled_at": at.UTC().Format(time.RFC3339), "schedule": sched.text, "timezone": sched.timezone,
	})
	return event.Event{
		ID: event.NewID(event.PrefixEvent, now), TenantID: sc.TenantID, Type: ScheduledType, Source: "schedule",
		Data: data, OccurredAt: at, CreatedAt: now,
		IdempotencyKey: fmt.Sprintf("schedule:%s:%08x:%d", sc.Workflow, h.Sum32(), at.Unix()),
	}
}
