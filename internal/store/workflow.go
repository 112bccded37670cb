package store

import "time"

// Workflow is one version of a workflow definition. Spec is the JSON
// document owned by the workflow package. Versions of a name count 1, 2,
// 3…; new runs use the latest enabled one, running runs keep theirs.
type Workflow struct {
	TenantID  string
	Name      string
	Version   int
	Spec      []byte
	Enabled   bool
	CreatedAt time.Time
}

// Run statuses.
const (
	RunRunning   = "running"   // a step is due or running
	RunWaiting   = "waiting"   // in a delay or wait_for step
	RunSucceeded = "succeeded" // finished
	RunFailed    = "failed"    // a step failed and the run stopped
	RunCancelled = "cancelled"
)

// Run is one execution of a workflow version. State is the JSON document
// owned by the workflow package (variables, step outputs, the current
// step); Rev counts its saves, for optimistic concurrency.
type Run struct {
	ID       string
	TenantID string
	Workflow string
	Version  int
	Status   string
	// EventID is the event that started the run.
	EventID string
	State   []byte
	Error   string
	Rev     int
	// WaitEvent is the event type pattern a waiting run's wait_for step
	// waits for; empty otherwise.
	WaitEvent string
	// WaitKey and WaitValue are a keyed wait's correlation: the event
	// field it compares ("event.data.order_id") and the value it waits
	// for; empty for a wait without a key.
	WaitKey   string
	WaitValue string
	// ParentID is the run that started this one (a parallel branch, a
	// foreach iteration, a called workflow); empty for a run an event
	// started. It is set when the run is created and never changes.
	ParentID  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RunStep is one execution of one step of a run, for the run log. Seq
// numbers a run's step executions 1, 2, 3…; retries of a step update
// its entry.
type RunStep struct {
	RunID     string
	TenantID  string
	Seq       int
	StepID    string
	Kind      string
	Status    string // running, succeeded, failed, skipped, waiting
	Attempts  int
	Input     []byte // JSON
	Output    []byte // JSON
	Error     string
	StartedAt time.Time
	Duration  time.Duration
}

// RunQuery filters ListRuns (newest first).
type RunQuery struct {
	Page
	Workflow string
	Status   string
	// Parent keeps the runs started by that run.
	Parent string
}

// RunSave is one step of progress of a run, written in one transaction by
// SaveRun.
type RunSave struct {
	Run Run
	// Rev is the revision the caller read; the save fails with
	// ErrConflict when the stored run has another one. Zero creates the
	// run (ErrConflict if it exists).
	Rev int
	// Steps are upserted by (run, seq).
	Steps []RunStep
	// Tasks are added (the run's next step, a timeout).
	Tasks []Task
	// Children are runs created with this save (their Rev is 1): the
	// branches, iterations or called workflow a step starts. One that
	// exists fails the save with ErrConflict.
	Children []Run
}

// BufferedEvent is an event kept for keyed waits that start later: its
// value at a correlation key (a wait_for's key) and when it was accepted.
type BufferedEvent struct {
	TenantID  string
	Key       string
	Value     string
	EventID   string
	EventType string
	CreatedAt time.Time
}

// MaxBuffered bounds the events BufferedEvents returns for one key and
// value.
const MaxBuffered = 100

// Schedule is when one schedule of a workflow (by Key, the schedule as
// declared: cron expression and time zone) is next due. The row is what
// nodes share: the one that advances it fires the times it passed.
type Schedule struct {
	TenantID string
	Workflow string
	Key      string
	NextAt   time.Time
}
