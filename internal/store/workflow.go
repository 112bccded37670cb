package store

import (
	"errors"
	"time"
)

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
	// RunQueued waits for a slot of its workflow's concurrency or
	// throttle limit before its first step.
	RunQueued = "queued"
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
	// Gates are the limits a run starting its work must pass, and the
	// slots it takes (RunGate). A save with status RunQueued queues the
	// run for its concurrency gates' keys instead; a save that ends the
	// run (succeeded, failed, cancelled) frees its concurrency slots.
	Gates []RunGate
	// Listens are added (a new run's cancel_on entries).
	Listens []RunListen
	// Result, when set, is the result of the attempt that made the save:
	// its task is completed with the save, as Commit completes one, in the
	// same transaction. A task no longer leased with Result's token fails
	// the save with ErrStale, nothing written.
	Result *TaskResult
}

// RunListen is an event a run listens for until it ends (a workflow's
// cancel_on entry Idx): its type pattern and, for a keyed one, the event
// field and the value it must have.
type RunListen struct {
	RunID    string
	TenantID string
	Idx      int
	Pattern  string
	Key      string
	Value    string
	// EventID is the event that started the run (never a listen's).
	EventID string
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

// Gate kinds: the limits of how many runs of a workflow go on at once
// (a slot held until the run ends) or start in a period (a slot that
// counts until it is older than RunGate.Since).
const (
	GateConcurrency = "concurrency"
	GateThrottle    = "throttle"
)

// RunGate is a limit the save of a run starting its work must pass
// (RunSave.Gates): the run takes a slot of its workflow's Kind and Key,
// unless Limit slots are taken, when the save writes nothing and fails
// with a *LimitError. A concurrency slot counts until the run ends; runs
// queued for the key before this one (saved with status RunQueued and
// the same gate) count as taken slots too, so they are let in first. A
// throttle slot counts while it was taken after Since.
type RunGate struct {
	Kind  string
	Key   string
	Limit int
	Since time.Time
}

// ErrLimited is what a *LimitError is.
var ErrLimited = errors.New("limit reached")

// LimitError is a save refused by a RunGate: Oldest is when the oldest
// slot counted was taken (throttle), so a run knows when one frees.
type LimitError struct {
	Kind   string
	Oldest time.Time
}

func (e *LimitError) Error() string { return e.Kind + " " + ErrLimited.Error() }

// Is makes errors.Is(err, ErrLimited) true.
func (e *LimitError) Is(target error) bool { return target == ErrLimited }

// Debounce is the event that last asked for a run of a debounced
// workflow for a key: a run starts at DueAt for EventID unless a later
// event replaces it.
type Debounce struct {
	TenantID string
	Workflow string
	Key      string
	EventID  string
	DueAt    time.Time
}
