package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/clip"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/netguard"
	"github.com/hookline/hookline/internal/redact"
	"github.com/hookline/hookline/internal/route"
	"github.com/hookline/hookline/internal/store"
)

// maxResponse bounds the response body an http step keeps as output.
const maxResponse = 1 << 20

var _ engine.Executor = (*Runner)(nil)

// Execute runs one workflow task: it starts a run, runs the run's current
// step, ends a delay or a wait, or hands a waiting run the event it may be
// waiting for. The task itself fails only when the store does; a step's
// failure is the run's business (retries, on_error).
func (r *Runner) Execute(ctx context.Context, t *store.Task) engine.Outcome {
	if strings.HasPrefix(t.DestinationID, bufferPrefix) {
		return r.bufferEvent(ctx, t)
	}
	if strings.HasPrefix(t.DestinationID, cancelPrefix) {
		return r.cancelOnEvent(ctx, t)
	}
	if !isRun(t.DestinationID) {
		return r.start(ctx, t)
	}
	return r.continueRun(ctx, t)
}

// outcome is an attempt's outcome; detail is one of the types of
// attempt.go, or nil.
func outcome(name, url string, detail any) engine.Outcome {
	var out engine.Outcome
	out.Attempt.Kind, out.Attempt.Outcome, out.Attempt.RequestURL = store.AttemptWorkflow, name, url
	if detail != nil {
		// Structs of strings and ints: Marshal cannot fail.
		out.Attempt.Detail, _ = json.Marshal(detail)
	}
	return out
}

func internal(url string, err error) engine.Outcome {
	out := outcome("internal_error", url, nil)
	out.Err = err
	return out
}

func (r *Runner) start(ctx context.Context, t *store.Task) engine.Outcome {
	if isDebounce(t.DestinationID) {
		return r.debounced(ctx, t)
	}
	url := "workflow:" + t.DestinationID
	w, refused, ok := r.startFor(ctx, t, t.DestinationID, url)
	if !ok {
		return refused
	}
	if w.limits.debounce != nil {
		return r.debounce(ctx, w, t, url)
	}
	id := runID(t.ID)
	out := outcome("started", url, started{RunID: id, Version: w.Version})
	if _, _, err := r.begin(ctx, w, id, t.Event, &out); err != nil {
		return internal(url, err)
	}
	return out
}

// startFor loads the workflow name a start task is for; ok is false, with
// the task's outcome, when it starts nothing.
func (r *Runner) startFor(ctx context.Context, t *store.Task, name, url string) (w *Workflow, refused engine.Outcome, ok bool) {
	w, sw, err := r.Load(ctx, t.TenantID, name, 0)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, outcome("skipped", url, skipped{Reason: "workflow deleted"}), false
	case err != nil:
		return nil, internal(url, err), false
	case !sw.Enabled:
		return nil, outcome("skipped", url, skipped{Reason: "workflow disabled"}), false
	case t.Event == nil:
		return nil, internal(url, errors.New("task has no event loaded")), false
	}
	return w, engine.Outcome{}, true
}

// progress is a run being moved on by one task.
type progress struct {
	r     *Runner
	w     *Workflow
	run   store.Run
	rev   int
	st    state
	now   time.Time
	steps []store.RunStep
	tasks []store.Task
	emit  []event.Event
	// children are child runs the save creates.
	children []store.Run
	// waitWas is what the run waited for as loaded (waitOf).
	waitWas route.Wait
	// result, when set, is the attempt's result the save writes; save
	// clears it when it did not write it.
	result *store.TaskResult
}

func (r *Runner) continueRun(ctx context.Context, t *store.Task) engine.Outcome {
	url := "workflow:" + t.DestinationID
	run, err := r.cfg.Store.GetRun(ctx, t.TenantID, t.DestinationID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return outcome("skipped", url, skipped{Reason: "run not found"})
	case err != nil:
		return internal(url, err)
	}
	url = "workflow:" + run.Workflow + "/" + run.ID
	switch run.Status {
	case store.RunSucceeded, store.RunFailed, store.RunCancelled:
		return outcome("skipped", url, skipped{Reason: "run " + run.Status})
	}
	p := &progress{r: r, run: run, rev: run.Rev, now: r.cfg.Clock.Now(), waitWas: waitOf(run)}
	if err := json.Unmarshal(run.State, &p.st); err != nil {
		return internal(url, fmt.Errorf("run state: %w", err))
	}
	if p.st.Vars == nil {
		p.st.Vars = map[string]any{}
	}
	if p.st.Steps == nil {
		p.st.Steps = map[string]stepResult{}
	}
	var sw store.Workflow
	p.w, sw, err = r.Load(ctx, run.TenantID, run.Workflow, run.Version)
	if err == nil && sw.CreatedAt.After(run.CreatedAt) {
		// The run's version was deleted and a new workflow of the same
		// name made its own version with that number.
		err = store.ErrNotFound
	}
	if err == nil {
		var ok bool
		if p.w, ok = p.w.scope(p.st.Scope); !ok {
			// Only a version deleted and made again can lose a scope.
			err = store.ErrNotFound
		}
	}
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			return internal(url, err)
		}
		// The workflow was deleted under the run: the run ends.
		p.st.Next, p.st.Wait = "", nil
		p.run.Status, p.run.Error, p.run.WaitEvent = store.RunFailed, fmt.Sprintf("workflow %s v%d was deleted", run.Workflow, run.Version), ""
		if err := p.save(ctx); err != nil && !errors.Is(err, store.ErrConflict) {
			return internal(url, err)
		}
		return outcome("skipped", url, skipped{Reason: p.run.Error})
	}
	if p.run.Status == store.RunQueued {
		if t.ID != p.st.Next {
			return outcome("skipped", url, skipped{Reason: "stale task: the run moved on"})
		}
		return r.admit(ctx, p, url)
	}
	var name string
	if t.ID != p.st.Next || p.st.Next == "" {
		c, isChild, err := p.childOf(ctx, t)
		if err != nil {
			return internal(url, err)
		}
		switch {
		case isChild:
			joined, err := p.join(ctx, c)
			if err != nil {
				return internal(url, err)
			}
			if !joined {
				return outcome("skipped", url, skipped{Reason: "child run " + c.ID + " already taken in"})
			}
			name = "joined"
		case p.st.Wait != nil && p.st.Wait.Kind == KindWaitFor:
			if t.Event == nil {
				// An offer of a kept event, leased when it was written.
				ev, err := r.cfg.Store.GetEvent(ctx, t.TenantID, t.EventID)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return internal(url, err)
				}
				if err == nil {
					t.Event = &ev
				}
			}
			matched, err := p.offer(t)
			if err != nil {
				return internal(url, err)
			}
			if !matched {
				return outcome("skipped", url, skipped{Reason: "event does not match the wait", EventID: t.EventID})
			}
			name = "resumed"
		default:
			return outcome("skipped", url, skipped{Reason: "stale task: the run moved on"})
		}
	} else if p.st.Wait != nil {
		p.wake()
		name = "woke"
	} else {
		name = p.runStep(ctx)
		for n := 0; n < maxChained && p.chainable(); n++ {
			p.dropNext()
			name = p.runStep(ctx)
		}
	}
	// The attempt's result is written with the save, one commit for both,
	// unless the save fails.
	done := outcome(name, url, progressed{RunID: run.ID, Status: p.run.Status, CurrentStep: p.st.Current})
	p.result = resultFor(ctx, done)
	err = p.save(ctx)
	if errors.Is(err, store.ErrConflict) {
		if name == "joined" {
			// The child's news must not be lost: the task runs again
			// and reads the run as it is now.
			return internal(url, err)
		}
		return outcome("skipped", url, skipped{Reason: "the run was changed meanwhile"})
	}
	if err != nil {
		return internal(url, err)
	}
	if !sameWait(waitOf(p.run), p.waitWas) {
		if err := p.offerBuffered(ctx); err != nil {
			r.cfg.Logger.ErrorContext(ctx, "wait_for: kept events not offered", "run_id", run.ID, "error", err)
		}
	}
	done.Recorded = p.result
	return done
}

// resultFor is the result of the attempt ctx belongs to, ended with out,
// for a save to write (store.RunSave.Result); nil outside an attempt.
func resultFor(ctx context.Context, out engine.Outcome) *store.TaskResult {
	r, ok := engine.ResultOf(ctx, out)
	if !ok {
		return nil
	}
	return &r
}

// saveRun saves sv and reports whether its Result was written with it.
// A result whose task is no longer the attempt's (store.ErrStale) is
// dropped and the run saved without it, as a save that carried none: the
// engine then writes the result, and sees it refused.
func (r *Runner) saveRun(ctx context.Context, sv store.RunSave) (recorded bool, err error) {
	err = r.cfg.Store.SaveRun(ctx, sv)
	if sv.Result == nil {
		return false, err
	}
	if errors.Is(err, store.ErrStale) {
		sv.Result = nil
		return false, r.cfg.Store.SaveRun(ctx, sv)
	}
	return err == nil, err
}

// maxChained bounds the steps that run in the task of the step before
// them. A spec's loops need a delay or wait_for (Compile), which end a
// chain; the bound holds whatever a stored spec holds.
const maxChained = 32

// chainable reports whether the run's next step, due now, only reads and
// writes the run (set, if, switch): it may run at once in this task,
// saved with the step before it, instead of in a task of its own. A crash
// before that save runs both again, as it would the step before alone.
func (p *progress) chainable() bool {
	if p.run.Status != store.RunRunning || p.st.Wait != nil || p.st.Next == "" || len(p.tasks) == 0 {
		return false
	}
	if next := p.tasks[len(p.tasks)-1]; next.ID != p.st.Next || next.NextAt.After(p.now) {
		return false
	}
	s, _, ok := p.w.step(p.st.Current)
	return ok && (s.kind == KindSet || s.kind == KindIf || s.kind == KindSwitch)
}

// dropNext takes back the task that was to run the next step, which runs
// now instead.
func (p *progress) dropNext() {
	p.tasks = p.tasks[:len(p.tasks)-1]
	p.st.Next = ""
}

// save commits the progress and hands its tasks to the engine.
func (p *progress) save(ctx context.Context) error {
	if len(p.emit) > 0 {
		// Events go out before the save that records them (their keys
		// make a repeat harmless); a run cancelled meanwhile emits none.
		cur, err := p.r.cfg.Store.GetRun(ctx, p.run.TenantID, p.run.ID)
		if err != nil {
			return err
		}
		if cur.Rev != p.rev {
			return store.ErrConflict
		}
		if err := p.r.cfg.Publish(ctx, p.emit); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
	}
	p.run.UpdatedAt = p.now
	settle(&p.run)
	b, err := json.Marshal(p.st)
	if err != nil {
		return err
	}
	p.run.State = b
	if p.run.ParentID != "" && ended(p.run.Status) {
		p.tasks = append(p.tasks, p.r.notifyTask(&p.run, p.st.Event.Type, p.now))
	}
	p.r.lease(p.tasks)
	recorded, err := p.r.saveRun(ctx, store.RunSave{Run: p.run, Rev: p.rev, Steps: p.steps, Tasks: p.tasks, Children: p.children,
		Result: p.result})
	if !recorded {
		p.result = nil
	}
	saved := p.run
	saved.Rev = p.rev + 1
	p.r.setWait(ctx, saved, p.waitWas, err)
	if err != nil {
		return err
	}
	if len(p.tasks) > 0 {
		p.r.cfg.Schedule(ctx, p.tasks)
	}
	if ended(p.run.Status) && p.w != nil {
		p.r.pokeQueued(ctx, p.w, p.run, p.st.Event)
	}
	if ended(p.run.Status) && p.st.Listens > 0 {
		p.r.endListens(ctx, saved, p.st.Listens)
	}
	return nil
}

// vars are the variables of expressions and templates.
func (p *progress) vars() map[string]any {
	steps := make(map[string]any, len(p.st.Steps))
	for id, s := range p.st.Steps {
		steps[id] = map[string]any{"status": s.Status, "output": s.Output, "error": s.Error}
	}
	vars := map[string]any{
		"event": p.st.Event.value(), "steps": steps, "vars": p.st.Vars, "env": p.r.envFor(p.run.TenantID),
		"run": map[string]any{"id": p.run.ID, "workflow": p.run.Workflow, "version": p.run.Version, "attempt": p.st.Attempt + 1,
			"parent_id": p.run.ParentID},
	}
	if it := p.st.Iter; it != nil {
		vars["item"], vars["index"] = it.Item, it.Index
	}
	return vars
}

// log records the current step's log entry.
func (p *progress) log(s *step, status string, attempts int, input, output any, errMsg string, started time.Time) {
	e := store.RunStep{
		RunID: p.run.ID, TenantID: p.run.TenantID, Seq: p.st.Seq, StepID: s.id, Kind: s.kind, Status: status,
		Attempts: attempts, Error: errMsg, StartedAt: started, Duration: p.r.cfg.Clock.Now().Sub(started),
	}
	e.Input, e.Output = logged(input), logged(output)
	p.steps = append(p.steps, e)
}

// Bounds of a step log entry's input and output, each.
const (
	maxLogged  = 64 << 10
	previewLen = 4 << 10
)

// logged is v as the step log keeps it: its JSON, or when that is longer
// than maxLogged a note saying so with the first previewLen bytes. The
// step's output as later steps see it is not cut.
func logged(v any) []byte {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	if len(b) <= maxLogged {
		return b
	}
	note, _ := json.Marshal(cut{Truncated: true, Bytes: len(b), Preview: clip.To(string(b), previewLen)})
	return note
}

// Sleeps reports whether a step kind waits (delay, wait_for, approval): its log
// entry lasts as long as the wait did.
func Sleeps(kind string) bool {
	return kind == KindDelay || kind == KindWaitFor || kind == KindApproval
}

// goTo moves the run to step id (End finishes it) with a task due now.
func (p *progress) goTo(id string) {
	p.st.Attempt, p.st.Wait = 0, nil
	p.run.WaitEvent = ""
	if id == End {
		p.st.Current, p.st.Next = "", ""
		p.run.Status, p.run.Error = store.RunSucceeded, ""
		return
	}
	p.st.Current = id
	p.st.Seq++
	p.continueAt(p.now)
	p.run.Status = store.RunRunning
}

// continueAt schedules the task that continues the run at when.
func (p *progress) continueAt(when time.Time) {
	t := p.r.newTask(&p.run, p.st.Event.Type, p.now, when)
	p.st.Next = t.ID
	p.tasks = append(p.tasks, t)
}

// fail ends the run at step s and announces it.
func (p *progress) fail(s *step, msg string) {
	p.st.Failed, p.st.Current, p.st.Next, p.st.Wait, p.st.Fan = s.id, "", "", nil, nil
	p.run.Status, p.run.Error, p.run.WaitEvent = store.RunFailed, fmt.Sprintf("step %s: %s", s.id, msg), ""
	if p.run.ParentID != "" {
		// A child run's failure is its parent step's: the parent's
		// on_error may handle it, and the parent announces its own.
		return
	}
	errorWorkflow := p.w.errorWorkflow
	if p.st.Event.Type == FailedType {
		// A failing error workflow does not start another: two error
		// workflows naming each other would start each other forever.
		errorWorkflow = ""
	}
	data, _ := json.Marshal(map[string]any{
		"workflow": p.run.Workflow, "version": p.run.Version, "run_id": p.run.ID, "step": s.id, "error": msg,
		"event": p.st.Event.value(), "error_workflow": errorWorkflow,
	})
	p.emit = append(p.emit, event.Event{
		ID: event.NewID(event.PrefixEvent, p.now), TenantID: p.run.TenantID, Type: FailedType, Source: "workflow:" + p.run.Workflow,
		Data: data, OccurredAt: p.now, CreatedAt: p.now, IdempotencyKey: fmt.Sprintf("%s:failed:%d", p.run.ID, p.st.Seq),
	})
}

// wake ends a delay, or a wait_for whose timeout came.
func (p *progress) wake() {
	wt := p.st.Wait
	s, i, ok := p.w.step(wt.Step)
	if !ok {
		p.run.Status, p.run.Error = store.RunFailed, fmt.Sprintf("step %s no longer exists", wt.Step)
		return
	}
	if wt.Kind == KindDelay {
		p.st.Steps[s.id] = stepResult{Status: "succeeded"}
		p.st.Last = s.id
		p.log(s, "succeeded", 1, map[string]any{"until": wt.Until}, nil, "", wt.began(p.now))
		p.goTo(p.w.after(i))
		return
	}
	what, input := "no matching event", map[string]any{"event": s.waitEvent, "until": wt.Until}
	if wt.Kind == KindApproval {
		what, input = "no decision", map[string]any{"until": wt.Until}
	}
	p.st.Steps[s.id] = stepResult{Status: "timed_out", Error: what + " before " + wt.Until.Format(time.RFC3339)}
	if s.onTimeout != "" {
		p.log(s, "timed_out", 1, input, nil, "timed out", wt.began(p.now))
		p.goTo(s.onTimeout)
		return
	}
	p.log(s, "failed", 1, input, nil, "timed out", wt.began(p.now))
	p.fail(s, s.kind+" timed out at "+wt.Until.Format(time.RFC3339))
}

// offer hands a waiting run an event; it resumes the run when the event
// matches the wait.
func (p *progress) offer(t *store.Task) (bool, error) {
	wt := p.st.Wait
	s, i, ok := p.w.step(wt.Step)
	if !ok || t.Event == nil || !event.Match(s.waitEvent, t.Event.Type) || slices.Contains(p.st.Taken, t.EventID) {
		return false, nil
	}
	if wt.Key != "" {
		if v, ok := route.NewEvent(t.Event).Key(wt.Key); !ok || v != wt.Value {
			return false, nil
		}
	}
	candidate := snapOf(t.Event).value()
	if s.match != nil {
		vars := p.vars()
		vars["trigger"], vars["event"] = vars["event"], candidate
		v, err := s.match.Eval(vars)
		if err != nil {
			p.r.cfg.Logger.Warn("wait_for match failed", "run_id", p.run.ID, "step", s.id, "event_id", t.EventID, "error", err)
			return false, nil
		}
		if b, _ := v.(bool); !b {
			return false, nil
		}
	}
	p.st.Steps[s.id] = stepResult{Status: "succeeded", Output: candidate}
	p.st.Taken = append(p.st.Taken, t.EventID)
	if len(p.st.Taken) > maxTaken {
		p.st.Taken = slices.Delete(p.st.Taken, 0, len(p.st.Taken)-maxTaken)
	}
	p.st.Last = s.id
	p.log(s, "succeeded", 1, map[string]any{"event": s.waitEvent}, candidate, "", wt.began(p.now))
	p.goTo(p.w.after(i))
	return true, nil
}

// stepError is a failed attempt of a step.
type stepError struct {
	err       error
	retryable bool
}

// runStep runs the current step and moves the run on: to the next step,
// a retry, a wait, the on_error path or failure. It returns the attempt's
// outcome name.
func (p *progress) runStep(ctx context.Context) string {
	s, i, ok := p.w.step(p.st.Current)
	if !ok {
		p.run.Status, p.run.Error, p.st.Next = store.RunFailed, fmt.Sprintf("step %q no longer exists", p.st.Current), ""
		return "step_failed"
	}
	started := p.r.cfg.Clock.Now()
	sctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res := p.exec(sctx, s, i)
	attempts := p.st.Attempt + 1
	switch {
	case res.wait != nil:
		p.st.Wait = res.wait
		p.run.Status = store.RunWaiting
		if s.kind == KindWaitFor {
			p.run.WaitEvent, p.run.WaitKey, p.run.WaitValue = s.waitEvent, res.wait.Key, res.wait.Value
		}
		p.continueAt(res.wait.Until)
		if res.output != nil {
			// What a waiting step shows while it waits (an approval's
			// links).
			p.st.Steps[s.id] = stepResult{Status: "waiting", Output: res.output}
		}
		p.log(s, "waiting", attempts, res.input, res.output, "", started)
		return "step_waiting"
	case res.fanned:
		// The step's children run; the last to end (or the first, for a
		// join "any") moves the run on.
		p.run.Status, p.st.Next = store.RunWaiting, ""
		p.log(s, "waiting", attempts, res.input, nil, "", started)
		return "step_waiting"
	case res.err == nil:
		p.st.Steps[s.id] = stepResult{Status: "succeeded", Output: res.output}
		p.st.Last = s.id
		p.log(s, "succeeded", attempts, res.input, res.output, "", started)
		p.goTo(p.w.orAfter(res.next, i))
		return "step_succeeded"
	}
	msg := res.err.err.Error()
	if res.err.retryable && attempts < s.retry.attempts {
		p.st.Attempt = attempts
		p.log(s, "retrying", attempts, res.input, res.output, msg, started)
		p.continueAt(p.now.Add(s.retry.delay.Delay(attempts, p.r.cfg.Rand)))
		return "step_retrying"
	}
	p.st.Steps[s.id] = stepResult{Status: "failed", Output: res.output, Error: msg}
	p.log(s, "failed", attempts, res.input, res.output, msg, started)
	p.afterFailure(s, i, msg)
	return "step_failed"
}

// afterFailure moves the run on from step s (at i), which failed, by
// its on_error.
func (p *progress) afterFailure(s *step, i int, msg string) {
	switch s.onError {
	case "", "fail":
		p.fail(s, msg)
	case "continue":
		p.goTo(p.w.after(i))
	default:
		p.goTo(s.onError)
	}
}

// result is what one attempt of a step did.
type result struct {
	input, output any
	next          string // a branch's choice
	wait          *wait
	err           *stepError
	// fanned: the step started child runs and waits for them.
	fanned bool
}

func failure(err error, retryable bool) *stepError {
	return &stepError{err: err, retryable: retryable}
}

func (p *progress) exec(ctx context.Context, s *step, i int) result {
	vars := p.vars()
	switch s.kind {
	case KindHTTP:
		return p.r.http(ctx, s, vars)
	case KindEmit:
		return p.emitStep(s, vars)
	case KindSet:
		set := make(map[string]any, len(s.set))
		for _, v := range s.set {
			val, err := v.prog.Eval(vars)
			if err != nil {
				return result{err: failure(fmt.Errorf("set %s: %w", v.name, err), false)}
			}
			set[v.name] = val
			p.st.Vars[v.name] = val
			vars["vars"] = p.st.Vars
		}
		return result{output: set}
	case KindIf:
		v, err := s.cond.Eval(vars)
		if err != nil {
			return result{err: failure(fmt.Errorf("condition: %w", err), false)}
		}
		b, ok := v.(bool)
		if !ok {
			return result{err: failure(fmt.Errorf("condition gave %T, not true or false", v), false)}
		}
		next := s.then
		if !b {
			next = p.w.orAfter(s.els, i)
		}
		return result{output: map[string]any{"result": b, "next": next}, next: next}
	case KindSwitch:
		v, err := s.value.Eval(vars)
		if err != nil {
			return result{err: failure(fmt.Errorf("value: %w", err), false)}
		}
		text, err := expr.Text(v)
		if err != nil {
			return result{err: failure(fmt.Errorf("value: %w", err), false)}
		}
		next, ok := s.cases[text]
		if !ok {
			next = p.w.orAfter(s.otherwise, i)
		}
		return result{output: map[string]any{"value": text, "next": next}, next: next}
	case KindDelay:
		until := p.now.Add(s.delay)
		if s.until != nil {
			text, err := s.until.Render(vars)
			if err != nil {
				return result{err: failure(fmt.Errorf("until: %w", err), false)}
			}
			if until, err = time.Parse(time.RFC3339Nano, strings.TrimSpace(text)); err != nil {
				return result{err: failure(fmt.Errorf("until: %q is not an RFC 3339 time", text), false)}
			}
		}
		if !until.After(p.now) {
			return result{input: map[string]any{"until": until}}
		}
		return result{input: map[string]any{"until": until}, wait: &wait{Step: s.id, Kind: KindDelay, Until: until, Since: p.now}}
	case KindWaitFor:
		until := p.now.Add(s.wait)
		input := map[string]any{"event": s.waitEvent, "until": until}
		wt := &wait{Step: s.id, Kind: KindWaitFor, Until: until, Since: p.now}
		if s.waitKey != "" {
			vars["trigger"] = vars["event"]
			v, err := s.equals(vars)
			if err != nil {
				return result{input: input, err: failure(fmt.Errorf("equals: %w", err), false)}
			}
			value, ok := route.KeyValue(v)
			if !ok {
				return result{input: input, err: failure(fmt.Errorf("equals gave %T: a key's value is a string, number or boolean", v), false)}
			}
			wt.Key, wt.Value = s.waitKey, value
			input["key"], input["value"] = s.waitKey, value
		}
		return result{input: input, wait: wt}
	case KindApproval:
		return p.approvalStep(s, vars)
	case KindSync:
		return p.syncStep(ctx, s, vars)
	case KindNotify:
		return p.notifyStep(ctx, s)
	case KindParallel, KindForeach, KindCall:
		return p.fanOut(ctx, s, vars)
	case KindFail:
		msg, err := s.message.Render(vars)
		if err != nil {
			msg = "fail step: " + err.Error()
		}
		return result{err: failure(errors.New(msg), false)}
	}
	return result{err: failure(fmt.Errorf("unknown step kind %q", s.kind), false)}
}

func (r *Runner) http(ctx context.Context, s *step, vars map[string]any) result {
	u, err := s.url.Render(vars)
	if err != nil {
		return result{err: failure(err, false)}
	}
	if err := netguard.CheckHTTPURL(u); err != nil {
		return result{err: failure(fmt.Errorf("url %q: %w", u, err), false)}
	}
	var body []byte
	if s.body != nil {
		text, err := s.body.Render(vars)
		if err != nil {
			return result{err: failure(err, false)}
		}
		body = []byte(text)
	}
	method := s.method
	if method == "" {
		method = http.MethodGet
		if body != nil {
			method = http.MethodPost
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return result{err: failure(err, false)}
	}
	headers := map[string]string{}
	for name, t := range s.headers {
		v, err := t.Render(vars)
		if err != nil {
			return result{err: failure(err, false)}
		}
		req.Header.Set(name, v)
		headers[name] = v
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		ct := "text/plain; charset=utf-8"
		if json.Valid(body) {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if r.cfg.UserAgent != "" && req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", r.cfg.UserAgent)
	}
	// The step's headers are the author's and may be credentials: the
	// step log keeps their names only.
	input := map[string]any{"method": method, "url": u, "headers": redact.Values(headers)}
	if body != nil {
		input["body"] = clip.To(string(body), 4096)
	}
	resp, err := r.cfg.Client.Do(req)
	if err != nil {
		return result{input: input, err: failure(fmt.Errorf("%s %s: %w", method, u, err), true)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return result{input: input, err: failure(fmt.Errorf("%s %s: read answer: %w", method, u, err), true)}
	}
	var parsed any = clip.To(string(raw), maxResponse)
	if len(raw) <= maxResponse {
		var doc any
		if json.Unmarshal(raw, &doc) == nil {
			parsed = doc
		}
	}
	rh := map[string]string{}
	for k := range resp.Header {
		rh[k] = resp.Header.Get(k)
	}
	rh = redact.Sent(rh, slices.Collect(maps.Keys(headers))...)
	output := map[string]any{"status": resp.StatusCode, "headers": rh, "body": parsed}
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	if len(s.expect) > 0 {
		ok = slices.Contains(s.expect, resp.StatusCode)
	}
	if !ok {
		retryable := resp.StatusCode == 408 || resp.StatusCode == 429 || resp.StatusCode >= 500
		if len(s.retry.statuses) > 0 {
			retryable = slices.Contains(s.retry.statuses, resp.StatusCode)
		}
		return result{input: input, output: output, err: failure(fmt.Errorf("%s %s answered %s", method, u, resp.Status), retryable)}
	}
	return result{input: input, output: output}
}

func (p *progress) emitStep(s *step, vars map[string]any) result {
	typ, err := s.emitType.Render(vars)
	if err != nil {
		return result{err: failure(err, false)}
	}
	if err := event.ValidateType(typ); err != nil {
		return result{err: failure(fmt.Errorf("type %q: %w", typ, err), false)}
	}
	data, err := renderData(s.emitData, vars)
	if err != nil {
		return result{err: failure(err, false)}
	}
	b, err := json.Marshal(data)
	if err != nil {
		return result{err: failure(fmt.Errorf("data: %w", err), false)}
	}
	id := event.NewID(event.PrefixEvent, p.now)
	p.emit = append(p.emit, event.Event{
		ID: id, TenantID: p.run.TenantID, Type: typ, Source: "workflow:" + p.run.Workflow, Data: b,
		OccurredAt: p.now, CreatedAt: p.now,
		// The same step of the same run emits once, however often it runs.
		IdempotencyKey: fmt.Sprintf("%s:%d:%s", p.run.ID, p.st.Seq, s.id),
	})
	return result{input: map[string]any{"type": typ, "data": json.RawMessage(b)}, output: map[string]any{"type": typ}}
}

func renderData(v any, vars map[string]any) (any, error) {
	switch x := v.(type) {
	case *expr.Program:
		return x.Eval(vars)
	case *expr.Template:
		return x.Render(vars)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := renderData(e, vars)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := renderData(e, vars)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func (p *progress) syncStep(ctx context.Context, s *step, vars map[string]any) result {
	cs := p.r.cfg.Collections
	if cs == nil {
		return result{err: failure(errors.New("collections are not available"), false)}
	}
	rec, err := s.record.Eval(vars)
	if err != nil {
		return result{err: failure(fmt.Errorf("record: %w", err), false)}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return result{err: failure(fmt.Errorf("record: %w", err), false)}
	}
	input := map[string]any{"collection": s.collection, "record": json.RawMessage(b)}
	spec, err := cs.Spec(ctx, p.run.TenantID, s.collection)
	if errors.Is(err, store.ErrNotFound) {
		return result{input: input, err: failure(fmt.Errorf("no collection %q", s.collection), false)}
	}
	if err != nil {
		return result{input: input, err: failure(err, true)}
	}
	rs, err := cs.ApplyRecords(ctx, p.run.TenantID, spec, []json.RawMessage{b})
	if err != nil {
		return result{input: input, err: failure(err, true)}
	}
	res := rs[0]
	if res.Err != nil {
		var ie *collection.InputError
		return result{input: input, err: failure(res.Err, !errors.As(res.Err, &ie))}
	}
	return result{input: input, output: map[string]any{"key": res.Key, "outcome": res.Outcome}}
}

// envFor is env as a tenant's runs see it.
func (r *Runner) envFor(tenantID string) map[string]any {
	if tenantID == r.cfg.EnvTenant {
		return r.env
	}
	return map[string]any{}
}

// notifyStep sends content by the step's rule about the run's event.
func (p *progress) notifyStep(ctx context.Context, s *step) result {
	if p.r.cfg.Notify == nil {
		return result{err: failure(errors.New("notify is not available"), false)}
	}
	ev := &event.Event{ID: p.st.Event.ID, TenantID: p.run.TenantID, Type: p.st.Event.Type, Source: p.st.Event.Source,
		Data: p.st.Event.Data, OccurredAt: p.st.Event.OccurredAt}
	id := fmt.Sprintf("msg_%s_%d", strings.TrimPrefix(p.run.ID, "run_"), p.st.Seq)
	ids, err := p.r.cfg.Notify(ctx, p.run.TenantID, *s.notify, ev, p.st.Vars, id)
	input := map[string]any{"template": s.notify.Template, "channels": s.notify.Channels}
	if err != nil {
		var perm interface{ Permanent() bool }
		retryable := !(errors.As(err, &perm) && perm.Permanent())
		return result{input: input, err: failure(err, retryable)}
	}
	return result{input: input, output: map[string]any{"messages": ids}}
}
