// Package workflow runs workflows: named, versioned lists of steps started
// by events. Every step is a task in the engine and the run's state is
// committed with the task that continues it, so a crash resumes at the
// step that was running; delays and waits are tasks due later and cost no
// goroutine.
package workflow

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/backoff"
	"github.com/hookline/hookline/internal/collection"
	"github.com/hookline/hookline/internal/content"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/expr"
	"github.com/hookline/hookline/internal/netguard"
	"github.com/hookline/hookline/internal/route"
)

// Limits of a workflow.
const (
	MaxSteps       = 200
	maxSetVars     = 100
	maxCases       = 100
	defaultTimeout = 30 * time.Second
	// maxStepTimeout stays under the engine's attempt timeout (5m).
	maxStepTimeout = 4 * time.Minute
	defaultWait    = 24 * time.Hour
	maxWait        = 365 * 24 * time.Hour
	// DefaultBuffer and MaxBuffer are how long a keyed wait_for's events
	// are kept for a run that waits later: by default, and at most.
	DefaultBuffer    = 10 * time.Minute
	MaxBuffer        = 7 * 24 * time.Hour
	maxRetryAttempts = 100
	// MaxBranches bounds a parallel step's branches.
	MaxBranches = 16
	// MaxItems bounds the items of a foreach step; more fail the step.
	MaxItems = 1000
	// MaxConcurrency bounds a foreach step's concurrency.
	MaxConcurrency = 50
	// MaxNesting bounds how deep parallel and foreach steps nest: one in
	// the workflow's steps is at level 1, one in its branch or body at
	// level 2, and so on.
	MaxNesting = 3
	// MaxCallDepth bounds a chain of call steps: a run started by a call
	// started by a call… at most this deep.
	MaxCallDepth = 8
	// End is the Next (or branch target) that finishes a run.
	End = "end"
)

var (
	// Name is the pattern of workflow names.
	Name   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	stepID = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)
)

// Error is a mistake at a path of a spec, such as "steps[2].http.url".
type Error struct {
	Path string
	Err  error
}

func (e *Error) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func errAt(path, format string, args ...any) error {
	return &Error{Path: path, Err: fmt.Errorf(format, args...)}
}

// Variables expressions and templates see.
var (
	stepVars = []string{"event", "steps", "vars", "run", "env"}
	// itemVars are what a foreach body's steps see besides stepVars: an
	// item may be any JSON value, not only an object.
	itemVars = []string{expr.Untyped("item"), expr.Untyped("index")}
)

// matchVars are what a wait_for's match sees: a step's vars and trigger
// (the run's event; event is the one offered).
func matchVars(vars []string) []string { return append(slices.Clone(vars), "trigger") }

// Options are the checks Compile takes from outside the workflow package.
type Options struct {
	// CheckNotify validates a notify step's rule (content.CheckRule);
	// nil refuses notify steps.
	CheckNotify func(content.RuleDef) error
}

// Kinds of steps.
const (
	KindHTTP    = "http"
	KindEmit    = "emit"
	KindSet     = "set"
	KindIf      = "if"
	KindSwitch  = "switch"
	KindDelay   = "delay"
	KindWaitFor = "wait_for"
	// KindApproval waits for a person's decision.
	KindApproval = "approval"
	KindSync     = "sync"
	KindFail     = "fail"
	KindNotify   = "notify"
	// KindParallel, KindForeach and KindCall start child runs.
	KindParallel = "parallel"
	KindForeach  = "foreach"
	KindCall     = "call"
)

// Workflow is a compiled, validated workflow version: what runs run
// with, compiled from a Def.
type Workflow struct {
	Name string
	// Version is the stored version it was compiled from (0 before it is
	// stored).
	Version       int
	events        []string
	errorWorkflow string
	// cancels are the cancel_on entries, by index.
	cancels   []*cancelOn
	trigger   *expr.Filter
	schedules []*schedule
	manual    bool
	limits    limits
	steps     []*step
	index     map[string]int
}

type step struct {
	id      string
	kind    string
	path    string
	next    string
	onError string
	timeout time.Duration
	retry   retry
	// compiled parts, by kind
	method    string
	url       *expr.Template
	headers   map[string]*expr.Template
	body      *expr.Template
	expect    []int
	set       []setVar
	cond      *expr.Program
	then, els string
	value     *expr.Program
	cases     map[string]string
	otherwise string
	until     *expr.Template
	delay     time.Duration
	waitEvent string
	match     *expr.Program
	// waitKey, equals and buffer make a keyed wait_for: the event field
	// it correlates on, the value the field must have (evaluated when the
	// wait begins, over the match's variables), and how long events are
	// kept for it.
	waitKey    string
	equals     func(vars map[string]any) (any, error)
	buffer     time.Duration
	wait       time.Duration
	onTimeout  string
	collection string
	record     *expr.Program
	notify     *content.RuleDef
	message    *expr.Template
	emitData   any // with *expr.Template / *expr.Program leaves
	emitType   *expr.Template
	// lists are the step lists a parallel step's branches or a foreach
	// step's body run (one list); names are the branches' names.
	lists       []*Workflow
	names       []string
	join        string
	items       *expr.Program
	coll        *collQuery
	concurrency int
	callee      string
	input       any // as emitData
}

// collQuery is a foreach step's collection source.
type collQuery struct {
	name, prefix string
	filter       *collection.Filter
	limit        int
}

type setVar struct {
	name string
	prog *expr.Program
}

// defaultRetryDelay is a step's wait between attempts when its retry
// sets no initial or max.
var defaultRetryDelay = backoff.Exponential{Initial: time.Second, Max: time.Hour}

type retry struct {
	attempts int
	// delay is the wait after a failed attempt, before jitter; a fixed
	// backoff has Max equal to Initial.
	delay    backoff.Exponential
	statuses []int
}

// Compile checks a spec and compiles it, notify steps with
// opts.CheckNotify. Errors are *Error with the path of the mistake; several
// are joined.
func Compile(in Def, opts Options) (*Workflow, error) {
	w := &Workflow{Name: in.Name, events: in.On.Events, errorWorkflow: in.ErrorWorkflow, manual: in.On.Manual, index: map[string]int{}}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if !Name.MatchString(in.Name) {
		add(errAt("name", "must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit"))
	}
	if strings.HasPrefix(in.Name, "run_") {
		add(errAt("name", `must not start with "run_"`))
	}
	if len(in.On.Events) == 0 && len(in.On.Schedule) == 0 && !in.On.Manual {
		add(errAt("on.events", `is required: the event types that start a run, e.g. ["order.created"] (or give on.schedule, or on.manual: true)`))
	}
	if len(in.On.Events) == 0 && in.On.If != "" {
		add(errAt("on.if", "applies to events: give on.events"))
	}
	var err error
	w.schedules, err = compileSchedules(in.On.Schedule)
	add(err)
	w.limits, err = compileLimits(in)
	add(err)
	w.cancels, err = compileCancels(in.CancelOn)
	add(err)
	for i, p := range in.On.Events {
		if err := event.ValidatePattern(p); err != nil {
			add(&Error{Path: fmt.Sprintf("on.events[%d]", i), Err: err})
		}
	}
	if in.On.If != "" {
		f, err := expr.CompileFilter(in.On.If)
		if err != nil {
			add(&Error{Path: "on.if", Err: err})
		}
		w.trigger = f
	}
	if in.ErrorWorkflow != "" && !Name.MatchString(in.ErrorWorkflow) {
		add(errAt("error_workflow", "%q is not a workflow name", in.ErrorWorkflow))
	}
	if in.ErrorWorkflow == in.Name && in.Name != "" {
		add(errAt("error_workflow", "a workflow cannot be its own error workflow"))
	}
	c := &compiler{opts: opts, ids: map[string]string{}}
	c.list(w, "steps", in.Steps, 0, stepVars)
	errs = append(errs, c.errs...)
	if c.count > MaxSteps {
		add(errAt("steps", "at most %d steps in all, counting those of parallel branches and foreach bodies", MaxSteps))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return w, nil
}

// compiler compiles a workflow's step lists: the top one and those of
// its parallel and foreach steps, whose step ids are unique across all.
type compiler struct {
	opts  Options
	ids   map[string]string // step id → path
	count int
	errs  []error
}

// list compiles the steps defs at path into w, at nesting depth, with
// expressions seeing vars; then checks w's graph.
func (c *compiler) list(w *Workflow, path string, defs []StepDef, depth int, vars []string) {
	before := len(c.errs)
	add := func(err error) {
		if err != nil {
			c.errs = append(c.errs, err)
		}
	}
	switch {
	case len(defs) == 0:
		add(errAt(path, "at least one step is required"))
	case len(defs) > MaxSteps:
		add(errAt(path, "at most %d steps", MaxSteps))
	}
	c.count += len(defs)
	for i, st := range defs {
		at := fmt.Sprintf("%s[%d]", path, i)
		if !stepID.MatchString(st.ID) {
			add(errAt(at+".id", "%q is not a step id: letters, digits and _, starting with a letter or _", st.ID))
			continue
		}
		if st.ID == End {
			add(errAt(at+".id", "%q is reserved: it ends the run", End))
			continue
		}
		if first, dup := c.ids[st.ID]; dup {
			add(errAt(at+".id", "step id %q is already used by %s", st.ID, first))
			continue
		}
		c.ids[st.ID] = at
		w.index[st.ID] = i
		s, err := c.step(at, st, depth, vars)
		if err != nil {
			add(err)
			continue
		}
		w.steps = append(w.steps, s)
	}
	if len(c.errs) == before {
		add(w.checkGraph())
	}
}

func (c *compiler) step(path string, st StepDef, depth int, vars []string) (*step, error) {
	opts := c.opts
	s := &step{id: st.ID, path: path, next: st.Next, onError: st.OnError, timeout: defaultTimeout, headers: map[string]*expr.Template{}}
	var kinds []string
	for _, k := range []struct {
		name string
		set  bool
	}{
		{KindHTTP, st.HTTP != nil}, {KindEmit, st.Emit != nil}, {KindSet, st.Set != nil}, {KindIf, st.If != nil},
		{KindSwitch, st.Switch != nil}, {KindDelay, st.Delay != nil}, {KindWaitFor, st.WaitFor != nil},
		{KindApproval, st.Approval != nil},
		{KindSync, st.Sync != nil}, {KindFail, st.Fail != nil}, {KindNotify, st.Notify != nil},
		{KindParallel, st.Parallel != nil}, {KindForeach, st.Foreach != nil}, {KindCall, st.Call != nil},
	} {
		if k.set {
			kinds = append(kinds, k.name)
		}
	}
	switch len(kinds) {
	case 0:
		return nil, errAt(path, "step %q has no kind: give one of http, emit, set, if, switch, delay, wait_for, approval, sync, notify, fail, parallel, foreach, call", st.ID)
	case 1:
		s.kind = kinds[0]
	default:
		return nil, errAt(path, "step %q has %d kinds (%s); give exactly one", st.ID, len(kinds), strings.Join(kinds, ", "))
	}
	tmpl := func(field, src string) (*expr.Template, error) {
		t, err := expr.CompileTemplate(src, vars...)
		if err != nil {
			return nil, &Error{Path: path + "." + field, Err: err}
		}
		return t, nil
	}
	prog := func(field, src string, vars []string) (*expr.Program, error) {
		return compileProg(path+"."+field, src, vars)
	}
	var err error
	if st.Timeout != "" {
		if s.timeout, err = time.ParseDuration(st.Timeout); err != nil || s.timeout <= 0 || s.timeout > maxStepTimeout {
			return nil, errAt(path+".timeout", "must be a duration up to %s, e.g. \"30s\"", maxStepTimeout)
		}
	}
	if st.Retry != nil {
		if s.kind != KindHTTP && s.kind != KindSync && s.kind != KindEmit && s.kind != KindNotify {
			return nil, errAt(path+".retry", "applies to http, emit, sync and notify steps only")
		}
		if s.retry, err = compileRetry(path+".retry", st.Retry); err != nil {
			return nil, err
		}
	} else {
		s.retry = retry{attempts: 1, delay: defaultRetryDelay}
	}
	switch s.kind {
	case KindHTTP:
		h := st.HTTP
		if h.URL == "" {
			return nil, errAt(path+".http.url", "is required")
		}
		if s.url, err = tmpl("http.url", h.URL); err != nil {
			return nil, err
		}
		if s.url.Static() {
			if err := netguard.CheckHTTPURL(h.URL); err != nil {
				return nil, &Error{Path: path + ".http.url", Err: err}
			}
		}
		switch s.method = strings.ToUpper(h.Method); s.method {
		case "", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
		default:
			return nil, errAt(path+".http.method", "%q is not an HTTP method", h.Method)
		}
		for name, v := range h.Headers {
			if s.headers[name], err = tmpl("http.headers."+name, v); err != nil {
				return nil, err
			}
		}
		if h.Body != "" {
			if s.body, err = tmpl("http.body", h.Body); err != nil {
				return nil, err
			}
		}
		for i, code := range h.Expect {
			if code < 100 || code > 599 {
				return nil, errAt(fmt.Sprintf("%s.http.expect[%d]", path, i), "%d is not an HTTP status", code)
			}
		}
		s.expect = h.Expect
	case KindEmit:
		if st.Emit.Type == "" {
			return nil, errAt(path+".emit.type", "is required")
		}
		if s.emitType, err = tmpl("emit.type", st.Emit.Type); err != nil {
			return nil, err
		}
		if s.emitType.Static() {
			if err := event.ValidateType(st.Emit.Type); err != nil {
				return nil, &Error{Path: path + ".emit.type", Err: err}
			}
		}
		if s.emitData, err = compileData(path+".emit.data", st.Emit.Data, vars); err != nil {
			return nil, err
		}
	case KindSet:
		if len(st.Set) == 0 || len(st.Set) > maxSetVars {
			return nil, errAt(path+".set", "must set 1 to %d variables", maxSetVars)
		}
		names := make([]string, 0, len(st.Set))
		for n := range st.Set {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if !stepID.MatchString(n) {
				return nil, errAt(path+".set."+n, "%q is not a variable name", n)
			}
			p, err := prog("set."+n, st.Set[n], vars)
			if err != nil {
				return nil, err
			}
			s.set = append(s.set, setVar{name: n, prog: p})
		}
	case KindIf:
		if st.If.Condition == "" || st.If.Then == "" {
			return nil, errAt(path+".if", "needs condition and then")
		}
		if s.cond, err = prog("if.condition", st.If.Condition, vars); err != nil {
			return nil, err
		}
		s.then, s.els = st.If.Then, st.If.Else
	case KindSwitch:
		if st.Switch.Value == "" || len(st.Switch.Cases) == 0 || len(st.Switch.Cases) > maxCases {
			return nil, errAt(path+".switch", "needs value and 1 to %d cases", maxCases)
		}
		if s.value, err = prog("switch.value", st.Switch.Value, vars); err != nil {
			return nil, err
		}
		s.cases, s.otherwise = st.Switch.Cases, st.Switch.Default
	case KindDelay:
		d := st.Delay
		switch {
		case (d.For == "") == (d.Until == ""):
			return nil, errAt(path+".delay", `give one of for (a duration, "10m") or until (a time)`)
		case d.For != "":
			if s.delay, err = time.ParseDuration(d.For); err != nil || s.delay < 0 || s.delay > maxWait {
				return nil, errAt(path+".delay.for", "must be a duration up to %s", maxWait)
			}
		default:
			if s.until, err = tmpl("delay.until", d.Until); err != nil {
				return nil, err
			}
		}
	case KindWaitFor:
		wf := st.WaitFor
		if err := event.ValidatePattern(wf.Event); err != nil {
			return nil, &Error{Path: path + ".wait_for.event", Err: err}
		}
		s.waitEvent, s.onTimeout = wf.Event, wf.OnTimeout
		if wf.Match != "" {
			if s.match, err = prog("wait_for.match", wf.Match, matchVars(vars)); err != nil {
				return nil, err
			}
		}
		if err := s.compileKey(path, wf, matchVars(vars)); err != nil {
			return nil, err
		}
		if s.wait, err = waitTimeout(path+".wait_for.timeout", wf.Timeout); err != nil {
			return nil, err
		}
	case KindApproval:
		a := st.Approval
		s.onTimeout = a.OnTimeout
		if a.Message != "" {
			if s.message, err = tmpl("approval.message", a.Message); err != nil {
				return nil, err
			}
		}
		if s.wait, err = waitTimeout(path+".approval.timeout", a.Timeout); err != nil {
			return nil, err
		}
	case KindSync:
		if st.Sync.Collection == "" {
			return nil, errAt(path+".sync.collection", "is required")
		}
		s.collection = st.Sync.Collection
		src := st.Sync.Record
		if src == "" {
			src = "event.data"
		}
		if s.record, err = prog("sync.record", src, vars); err != nil {
			return nil, err
		}
	case KindFail:
		if s.message, err = tmpl("fail.message", st.Fail.Message); err != nil {
			return nil, err
		}
	case KindNotify:
		if opts.CheckNotify == nil {
			return nil, errAt(path+".notify", "notify steps are not available")
		}
		if err := opts.CheckNotify(*st.Notify); err != nil {
			return nil, &Error{Path: path + ".notify", Err: err}
		}
		s.notify = st.Notify
	case KindParallel, KindForeach, KindCall:
		if err := c.fanStep(s, path, st, depth, vars); err != nil {
			return nil, err
		}
	}
	switch st.OnError {
	case "", "fail", "continue":
	default:
		if !stepID.MatchString(st.OnError) {
			return nil, errAt(path+".on_error", `must be "fail", "continue" or a step id`)
		}
	}
	return s, nil
}

func compileRetry(path string, r *RetryDef) (retry, error) {
	out := retry{attempts: r.Attempts, delay: defaultRetryDelay, statuses: r.Statuses}
	if r.Attempts < 1 || r.Attempts > maxRetryAttempts {
		return out, errAt(path+".attempts", "must be 1 to %d (attempts in all)", maxRetryAttempts)
	}
	var fixed bool
	switch r.Backoff {
	case "", "exponential":
	case "fixed":
		fixed = true
	default:
		return out, errAt(path+".backoff", `must be "exponential" or "fixed"`)
	}
	for _, d := range []struct {
		field, src string
		dst        *time.Duration
	}{{"initial", r.Initial, &out.delay.Initial}, {"max", r.Max, &out.delay.Max}} {
		if d.src == "" {
			continue
		}
		v, err := time.ParseDuration(d.src)
		if err != nil || v <= 0 || v > maxWait {
			return out, errAt(path+"."+d.field, "must be a positive duration, e.g. \"2s\"")
		}
		*d.dst = v
	}
	if fixed {
		out.delay.Max = out.delay.Initial
	}
	return out, nil
}

// compileData compiles the string leaves of an emit step's data.
func compileData(path string, v any, vars []string) (any, error) {
	switch x := v.(type) {
	case string:
		if code, ok := wholeExpr(x); ok {
			p, err := expr.Compile(code, vars...)
			if err != nil {
				return nil, &Error{Path: path, Err: err}
			}
			return p, nil
		}
		t, err := expr.CompileTemplate(x, vars...)
		if err != nil {
			return nil, &Error{Path: path, Err: err}
		}
		if t.Static() {
			return x, nil
		}
		return t, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := compileData(path+"."+k, e, vars)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := compileData(fmt.Sprintf("%s[%d]", path, i), e, vars)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	return v, nil
}

// wholeExpr reports whether s is exactly one {{ expression }}.
func wholeExpr(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{{") || !strings.HasSuffix(t, "}}") {
		return "", false
	}
	inner := t[2 : len(t)-2]
	if strings.Contains(inner, "{{") || strings.Contains(inner, "}}") {
		return "", false
	}
	return strings.TrimSpace(inner), true
}

// targets are the steps a step may go to next, with the field naming each.
func (w *Workflow) targets(i int) []edge {
	s := w.steps[i]
	var out []edge
	next := func() string {
		if s.next != "" {
			return s.next
		}
		if i+1 < len(w.steps) {
			return w.steps[i+1].id
		}
		return End
	}
	switch s.kind {
	case KindFail:
	case KindIf:
		out = append(out, edge{s.then, ".if.then"})
		if s.els != "" {
			out = append(out, edge{s.els, ".if.else"})
		} else {
			out = append(out, edge{next(), ".next"})
		}
	case KindSwitch:
		keys := make([]string, 0, len(s.cases))
		for k := range s.cases {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			out = append(out, edge{s.cases[k], ".switch.cases." + k})
		}
		if s.otherwise != "" {
			out = append(out, edge{s.otherwise, ".switch.default"})
		} else {
			out = append(out, edge{next(), ".next"})
		}
	default:
		out = append(out, edge{next(), ".next"})
	}
	switch s.onError {
	case "", "fail":
	case "continue":
		// A failure goes on to the next step, whatever the kind.
		if n := next(); !slices.ContainsFunc(out, func(e edge) bool { return e.to == n }) {
			out = append(out, edge{n, ".next"})
		}
	default:
		out = append(out, edge{s.onError, ".on_error"})
	}
	if (s.kind == KindWaitFor || s.kind == KindApproval) && s.onTimeout != "" {
		out = append(out, edge{s.onTimeout, "." + s.kind + ".on_timeout"})
	}
	return out
}

type edge struct {
	to, field string
}

// checkGraph rejects unknown targets, unreachable steps and cycles that
// never wait (a loop of steps with no delay or wait_for would spin).
func (w *Workflow) checkGraph() error {
	var errs []error
	adj := make([][]int, len(w.steps))
	for i, s := range w.steps {
		for _, e := range w.targets(i) {
			if e.to == End {
				continue
			}
			j, ok := w.index[e.to]
			if !ok {
				field := e.field
				if field == ".next" && s.next == "" {
					continue
				}
				errs = append(errs, errAt(s.path+field, "no step %q", e.to))
				continue
			}
			adj[i] = append(adj[i], j)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	seen := make([]bool, len(w.steps))
	stack := []int{0}
	seen[0] = true
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, j := range adj[i] {
			if !seen[j] {
				seen[j] = true
				stack = append(stack, j)
			}
		}
	}
	for i, ok := range seen {
		if !ok {
			errs = append(errs, errAt(w.steps[i].path, "step %q is unreachable: no step goes to it", w.steps[i].id))
		}
	}
	for _, scc := range components(adj) {
		if len(scc) == 1 && !slices.Contains(adj[scc[0]], scc[0]) {
			continue
		}
		waits := false
		for _, i := range scc {
			if st := w.steps[i]; st.kind == KindWaitFor || st.kind == KindApproval || (st.kind == KindDelay && (st.until != nil || st.delay > 0)) {
				waits = true
			}
		}
		if !waits {
			slices.Sort(scc)
			ids := make([]string, len(scc))
			for k, i := range scc {
				ids[k] = w.steps[i].id
			}
			errs = append(errs, errAt(w.steps[scc[0]].path, "steps %s form a loop without a delay or wait_for", strings.Join(ids, " → ")))
		}
	}
	return errors.Join(errs...)
}

// components returns the strongly connected components of a graph
// (Tarjan).
func components(adj [][]int) [][]int {
	n := len(adj)
	index := make([]int, n)
	low := make([]int, n)
	on := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var (
		stack []int
		out   [][]int
		next  int
		visit func(v int)
	)
	visit = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		on[v] = true
		for _, w := range adj[v] {
			if index[w] < 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if on[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var c []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				on[w] = false
				c = append(c, w)
				if w == v {
					break
				}
			}
			out = append(out, c)
		}
	}
	for v := range n {
		if index[v] < 0 {
			visit(v)
		}
	}
	return out
}

// Step returns a step by id.
func (w *Workflow) step(id string) (*step, int, bool) {
	i, ok := w.index[id]
	if !ok {
		return nil, 0, false
	}
	return w.steps[i], i, true
}

// after is the step that follows step i when it succeeds: its Next, the
// next in the list, or End.
func (w *Workflow) after(i int) string {
	if s := w.steps[i]; s.next != "" {
		return s.next
	}
	if i+1 < len(w.steps) {
		return w.steps[i+1].id
	}
	return End
}

// waitTimeout is the timeout of a wait_for or approval step at path:
// defaultWait when empty, else a positive duration up to maxWait.
func waitTimeout(path, raw string) (time.Duration, error) {
	if raw == "" {
		return defaultWait, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 || d > maxWait {
		return 0, errAt(path, "must be a duration up to %s", maxWait)
	}
	return d, nil
}

// orAfter is target, or the step after step i when target is empty.
func (w *Workflow) orAfter(target string, i int) string {
	if target != "" {
		return target
	}
	return w.after(i)
}

// Patterns returns the event type patterns that start runs.
func (w *Workflow) Patterns() []string { return w.events }

// Triggered reports whether e starts a run.
func (w *Workflow) Triggered(env expr.Env, typ string) (bool, error) {
	if !event.MatchAny(w.events, typ) {
		return false, nil
	}
	if w.trigger == nil {
		return true, nil
	}
	return w.trigger.Match(env)
}

// compileKey compiles a wait_for's correlation: a declared key and
// equals, or else one derived from a match of the form
// `event.data.x == other` (expr.Equality), and its buffer.
func (s *step) compileKey(path string, wf *WaitForDef, matchVars []string) error {
	var err error
	if s.waitKey, s.equals, err = correlation(path+".wait_for", wf.Key, wf.Equals, wf.Match, matchVars); err != nil {
		return err
	}
	if s.waitKey != "" {
		s.buffer = DefaultBuffer
	}
	if wf.Buffer != "" {
		if s.waitKey == "" {
			return errAt(path+".wait_for.buffer", "needs a key: give key and equals, or a match of the form event.data.order_id == vars.order_id")
		}
		d, err := time.ParseDuration(wf.Buffer)
		if err != nil || d < 0 || d > MaxBuffer {
			return errAt(path+".wait_for.buffer", "must be a duration up to %s (0s keeps nothing)", MaxBuffer)
		}
		s.buffer = d
	}
	return nil
}

// correlation compiles the correlation key of a wait_for or cancel_on
// entry at path: a declared key and equals, or else one derived from a
// match of the form `event.data.x == other` (expr.Equality). An empty
// key is an entry without one.
func correlation(path, key, equals, match string, vars []string) (string, func(map[string]any) (any, error), error) {
	switch {
	case key != "" || equals != "":
		if key == "" || equals == "" {
			return "", nil, errAt(path, "key and equals go together: key is the event's field, equals the value it must have")
		}
		if _, ok := route.KeyPath(key); !ok {
			return "", nil, errAt(path+".key", "%q is not a field of the event's data, e.g. %q", key, "event.data.order_id")
		}
		if code, ok := wholeExpr(equals); ok {
			p, err := expr.Compile(code, vars...)
			if err != nil {
				return "", nil, &Error{Path: path + ".equals", Err: err}
			}
			return key, p.Eval, nil
		}
		t, err := expr.CompileTemplate(equals, vars...)
		if err != nil {
			return "", nil, &Error{Path: path + ".equals", Err: err}
		}
		return key, func(vars map[string]any) (any, error) { return t.Render(vars) }, nil
	case match != "":
		field, other, ok := expr.Equality(match)
		if _, isKey := route.KeyPath(field); !ok || !isKey {
			return "", nil, nil
		}
		p, err := expr.Compile(other, vars...)
		if err != nil {
			return "", nil, nil // not indexed: the match alone decides
		}
		return field, p.Eval, nil
	}
	return "", nil, nil
}
