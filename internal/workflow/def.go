package workflow

import (
	"github.com/hookline/hookline/internal/content"
)

// Def is a workflow version as declared: its trigger and steps as their
// author wrote them, which Compile checks and compiles. It is also the
// document the store keeps (store.Workflow.Spec): its JSON must stay
// readable by every later version, so a field is only ever added, with
// omitempty. Whether the workflow is enabled is not part of a version:
// it is the workflow's row (store.Workflow.Enabled). The API's
// wire.WorkflowSpec is mapped to and from it in internal/apply.
type Def struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	On          TriggerDef `json:"on"`
	Steps       []StepDef  `json:"steps"`
	// ErrorWorkflow names the workflow a failed run starts.
	ErrorWorkflow string `json:"error_workflow,omitempty"`
	// Concurrency, Throttle and Debounce limit the runs per key.
	Concurrency *ConcurrencyDef `json:"concurrency,omitempty"`
	Throttle    *ThrottleDef    `json:"throttle,omitempty"`
	Debounce    *DebounceDef    `json:"debounce,omitempty"`
	// CancelOn cancels a run that has not ended on a matching event.
	CancelOn []CancelDef `json:"cancel_on,omitempty"`
}

// CancelDef is one cancel_on entry: an event type pattern, an optional
// condition, and an optional correlation key as a wait_for has (Key and
// Equals, or a Match of the form event.data.x == other).
type CancelDef struct {
	Event  string `json:"event"`
	Match  string `json:"match,omitempty"`
	Key    string `json:"key,omitempty"`
	Equals string `json:"equals,omitempty"`
}

// ConcurrencyDef bounds the runs going on at once for each value of Key
// (an expression over event; empty: one key for the workflow).
type ConcurrencyDef struct {
	Key   string `json:"key,omitempty"`
	Limit int    `json:"limit"`
}

// ThrottleDef bounds the runs starting in each Period for each value of
// Key; runs beyond wait.
type ThrottleDef struct {
	Key    string `json:"key,omitempty"`
	Limit  int    `json:"limit"`
	Period string `json:"period"`
}

// DebounceDef starts a run for the last event of each value of Key once
// Period passed without another.
type DebounceDef struct {
	Key    string `json:"key,omitempty"`
	Period string `json:"period"`
}

// TriggerDef says what starts a run: events (type patterns and an
// optional condition over event and data), schedules, and whether the
// workflow is meant to be run by hand (any workflow may be).
type TriggerDef struct {
	Events   []string      `json:"events"`
	If       string        `json:"if,omitempty"`
	Schedule []ScheduleDef `json:"schedule,omitempty"`
	Manual   bool          `json:"manual,omitempty"`
}

// ScheduleDef starts a run at the times of a cron expression (or every
// interval), read in a time zone, with a policy for the times missed
// while no node ran.
type ScheduleDef struct {
	Cron     string `json:"cron,omitempty"`
	Every    string `json:"every,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	// Missed is skip, run_once (the default) or run_all.
	Missed string `json:"missed,omitempty"`
	// CatchUp bounds the runs run_all starts at once.
	CatchUp int `json:"catch_up,omitempty"`
}

// StepDef is one step: an id and exactly one kind, with its error
// handling. Durations (Timeout, and those of its parts) are Go durations
// as written.
type StepDef struct {
	ID      string            `json:"id"`
	HTTP    *HTTPDef          `json:"http,omitempty"`
	Emit    *EmitDef          `json:"emit,omitempty"`
	Set     map[string]string `json:"set,omitempty"`
	If      *IfDef            `json:"if,omitempty"`
	Switch  *SwitchDef        `json:"switch,omitempty"`
	Delay   *DelayDef         `json:"delay,omitempty"`
	WaitFor *WaitForDef       `json:"wait_for,omitempty"`
	// Approval waits for a person to approve or reject the run.
	Approval *ApprovalDef `json:"approval,omitempty"`
	Sync     *SyncDef     `json:"sync,omitempty"`
	// Notify is a notify rule, checked and run by Options.CheckNotify and
	// Config.Notify (the content package).
	Notify *content.RuleDef `json:"notify,omitempty"`
	Fail   *FailDef         `json:"fail,omitempty"`
	// Parallel, Foreach and Call start runs of their own (child runs)
	// and wait for them.
	Parallel *ParallelDef `json:"parallel,omitempty"`
	Foreach  *ForeachDef  `json:"foreach,omitempty"`
	Call     *CallDef     `json:"call,omitempty"`
	Retry    *RetryDef    `json:"retry,omitempty"`
	Timeout  string       `json:"timeout,omitempty"`
	// OnError is "fail" (or empty), "continue" or a step id.
	OnError string `json:"on_error,omitempty"`
	// Next is the step after this one; empty: the next in the list.
	Next string `json:"next,omitempty"`
}

// HTTPDef calls a URL; URL, header values and Body are templates.
type HTTPDef struct {
	Method  string            `json:"method,omitempty"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	Expect  []int             `json:"expect,omitempty"`
}

// EmitDef publishes an event; string values of Data are templates.
type EmitDef struct {
	Type string `json:"type"`
	Data any    `json:"data,omitempty"`
}

// IfDef branches on a condition.
type IfDef struct {
	Condition string `json:"condition"`
	Then      string `json:"then"`
	Else      string `json:"else,omitempty"`
}

// SwitchDef branches on a value.
type SwitchDef struct {
	Value   string            `json:"value"`
	Cases   map[string]string `json:"cases"`
	Default string            `json:"default,omitempty"`
}

// DelayDef waits For a duration or Until a time (a template).
type DelayDef struct {
	For   string `json:"for,omitempty"`
	Until string `json:"until,omitempty"`
}

// WaitForDef waits for a matching event of type Event. Key (a field of
// the event's data, "event.data.order_id") and Equals (a template of the
// value the field must have) make it a keyed wait; Buffer is how long an
// event with the key's value is kept for the run that waits later.
type WaitForDef struct {
	Event     string `json:"event"`
	Match     string `json:"match,omitempty"`
	Key       string `json:"key,omitempty"`
	Equals    string `json:"equals,omitempty"`
	Buffer    string `json:"buffer,omitempty"`
	Timeout   string `json:"timeout,omitempty"`
	OnTimeout string `json:"on_timeout,omitempty"`
}

// ApprovalDef waits for a person's decision: approve or reject, through
// the API or a signed link. Message (a template) says what is asked; the
// links and message go out in a workflow.approval_requested event.
type ApprovalDef struct {
	Message   string `json:"message,omitempty"`
	Timeout   string `json:"timeout,omitempty"`
	OnTimeout string `json:"on_timeout,omitempty"`
}

// SyncDef writes a record into a collection.
type SyncDef struct {
	Collection string `json:"collection"`
	Record     string `json:"record,omitempty"`
}

// FailDef fails the run with a message (a template).
type FailDef struct {
	Message string `json:"message"`
}

// RetryDef retries a failing step.
type RetryDef struct {
	Attempts int    `json:"attempts"`
	Backoff  string `json:"backoff,omitempty"`
	Initial  string `json:"initial,omitempty"`
	Max      string `json:"max,omitempty"`
	Statuses []int  `json:"statuses,omitempty"`
}

// ParallelDef runs Branches at the same time and joins them: when all
// have succeeded (Join "all", the default) or when one has ("any").
type ParallelDef struct {
	Join     string      `json:"join,omitempty"`
	Branches []BranchDef `json:"branches"`
}

// BranchDef is one branch of a parallel step: a list of steps, with an
// optional name for its output.
type BranchDef struct {
	Name  string    `json:"name,omitempty"`
	Steps []StepDef `json:"steps"`
}

// ForeachDef runs Steps once per item of Items (an expression giving an
// array) or of the records of Collection, at most Concurrency at a time.
type ForeachDef struct {
	Items       string                `json:"items,omitempty"`
	Collection  *ForeachCollectionDef `json:"collection,omitempty"`
	Concurrency int                   `json:"concurrency,omitempty"`
	Steps       []StepDef             `json:"steps"`
}

// ForeachCollectionDef selects records of a collection, in key order:
// those whose key starts with Prefix and for which Filter (over record
// and key) is true, at most Limit.
type ForeachCollectionDef struct {
	Name   string `json:"name"`
	Prefix string `json:"prefix,omitempty"`
	Filter string `json:"filter,omitempty"`
	Limit  int    `json:"limit,omitempty"`
}

// CallDef runs the latest version of Workflow with Input as its event's
// data (string values are templates, as emit data) and waits for it.
type CallDef struct {
	Workflow string `json:"workflow"`
	Input    any    `json:"input,omitempty"`
}
