package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// Parallel, foreach and call steps run their work as child runs: runs of
// their own (store.Run.ParentID), created by the save that starts the
// step, so their tasks run at the same time as each other (the engine
// runs one task of a run at a time, not of several). A child run that
// ends writes, with its last save, a task for its parent whose id is the
// child's (dlv_X for run_X); the parent's tasks run one at a time and
// each save is guarded by the run's revision, so the parent takes in its
// children one by one, in whatever order they end, and a crash at any
// point repeats a task whose outcome is the same.

// CallType is the type of the event a called workflow's run sees: its
// data is the call step's input.
const CallType = "workflow.call"

// Bounds of what crosses between runs.
const (
	// maxChildOutput bounds the output of one child run its parent keeps
	// (a branch's, an iteration's, a called run's).
	maxChildOutput = 16 << 10
	// maxInherited bounds each earlier step's output that a branch or an
	// iteration sees.
	maxInherited = 64 << 10
	// maxItemsBytes bounds a foreach step's items, as JSON.
	maxItemsBytes = 1 << 20
)

// ended reports whether a run status is final.
func ended(status string) bool {
	return status == store.RunSucceeded || status == store.RunFailed || status == store.RunCancelled
}

// notifyID is the id of the task a child run writes for its parent when
// it ends, and childID the child such a task is about.
func notifyID(runID string) string {
	return event.PrefixDelivery + "_" + strings.TrimPrefix(runID, "run_")
}
func childID(taskID string) string {
	return "run_" + strings.TrimPrefix(taskID, event.PrefixDelivery+"_")
}

// notifyTask is the task telling run's parent that run ended.
func (r *Runner) notifyTask(run *store.Run, typ string, now time.Time) store.Task {
	t := r.newTask(run, typ, now, now)
	t.ID, t.DestinationID = notifyID(run.ID), run.ParentID
	return t
}

// bound keeps v when its JSON is at most n bytes, else a note saying so.
func bound(v any, n int) any {
	b, err := json.Marshal(v)
	if err != nil || len(b) <= n {
		return v
	}
	return map[string]any{"truncated": true, "bytes": len(b), "note": fmt.Sprintf("output of %d bytes not kept: the limit is %d", len(b), n)}
}

// fanOut starts a parallel, foreach or call step's child runs.
func (p *progress) fanOut(ctx context.Context, s *step, vars map[string]any) result {
	f := &fan{Step: s.id, Since: p.now}
	switch s.kind {
	case KindParallel:
		for k := range s.lists {
			p.spawnIn(f, s, k, k, p.st.Iter)
		}
	case KindForeach:
		items, err := p.items(ctx, s, vars)
		if err != nil {
			return result{err: err}
		}
		if len(items) == 0 {
			return result{input: map[string]any{"items": 0}, output: map[string]any{"count": 0, "outputs": []any{}}}
		}
		// A copy: the array may be the run's own (vars, a step's output),
		// and started items are dropped from it.
		f.Items = slices.Clone(items)
		p.st.Fan = f
		p.startItems(s)
	case KindCall:
		if err := p.call(ctx, f, s, vars); err != nil {
			return result{input: map[string]any{"workflow": s.callee}, err: err}
		}
	}
	p.st.Fan = f
	return result{input: p.fanInput(s), fanned: true}
}

// fanInput is the step log's input of a fanned-out step.
func (p *progress) fanInput(s *step) map[string]any {
	f := p.st.Fan
	switch s.kind {
	case KindParallel:
		return map[string]any{"branches": len(s.lists), "join": s.join}
	case KindForeach:
		return map[string]any{"items": len(f.Items), "concurrency": s.concurrency}
	}
	in := map[string]any{"workflow": s.callee}
	if len(f.Children) > 0 {
		in["run_id"] = f.Children[0].ID
	}
	return in
}

// items evaluates a foreach step's items.
func (p *progress) items(ctx context.Context, s *step, vars map[string]any) ([]any, *stepError) {
	var items []any
	if s.coll != nil {
		if p.r.cfg.Records == nil {
			return nil, failure(errors.New("collections are not available"), false)
		}
		found, err := collection.Find(ctx, p.r.cfg.Records, p.run.TenantID, s.coll.name,
			collection.FindQuery{Prefix: s.coll.prefix, Filter: s.coll.filter, Limit: s.coll.limit + 1})
		var fe *collection.FilterError
		switch {
		case errors.As(err, &fe):
			return nil, failure(fmt.Errorf("collection %s: %w", s.coll.name, err), false)
		case err != nil:
			return nil, failure(fmt.Errorf("collection %s: %w", s.coll.name, err), true)
		case len(found.Records) > s.coll.limit && s.coll.limit == MaxItems:
			return nil, failure(fmt.Errorf("collection %s: more than %d records match; narrow it with prefix or filter", s.coll.name, MaxItems), false)
		}
		for i, rec := range found.Records {
			if i == s.coll.limit {
				break
			}
			var data any
			_ = json.Unmarshal(rec.Data, &data)
			items = append(items, map[string]any{"key": rec.Key, "data": data})
		}
	} else {
		v, err := s.items.Eval(vars)
		if err != nil {
			return nil, failure(fmt.Errorf("items: %w", err), false)
		}
		switch x := v.(type) {
		case nil:
		case []any:
			items = x
		default:
			return nil, failure(fmt.Errorf("items gave %T, not an array", v), false)
		}
		if len(items) > MaxItems {
			return nil, failure(fmt.Errorf("items: %d items, more than the limit of %d", len(items), MaxItems), false)
		}
	}
	if b, _ := json.Marshal(items); len(b) > maxItemsBytes {
		return nil, failure(fmt.Errorf("items: %d bytes of JSON, more than the limit of %d", len(b), maxItemsBytes), false)
	}
	return items, nil
}

// startItems starts a foreach step's next iterations, up to its
// concurrency.
func (p *progress) startItems(s *step) {
	f := p.st.Fan
	running := 0
	for _, c := range f.Children {
		if !ended(c.Status) {
			running++
		}
	}
	for ; running < s.concurrency && f.Started < len(f.Items); running++ {
		k := f.Started
		f.Started++
		p.spawnIn(f, s, 0, k, &iteration{Item: f.Items[k], Index: k})
		// The iteration keeps its item: the parent's state, saved with
		// each item taken in, need not.
		f.Items[k] = nil
	}
}

// spawnIn starts list l of step s (a branch, or the body of a foreach)
// as child k of f: a child run of the same workflow version.
func (p *progress) spawnIn(f *fan, s *step, l, k int, iter *iteration) {
	list := s.lists[l]
	scope := s.id + "/" + strconv.Itoa(l)
	if p.st.Scope != "" {
		scope = p.st.Scope + "/" + scope
	}
	steps := make(map[string]stepResult, len(p.st.Steps))
	for id, r := range p.st.Steps {
		r.Output = bound(r.Output, maxInherited)
		steps[id] = r
	}
	st := state{Event: p.st.Event, Vars: maps.Clone(p.st.Vars), Steps: steps, Current: list.steps[0].id,
		Scope: scope, Iter: iter, Depth: p.st.Depth}
	p.spawn(f, k, p.run.Workflow, p.run.Version, st)
}

// spawn adds a child run in state st (its first step due now) to the
// save, and to f.
func (p *progress) spawn(f *fan, k int, workflow string, version int, st state) string {
	c := store.Run{ID: event.NewID("run", p.now), TenantID: p.run.TenantID, Workflow: workflow, Version: version,
		Status: store.RunRunning, EventID: p.run.EventID, ParentID: p.run.ID, CreatedAt: p.now, UpdatedAt: p.now}
	st.Seq, st.Origin = 1, &origin{Step: f.Step, Seq: p.st.Seq, Index: k}
	next := p.r.newTask(&c, st.Event.Type, p.now, p.now)
	st.Next = next.ID
	// A state is maps and strings (and JSON values): it marshals.
	c.State, _ = json.Marshal(st)
	p.children = append(p.children, c)
	p.tasks = append(p.tasks, next)
	p.st.Spawned++
	f.Children = append(f.Children, child{ID: c.ID, Index: k, Status: store.RunRunning})
	return c.ID
}

// call starts a call step's workflow as a child run.
func (p *progress) call(ctx context.Context, f *fan, s *step, vars map[string]any) *stepError {
	if p.st.Depth+1 > MaxCallDepth {
		return failure(fmt.Errorf("calls nest deeper than %d runs", MaxCallDepth), false)
	}
	w, sw, err := p.r.Load(ctx, p.run.TenantID, s.callee, 0)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return failure(fmt.Errorf("no workflow %q", s.callee), false)
	case err != nil:
		return failure(fmt.Errorf("workflow %s: %w", s.callee, err), true)
	case !sw.Enabled:
		return failure(fmt.Errorf("workflow %s is disabled", s.callee), false)
	}
	input, err := renderData(s.input, vars)
	if err != nil {
		return failure(fmt.Errorf("input: %w", err), false)
	}
	data, err := json.Marshal(input)
	if err != nil {
		return failure(fmt.Errorf("input: %w", err), false)
	}
	ev := eventSnap{ID: p.st.Event.ID, Type: CallType, Source: "workflow:" + p.run.Workflow, Data: data, OccurredAt: p.now}
	p.spawn(f, 0, w.Name, w.Version, state{Event: ev, Vars: map[string]any{}, Steps: map[string]stepResult{},
		Current: w.steps[0].id, Depth: p.st.Depth + 1})
	return nil
}

// Origin tells, for a run that a parallel, foreach or call step started,
// that step's entry in the parent's step log (seq) and the run's index
// among the step's children (a branch's, an item's, 0 for a call).
func Origin(run store.Run) (seq, index int, ok bool) {
	var st struct {
		Origin *origin `json:"origin"`
	}
	if run.ParentID == "" || json.Unmarshal(run.State, &st) != nil || st.Origin == nil {
		return 0, 0, false
	}
	return st.Origin.Seq, st.Origin.Index, true
}

// childOf returns the child run a task tells the run about, if it is
// one.
func (p *progress) childOf(ctx context.Context, t *store.Task) (store.Run, bool, error) {
	if p.st.Spawned == 0 {
		return store.Run{}, false, nil
	}
	c, err := p.r.cfg.Store.GetRun(ctx, p.run.TenantID, childID(t.ID))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return c, false, nil
	case err != nil:
		return c, false, err
	}
	return c, c.ParentID == p.run.ID, nil
}

// join takes in a child run that ended; it reports false when the run
// had already (or is not waiting for that child).
func (p *progress) join(ctx context.Context, c store.Run) (bool, error) {
	f := p.st.Fan
	if f == nil || !ended(c.Status) {
		return false, nil
	}
	k := -1
	for j := range f.Children {
		if f.Children[j].ID == c.ID && !ended(f.Children[j].Status) {
			k = j
		}
	}
	if k < 0 {
		return false, nil
	}
	s, i, ok := p.w.step(f.Step)
	if !ok {
		p.st.Fan, p.st.Next = nil, ""
		p.run.Status, p.run.Error = store.RunFailed, fmt.Sprintf("step %s no longer exists", f.Step)
		return true, nil
	}
	if err := p.takeIn(&f.Children[k], c, s); err != nil {
		return false, err
	}
	var failed *child
	running, succeeded := 0, 0
	for j := range f.Children {
		switch f.Children[j].Status {
		case store.RunSucceeded:
			succeeded++
		case store.RunFailed, store.RunCancelled:
			if failed == nil {
				failed = &f.Children[j]
			}
		default:
			running++
		}
	}
	switch {
	case s.kind == KindParallel && s.join == "any" && succeeded > 0:
		return true, p.fanDone(ctx, s, i)
	case s.kind == KindParallel && s.join == "any" && running == 0:
		return true, p.fanFailed(ctx, s, i, "every branch failed; "+p.describe(s, failed))
	case s.kind == KindParallel && s.join == "any":
	case failed != nil:
		return true, p.fanFailed(ctx, s, i, p.describe(s, failed))
	case s.kind == KindForeach && f.Started < len(f.Items):
		p.startItems(s)
	case running == 0:
		return true, p.fanDone(ctx, s, i)
	}
	return true, nil
}

// describe names a failed child and its error.
func (p *progress) describe(s *step, c *child) string {
	switch s.kind {
	case KindParallel:
		name := strconv.Itoa(c.Index)
		if n := s.names[c.Index]; n != "" {
			name = n
		}
		return fmt.Sprintf("branch %s (run %s) %s: %s", name, c.ID, c.Status, c.Error)
	case KindForeach:
		return fmt.Sprintf("item %d (run %s) %s: %s", c.Index, c.ID, c.Status, c.Error)
	}
	return fmt.Sprintf("workflow %s (run %s) %s: %s", s.callee, c.ID, c.Status, c.Error)
}

// takeIn records a child run's outcome; a branch's steps become the
// parent's, as if they had run in it.
func (p *progress) takeIn(c *child, run store.Run, s *step) error {
	var cst state
	if err := json.Unmarshal(run.State, &cst); err != nil {
		return fmt.Errorf("child run %s: state: %w", run.ID, err)
	}
	c.Status, c.Error = run.Status, run.Error
	var out any
	if r, ok := cst.Steps[cst.Last]; ok && cst.Last != "" {
		out = r.Output
	}
	switch s.kind {
	case KindParallel:
		list := s.lists[c.Index]
		for id, r := range cst.Steps {
			if list.owns(id) {
				p.st.Steps[id] = r
			}
		}
	case KindCall:
		out = map[string]any{"run_id": run.ID, "workflow": run.Workflow, "version": run.Version, "vars": cst.Vars, "output": out}
	}
	c.Output = bound(out, maxChildOutput)
	return nil
}

// owns reports whether a step of the list has id, or one of its
// parallel steps' branches does (a foreach body's are its own).
func (w *Workflow) owns(id string) bool {
	if _, ok := w.index[id]; ok {
		return true
	}
	for _, s := range w.steps {
		if s.kind != KindParallel {
			continue
		}
		for _, l := range s.lists {
			if l.owns(id) {
				return true
			}
		}
	}
	return false
}

// fanOutput is a fanned-out step's output once its children ended.
func (p *progress) fanOutput(s *step) any {
	f := p.st.Fan
	switch s.kind {
	case KindParallel:
		branches := make([]any, len(f.Children))
		for j, c := range f.Children {
			branches[j] = map[string]any{"name": s.names[c.Index], "run_id": c.ID, "status": c.Status, "output": c.Output, "error": c.Error}
		}
		return map[string]any{"join": s.join, "branches": branches}
	case KindForeach:
		outputs := make([]any, len(f.Children))
		for _, c := range f.Children {
			outputs[c.Index] = c.Output
		}
		return map[string]any{"count": len(f.Items), "outputs": outputs}
	}
	return f.Children[0].Output
}

// fanDone ends a fanned-out step that succeeded: the children still
// running (the losers of a join "any") are cancelled.
func (p *progress) fanDone(ctx context.Context, s *step, i int) error {
	if err := p.cancelChildren(ctx); err != nil {
		return err
	}
	out := p.fanOutput(s)
	p.st.Steps[s.id] = stepResult{Status: "succeeded", Output: out}
	p.log(s, "succeeded", 1, p.fanInput(s), out, "", p.st.Fan.Since)
	p.st.Fan, p.st.Last = nil, s.id
	p.goTo(p.w.after(i))
	return nil
}

// fanFailed ends a fanned-out step that failed: the children still
// running are cancelled and the step's on_error applies.
func (p *progress) fanFailed(ctx context.Context, s *step, i int, msg string) error {
	if err := p.cancelChildren(ctx); err != nil {
		return err
	}
	out := p.fanOutput(s)
	p.st.Steps[s.id] = stepResult{Status: "failed", Output: out, Error: msg}
	p.log(s, "failed", 1, p.fanInput(s), out, msg, p.st.Fan.Since)
	p.st.Fan = nil
	p.afterFailure(s, i, msg)
	return nil
}

// cancelChildren cancels the children of the step still running, before
// the save that moves the run on: a crash between the two repeats the
// join, which comes to the same end (those it cancelled stay cancelled).
func (p *progress) cancelChildren(ctx context.Context) error {
	for j := range p.st.Fan.Children {
		c := &p.st.Fan.Children[j]
		if ended(c.Status) {
			continue
		}
		if err := p.r.stop(ctx, p.run.TenantID, c.ID); err != nil {
			return fmt.Errorf("cancel child run %s: %w", c.ID, err)
		}
		c.Status, c.Error = store.RunCancelled, "cancelled"
	}
	return nil
}

// stop cancels a run unless it ended, whatever saves it meanwhile.
func (r *Runner) stop(ctx context.Context, tenantID, id string) error {
	for {
		_, err := r.Cancel(ctx, tenantID, id)
		switch {
		case err == nil, errors.Is(err, ErrFinished), errors.Is(err, store.ErrNotFound):
			return nil
		case !errors.Is(err, store.ErrConflict):
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}
