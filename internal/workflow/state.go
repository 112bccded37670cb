package workflow

import (
	"encoding/json"
	"time"

	"github.com/hookline/hookline/internal/event"
)

// state is a run's committed progress (store.Run.State).
type state struct {
	// Event is the event that started the run, kept with the run so the
	// run does not depend on the event's retention.
	Event eventSnap      `json:"event"`
	Vars  map[string]any `json:"vars"`
	// Steps holds each executed step's result, by id.
	Steps map[string]stepResult `json:"steps"`
	// Current is the step to run next; empty when the run is over.
	Current string `json:"current,omitempty"`
	// Attempt counts the failed attempts of Current so far.
	Attempt int `json:"attempt,omitempty"`
	// Seq is the run log entry of Current.
	Seq int `json:"seq"`
	// Next is the id of the task that continues the run; any other task
	// for the run is stale.
	Next string `json:"next,omitempty"`
	// Wait describes a delay or wait_for in progress.
	Wait *wait `json:"wait,omitempty"`
	// Failed is the step the run failed at, for retry.
	Failed string `json:"failed,omitempty"`
	// Taken are the last events wait_for steps took (at most maxTaken),
	// so that a buffered event is not taken twice by a run that waits
	// again.
	Taken []string `json:"taken,omitempty"`
	// Listens counts the run's cancel_on entries (store.RunListen), whose
	// waits routing drops when the run ends.
	Listens int `json:"listens,omitempty"`
	// Last is the step that last succeeded: its output is the run's
	// result, which a parent run sees.
	Last string `json:"last,omitempty"`
	// Scope is the step list a child run runs (Workflow.scope): empty for
	// the workflow's own.
	Scope string `json:"scope,omitempty"`
	// Iter is the item of a foreach iteration, seen by its steps and
	// those of the branches inside it.
	Iter *iteration `json:"iter,omitempty"`
	// Depth counts the call steps above the run.
	Depth int `json:"depth,omitempty"`
	// Fan is the parallel, foreach or call step waiting for child runs.
	Fan *fan `json:"fan,omitempty"`
	// Spawned counts the child runs the run started: only a run that has
	// some is told of one that ended.
	Spawned int `json:"spawned,omitempty"`
	// Origin is, for a child run, the parent's step that started it.
	Origin *origin `json:"origin,omitempty"`
}

// origin is the step of a parent run that started a child run: its id,
// its step log entry (seq) and the child's index among the step's.
type origin struct {
	Step  string `json:"step"`
	Seq   int    `json:"seq"`
	Index int    `json:"index"`
}

type iteration struct {
	Item  any `json:"item"`
	Index int `json:"index"`
}

// fan is a step waiting for its child runs.
type fan struct {
	Step  string    `json:"step"`
	Since time.Time `json:"since"`
	// Items are a foreach step's items, each null once its iteration
	// started (the iteration keeps it); Started counts those started.
	Items   []any `json:"items,omitempty"`
	Started int   `json:"started,omitempty"`
	// Children are the child runs started, in the order of their Index
	// (a branch's or an item's).
	Children []child `json:"children"`
}

// child is a child run as its parent knows it: running until the parent
// learns that it ended, then with its outcome.
type child struct {
	ID     string `json:"id"`
	Index  int    `json:"index"`
	Status string `json:"status"`
	Output any    `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
}

// maxTaken bounds state.Taken.
const maxTaken = 64

type eventSnap struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Source     string          `json:"source,omitempty"`
	Data       json.RawMessage `json:"data"`
	OccurredAt time.Time       `json:"occurred_at"`
}

type stepResult struct {
	Status string `json:"status"`
	Output any    `json:"output,omitempty"`
	Error  string `json:"error,omitempty"`
}

type wait struct {
	Step  string    `json:"step"`
	Kind  string    `json:"kind"` // delay, wait_for, approval
	Until time.Time `json:"until"`
	// Since is when the wait began (zero in runs saved before it was
	// kept): the step's log entry, written when it ends, starts then and
	// lasts as long as the wait did.
	Since time.Time `json:"since,omitzero"`
	// Key and Value are a keyed wait_for's correlation: the event field
	// and the value it waits for.
	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
}

// began is when the wait began, or now when that was not kept.
func (w *wait) began(now time.Time) time.Time {
	if w.Since.IsZero() {
		return now
	}
	return w.Since
}

func snapOf(e *event.Event) eventSnap {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	return eventSnap{ID: e.ID, Type: e.Type, Source: e.Source, Data: data, OccurredAt: e.OccurredAt}
}

// value is the event as expressions see it.
func (e eventSnap) value() map[string]any {
	var data any
	_ = json.Unmarshal(e.Data, &data)
	return map[string]any{
		"id": e.ID, "type": e.Type, "source": e.Source, "data": data,
		"occurred_at": e.OccurredAt.UTC().Format(time.RFC3339Nano),
	}
}
