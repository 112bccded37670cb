package wire

import (
	"bytes"
	"encoding/json"
)

// WorkflowSpec declares a workflow: the events that start it and its
// steps. It is the body of POST /v1/workflows (JSON or YAML) and an entry
// of `workflows:` in hookline.yaml. Saving a changed spec makes a new
// version; runs finish on the version they started with.
type WorkflowSpec struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	On          WorkflowTrigger `json:"on"`
	Steps       []Step          `json:"steps"`
	// ErrorWorkflow names a workflow started, when a run fails, by the
	// workflow.failed event describing it.
	ErrorWorkflow string `json:"error_workflow,omitempty"`
	Enabled       *bool  `json:"enabled,omitempty"`
	// Concurrency bounds the runs going on at once per key; the runs
	// beyond wait, queued, in arrival order.
	Concurrency *WorkflowConcurrency `json:"concurrency,omitempty"`
	// Throttle bounds the runs starting in a period per key; the runs
	// beyond wait, queued, for a slot to free.
	Throttle *WorkflowThrottle `json:"throttle,omitempty"`
	// Debounce starts one run per key for the last of the events that
	// came less than a period apart, a period after it.
	Debounce *WorkflowDebounce `json:"debounce,omitempty"`
	// CancelOn cancels a run that has not ended (running, waiting or
	// queued) when a matching event arrives.
	CancelOn []CancelOn `json:"cancel_on,omitempty"`
}

// WorkflowConcurrency is at most Limit runs (1 to 10,000) going on at
// once for each value of Key, an expression over event such as
// event.data.customer_id (none: one limit for the whole workflow).
type WorkflowConcurrency struct {
	Key   string `json:"key,omitempty"`
	Limit int    `json:"limit"`
}

// WorkflowThrottle is at most Limit runs (1 to 100,000) starting in any
// Period (1s to 24h, e.g. "1m") for each value of Key.
type WorkflowThrottle struct {
	Key    string `json:"key,omitempty"`
	Limit  int    `json:"limit"`
	Period string `json:"period"`
}

// WorkflowDebounce waits Period (1s to 168h) after an event for each
// value of Key: a later event of the key replaces it and waits anew, and
// the last one starts the run.
type WorkflowDebounce struct {
	Key    string `json:"key,omitempty"`
	Period string `json:"period"`
}

// CancelOn is one cancel_on entry: events of type Event (a pattern) for
// which Match (over event — the incoming one —, trigger, vars, steps,
// run) is true cancel the run. Key and Equals correlate as a wait_for's
// do (an index finds the runs by the event's value), or a Match of the
// form `event.data.x == <expression without event>` does; Equals is
// evaluated when the run starts.
type CancelOn struct {
	Event  string `json:"event"`
	Match  string `json:"match,omitempty"`
	Key    string `json:"key,omitempty"`
	Equals string `json:"equals,omitempty"`
}

// WorkflowTrigger says what starts a run: events (type patterns and an
// optional condition over event and data), schedules, or a person
// (manual: true declares a workflow started only through
// POST /v1/workflows/{name}/runs; any workflow may be started so). A
// workflow needs events, a schedule or manual.
type WorkflowTrigger struct {
	Events []string `json:"events,omitempty"`
	If     string   `json:"if,omitempty"`
	// Schedule is one schedule or a list of them.
	Schedule WorkflowSchedules `json:"schedule,omitempty"`
	Manual   bool              `json:"manual,omitempty"`
}

// WorkflowSchedule starts a run at the times of a cron expression, or
// every interval, read in a time zone. Each run's event is of type
// workflow.scheduled, with the scheduled time in data.scheduled_at and as
// its occurred_at.
type WorkflowSchedule struct {
	// Cron has five fields (minute hour day-of-month month day-of-week)
	// or a descriptor such as @daily.
	Cron string `json:"cron,omitempty"`
	// Every is a fixed interval instead, e.g. "15m" (at least 1m),
	// counted from when the schedule was saved.
	Every string `json:"every,omitempty"`
	// Timezone is an IANA time zone such as Europe/Berlin; default UTC.
	Timezone string `json:"timezone,omitempty"`
	// Missed is what a node does with the times missed while none ran:
	// skip (none), run_once (one run for the latest; the default) or
	// run_all (one run each, the latest catch_up of them).
	Missed string `json:"missed,omitempty"`
	// CatchUp bounds run_all: at most this many runs (default 10, at
	// most 100).
	CatchUp int `json:"catch_up,omitempty"`
}

// WorkflowSchedules is one schedule or a list: as JSON it reads either
// and writes a list.
type WorkflowSchedules []WorkflowSchedule

// UnmarshalJSON reads one schedule object or an array of them.
func (s *WorkflowSchedules) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one WorkflowSchedule
		if err := strictJSON(b, &one); err != nil {
			return err
		}
		*s = WorkflowSchedules{one}
		return nil
	}
	var list []WorkflowSchedule
	if err := strictJSON(b, &list); err != nil {
		return err
	}
	*s = list
	return nil
}

// strictJSON decodes b refusing fields v does not have, as the API's
// bodies are decoded.
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// Step is one step: an id and exactly one kind (http, emit, set, if,
// switch, delay, wait_for, approval, sync, notify, fail, parallel,
// foreach, call), with its error handling.
type Step struct {
	ID      string            `json:"id"`
	HTTP    *HTTPStep         `json:"http,omitempty"`
	Emit    *EmitStep         `json:"emit,omitempty"`
	Set     map[string]string `json:"set,omitempty"`
	If      *IfStep           `json:"if,omitempty"`
	Switch  *SwitchStep       `json:"switch,omitempty"`
	Delay   *DelayStep        `json:"delay,omitempty"`
	WaitFor *WaitForStep      `json:"wait_for,omitempty"`
	// Approval waits for a person to approve or reject the run.
	Approval *ApprovalStep `json:"approval,omitempty"`
	Sync     *SyncStep     `json:"sync,omitempty"`
	// Notify sends content by a notify rule (without events: the run's
	// event is the one notified about).
	Notify *NotifyRule `json:"notify,omitempty"`
	Fail   *FailStep   `json:"fail,omitempty"`
	// Parallel, Foreach and Call run their work as runs of their own
	// (child runs, whose parent_run_id is the run) and wait for them.
	Parallel *ParallelStep `json:"parallel,omitempty"`
	Foreach  *ForeachStep  `json:"foreach,omitempty"`
	Call     *CallStep     `json:"call,omitempty"`
	// Retry retries a failing http or sync step.
	Retry *RetryPolicy `json:"retry,omitempty"`
	// Timeout bounds one attempt of the step, e.g. "30s".
	Timeout string `json:"timeout,omitempty"`
	// OnError is what a failure does once retries are spent: "fail" (the
	// default) fails the run, "continue" goes on to the next step, a step
	// id goes to that step.
	OnError string `json:"on_error,omitempty"`
	// Next is the step after this one (default: the next in the list;
	// "end" finishes the run).
	Next string `json:"next,omitempty"`
}

// HTTPStep calls a URL. URL, header values and Body are {{ }} templates.
// The response (status, headers, body parsed as JSON when it is JSON) is
// the step's output. The step log shows the request's headers by name
// only, and the response's credentials "redacted".
type HTTPStep struct {
	Method  string            `json:"method,omitempty"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	// Expect lists the statuses that succeed; default any 2xx.
	Expect []int `json:"expect,omitempty"`
}

// EmitStep publishes an event. String values of Data are templates; a
// string that is a single {{ expression }} keeps the expression's type.
type EmitStep struct {
	Type string `json:"type"`
	Data any    `json:"data,omitempty"`
}

// IfStep branches on a condition.
type IfStep struct {
	Condition string `json:"condition"`
	Then      string `json:"then"`
	Else      string `json:"else,omitempty"`
}

// SwitchStep branches on a value: the case whose key equals the value's
// text, else Default (else the next step).
type SwitchStep struct {
	Value   string            `json:"value"`
	Cases   map[string]string `json:"cases"`
	Default string            `json:"default,omitempty"`
}

// DelayStep waits For a duration or Until a time (a template giving an
// RFC 3339 time).
type DelayStep struct {
	For   string `json:"for,omitempty"`
	Until string `json:"until,omitempty"`
}

// WaitForStep waits for an event of type Event for which Match (over
// event — the incoming one —, trigger, vars, steps, run) is true; the
// event is the step's output. After Timeout (default 24h) the run goes to
// OnTimeout, or fails without one.
//
// Key and Equals correlate: the run takes only events whose field Key
// ("event.data.order_id") has the value Equals (a template over trigger,
// vars, steps, run, evaluated when the wait begins), found through an
// index rather than offered every event. A Match of the form
// `event.data.x == <expression without event>` declares the same. An
// event with a value at a keyed wait's key that no waiting run takes is
// kept for Buffer (default 10m, at most 168h, "0s" keeps none) for the
// run that reaches its wait later.
type WaitForStep struct {
	Event     string `json:"event"`
	Match     string `json:"match,omitempty"`
	Key       string `json:"key,omitempty"`
	Equals    string `json:"equals,omitempty"`
	Buffer    string `json:"buffer,omitempty"`
	Timeout   string `json:"timeout,omitempty"`
	OnTimeout string `json:"on_timeout,omitempty"`
}

// ApprovalStep waits for a person to approve or reject: through POST
// /v1/runs/{id}/approve or /reject, or a signed link. When the wait
// begins the step's output is Message (a template) with approve_url,
// reject_url and expires_at, and a workflow.approval_requested event
// carries them (for a notify rule or an endpoint to send). The decision
// is the step's output: approved, comment, decided_by ("api" or "link")
// and decided_at. After Timeout (default 24h) the run goes to OnTimeout,
// or fails without one.
type ApprovalStep struct {
	Message   string `json:"message,omitempty"`
	Timeout   string `json:"timeout,omitempty"`
	OnTimeout string `json:"on_timeout,omitempty"`
}

// SyncStep writes a record into a collection, keyed and versioned by the
// collection's spec. Record is an expression; default event.data.
type SyncStep struct {
	Collection string `json:"collection"`
	Record     string `json:"record,omitempty"`
}

// ParallelStep runs its branches at the same time, each a list of steps
// (with their own retries and on_error) run as a child run, and joins
// them: Join "all" (the default) succeeds when every branch has, and
// fails as soon as one fails, cancelling the others; "any" succeeds as
// soon as one branch has, cancelling the others, and fails when all
// have. The output lists the branches in order with their name,
// run_id, status, output (their last step's) and error; the steps of a
// branch are seen after the join as steps of the run.
type ParallelStep struct {
	Join     string   `json:"join,omitempty"`
	Branches []Branch `json:"branches"`
}

// Branch is one branch of a parallel step.
type Branch struct {
	Name  string `json:"name,omitempty"`
	Steps []Step `json:"steps"`
}

// ForeachStep runs Steps once per item, as a child run each, at most
// Concurrency (default 1, at most 50) at a time; their steps see item
// and index. Items is an expression giving an array (at most 1,000
// items); Collection goes over a collection's records instead (each
// item is {key, data}). The output is {count, outputs}: each
// iteration's last step's output, in the items' order. An iteration
// that fails fails the step and cancels those running.
type ForeachStep struct {
	Items       string             `json:"items,omitempty"`
	Collection  *ForeachCollection `json:"collection,omitempty"`
	Concurrency int                `json:"concurrency,omitempty"`
	Steps       []Step             `json:"steps"`
}

// ForeachCollection selects a collection's records in key order: those
// whose key starts with Prefix and for which Filter (over record and
// key) is true, at most Limit (default and at most 1,000).
type ForeachCollection struct {
	Name   string `json:"name"`
	Prefix string `json:"prefix,omitempty"`
	Filter string `json:"filter,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// CallStep runs the latest version of another workflow with Input as
// its event's data (event type workflow.call; string values are
// templates, as emit data) and waits for it; the output is the run's
// {run_id, workflow, version, vars, output}. A failed run fails the
// step; cancelling the caller cancels it. Calls nest at most 8 deep.
type CallStep struct {
	Workflow string `json:"workflow"`
	Input    any    `json:"input,omitempty"`
}

// FailStep fails the run with a message (a template).
type FailStep struct {
	Message string `json:"message"`
}

// RetryPolicy retries a failing step: Attempts in all (default 1: no
// retry), waiting Initial (default 1s) then doubling ("exponential", the
// default) or not ("fixed"), at most Max (default 1h). Statuses are the
// HTTP statuses worth retrying (default 408, 429 and 5xx; network errors
// always are).
type RetryPolicy struct {
	Attempts int    `json:"attempts"`
	Backoff  string `json:"backoff,omitempty"`
	Initial  string `json:"initial,omitempty"`
	Max      string `json:"max,omitempty"`
	Statuses []int  `json:"statuses,omitempty"`
}

// Workflow is a workflow as the API shows it: its latest version.
type Workflow struct {
	WorkflowSpec
	Version   int  `json:"version"`
	Enabled   bool `json:"enabled"`
	CreatedAt Time `json:"created_at"`
}

// WorkflowSaved answers POST /v1/workflows: the version now current and
// whether saving made it.
type WorkflowSaved struct {
	Workflow
	Action string `json:"action"` // created, updated, unchanged
}

// Run is one run of a workflow.
type Run struct {
	ID       string `json:"id"`
	Workflow string `json:"workflow"`
	Version  int    `json:"version"`
	Status   string `json:"status"`
	EventID  string `json:"event_id"`
	Current  string `json:"current_step,omitempty"`
	Error    string `json:"error,omitempty"`
	Vars     any    `json:"vars,omitempty"`
	// ParentID is the run whose parallel, foreach or call step started
	// this one; empty for a run an event started.
	ParentID string `json:"parent_run_id,omitempty"`
	Created  Time   `json:"created_at"`
	Updated  Time   `json:"updated_at"`
	// Steps is the step log, set by GET /v1/runs/{id}: one entry per
	// execution of a step, as its last attempt left it.
	Steps []RunStep `json:"steps,omitempty"`
	// Attempts, set by GET /v1/runs/{id}, are every attempt of every
	// step, by seq then attempt: in them `attempts` is the attempt's
	// number (1, 2, 3…), so a step that failed twice before it succeeded
	// has three.
	Attempts []RunStep `json:"attempts,omitempty"`
}

// RunStart is the body of POST /v1/workflows/{name}/runs: the input of
// a run started by hand, which the run sees as event.data (its event is
// of type workflow.manual), and an optional idempotency key (or the
// Idempotency-Key header): a repeated request answers the run the first
// one started.
type RunStart struct {
	// Input is a JSON object; default {}.
	Input          json.RawMessage `json:"input,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
}

// RunDecision is the optional body of POST /v1/runs/{id}/approve and
// /reject: a comment kept with the decision (at most 2000 bytes).
type RunDecision struct {
	Comment string `json:"comment,omitempty"`
}

// RunFilter selects runs for POST /v1/runs/cancel and /v1/runs/retry:
// of a workflow, in a status, created in [CreatedAfter, CreatedBefore),
// newest first, at most Limit (default 100, at most 1000). Every field
// is optional.
type RunFilter struct {
	Workflow      string `json:"workflow,omitempty"`
	Status        string `json:"status,omitempty"`
	CreatedAfter  *Time  `json:"created_after,omitempty"`
	CreatedBefore *Time  `json:"created_before,omitempty"`
	Limit         int    `json:"limit,omitempty"`
}

// RunsChanged answers a bulk change of runs: how many the filter matched
// (up to its limit), how many were changed, how many were skipped (they
// ended or changed meanwhile), and whether more runs match: call again
// to go on.
type RunsChanged struct {
	Matched int  `json:"matched"`
	Changed int  `json:"changed"`
	Skipped int  `json:"skipped"`
	More    bool `json:"more"`
}

// RunStep is one execution of a step in a run's log.
type RunStep struct {
	Seq        int             `json:"seq"`
	Step       string          `json:"step"`
	Kind       string          `json:"kind"`
	Status     string          `json:"status"`
	Attempts   int             `json:"attempts"`
	Input      json.RawMessage `json:"input,omitempty"`
	Output     json.RawMessage `json:"output,omitempty"`
	Error      string          `json:"error,omitempty"`
	StartedAt  Time            `json:"started_at"`
	DurationMS int64           `json:"duration_ms"`
	// WokeAt is when a delay or wait_for that ended woke (started_at
	// plus duration_ms): its wait lasted duration_ms.
	WokeAt *Time `json:"woke_at,omitempty"`
}
