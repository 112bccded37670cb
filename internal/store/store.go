// Package store declares what the engine and the API need from storage.
// Drivers (sqlite, postgres) implement Store and pass the shared conformance
// suite in storetest.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/hookline/hookline/internal/event"
)

// Sentinel errors every driver returns for expected outcomes.
var (
	// ErrNotFound: no row with that id in the caller's tenant.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a row with that unique name already exists.
	ErrConflict = errors.New("already exists")
	// ErrStale: a result's task is no longer leased with the result's
	// token (another node holds it now, or the result was written).
	ErrStale = errors.New("task lease no longer held")
)

// Task statuses. A task being executed keeps its status and holds a lease.
const (
	StatusPending   = "pending"
	StatusRetrying  = "retrying"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// Tenant is an isolated account.
type Tenant struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// APIKey is a tenant's key, stored as a SHA-256 hash.
type APIKey struct {
	ID        string
	TenantID  string
	Name      string
	Prefix    string // first characters of the key, for display
	Hash      []byte
	Admin     bool
	CreatedAt time.Time
}

// EventType is a named event type with an optional JSON Schema.
type EventType struct {
	TenantID    string
	Name        string
	Description string
	Schema      []byte
	CreatedAt   time.Time
}

// Secret is one signing secret of an endpoint. A secret with a zero
// ExpiresAt is current; others sign until they expire (rotation grace).
type Secret struct {
	Key       string    `json:"key"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Endpoint is an outgoing HTTP destination and its subscription. Headers
// (custom request headers, set by the user and possibly credentials) and
// Secrets are encrypted at rest by the driver.
type Endpoint struct {
	ID       string
	TenantID string
	// Name is optional and unique per tenant; declarative config uses it
	// as the endpoint's identity.
	Name string
	// URL is the destination with its credential (a password, or a
	// token as the whole user information) replaced by redact.Marker:
	// what may be shown. URLSecret is that credential, sealed at rest by
	// the driver; redact.JoinURL(URL, URLSecret) is the URL to connect
	// to. Drivers split a URL given whole (redact.SplitURL) on write.
	URL            string
	URLSecret      string
	Description    string
	EventTypes     []string
	Filter         string
	Format         string
	Headers        map[string]string
	Timeout        time.Duration
	RetrySchedule  []time.Duration
	Enabled        bool
	DisabledReason string
	// MaxInFlight bounds concurrent deliveries (0: the server default).
	MaxInFlight int
	// RateLimit bounds deliveries per second (0: none).
	RateLimit float64
	// Ordered delivers one at a time in accept order.
	Ordered bool
	// FailingSince is when the endpoint started failing without a single
	// success since; zero while healthy.
	FailingSince time.Time
	// Secrets are encrypted at rest by the driver.
	Secrets   []Secret
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Source is an incoming webhook URL, /in/{Name}. Verification and Config
// are JSON documents owned by the ingest package; Verification holds
// secrets and is encrypted at rest by the driver.
type Source struct {
	ID           string
	TenantID     string
	Name         string
	Description  string
	Verification []byte
	Config       []byte
	Enabled      bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Subscription routes matching events to a destination other than an
// endpoint's own subscription, e.g. kind "forward" relays received events
// to an endpoint.
type Subscription struct {
	ID            string
	TenantID      string
	Name          string
	EventTypes    []string
	Filter        string
	Kind          string
	DestinationID string
	// Transform is an optional expression producing the forwarded body.
	Transform string
	Enabled   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Rejection is one refused incoming request, kept for debugging.
type Rejection struct {
	ID         string
	TenantID   string
	SourceID   string
	CreatedAt  time.Time
	Reason     string
	Method     string
	RemoteAddr string
	Headers    map[string]string
	Body       string
}

// Task is one (event, destination) pair moving through the engine.
type Task struct {
	ID            string
	TenantID      string
	EventID       string
	EventType     string
	Kind          string // destination kind, e.g. "endpoint"
	DestinationID string
	Status        string
	Attempts      int
	NextAt        time.Time
	// LeaseUntil is when the task's lease ends, by the database's clock
	// (zero: not leased). LeaseOwner is the node that holds or last held
	// the lease and LeaseToken fences its claim (see TaskLease).
	LeaseUntil time.Time
	LeaseOwner string
	LeaseToken int64
	// LeaseFor, on a task being inserted (AcceptEvents, AddTasks, SaveRun,
	// SaveMessages), leases it to LeaseOwner for that long from the
	// database's clock, with token 0, in the transaction that commits it;
	// zero inserts it unleased. It is never read back.
	LeaseFor  time.Duration
	LastError string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Event is loaded with the task by ClaimTasks and RequeueTasks.
	Event *event.Event
	// Traceparent, on a task handed to the engine's Schedule without its
	// Event (a workflow's next step, a message to send), is the trace
	// context of the attempt that wrote it. It is never stored: a task
	// claimed from the store continues its event's trace.
	Traceparent string
}

// Lease returns the claim the task was read under.
func (t *Task) Lease() TaskLease { return TaskLease{ID: t.ID, Token: t.LeaseToken} }

// TaskLease is one claim of a task: its id and the claim's token. A claim
// by a node other than the task's last lease owner (ClaimTasks,
// RequeueTasks) gives the task a new token; ExtendLeases, ReleaseTasks and
// CompleteTasks change a task only while its token is still the one
// given, so a node whose lease lapsed and whose task another node took
// over cannot overwrite what that node writes. A claim by the same owner
// keeps the token: one process never runs a task twice at once (the
// engine's dispatcher sees to it), so its running attempt still completes.
type TaskLease struct {
	ID    string
	Token int64
}

// Attempt kinds: what an attempt ran.
const (
	// AttemptHTTP is an HTTP request: the Request and Response fields.
	AttemptHTTP = "http"
	// AttemptPublish is a message published to a message system (an
	// endpoint with a nats, amqp, redis or kafka URL): the Request fields
	// hold the message, the Detail what the system acknowledged.
	AttemptPublish = "publish"
	// The others ran in process: their Detail says what they decided.
	AttemptSync     = "sync"
	AttemptWorkflow = "workflow"
	AttemptNotify   = "notify"
	AttemptMessage  = "message"
)

// Attempt is one try of a task. Bodies are truncated by the executor.
type Attempt struct {
	ID        string
	TaskID    string
	TenantID  string
	Number    int
	StartedAt time.Time
	Duration  time.Duration
	Outcome   string
	// Kind is one of the Attempt kinds; empty for attempts written by
	// versions before it.
	Kind string
	// Detail is what an attempt run in process decided: a JSON object the
	// executor built with json.Marshal from a type of its own package.
	// Nil for HTTP attempts.
	Detail json.RawMessage
	// RequestURL is the URL of an HTTP attempt; attempts run in process
	// name what they ran (workflow:{name}, notify:{rule}, …), which the
	// API documents.
	RequestURL      string
	RequestHeaders  map[string]string
	RequestBody     string
	ResponseStatus  int
	ResponseHeaders map[string]string
	ResponseBody    string
	Error           string
}

// NewEvent is an event to accept and the tasks it creates.
type NewEvent struct {
	Event event.Event
	Tasks []Task
	// Queues are the ids of the pull queues the event is put on, in the
	// same transaction.
	Queues []string
	// IdempotentSince is the start of the idempotency window: an earlier
	// event of the tenant with the same idempotency key created at or after
	// it makes this one a duplicate.
	IdempotentSince time.Time
}

// Accepted is the result of accepting one NewEvent. When Duplicate is set,
// Event is the earlier event with the same idempotency key and nothing was
// written.
type Accepted struct {
	Event     event.Event
	Duplicate bool
	Tasks     []Task
}

// TaskResult is the outcome of one attempt: the attempt row and the task's
// next state.
type TaskResult struct {
	TaskID string
	// Token is the lease token the attempt ran under.
	Token     int64
	Attempt   Attempt
	Status    string
	NextAt    time.Time
	LastError string
}

// Claim says which due tasks ClaimTasks may lease, to whom and for how
// long.
type Claim struct {
	// Now decides which tasks are due (next_at <= Now); leases are set and
	// compared by the database's clock, never by Now.
	Now time.Time
	// Lease is how long the claimed tasks stay leased to Owner.
	Lease time.Duration
	Owner string
	Limit int
	// Exclude lists destination ids whose tasks are not wanted now (their
	// queues are full).
	Exclude []string
	// Buckets, when not nil, keeps only tasks whose destination falls in
	// one of these buckets: get_byte(decode(md5(destination_id), 'hex'),
	// 3) & 63 (Bucket). Only drivers shared by several nodes (those
	// implementing Coordinator) must honour it.
	Buckets []int
}

// Page asks for one page of a list, newest first.
type Page struct {
	Limit  int
	Cursor string // the last id of the previous page
}

// DefaultLimit is the page size of a list that asks for none.
const DefaultLimit = 100

// Size is how many rows the page holds: Limit, or DefaultLimit when it is
// not positive or above 1000.
func (p Page) Size() int {
	if p.Limit <= 0 || p.Limit > 1000 {
		return DefaultLimit
	}
	return p.Limit
}

// Limit is the page size of records and changes: n, or DefaultLimit when
// n is not positive.
func Limit(n int) int {
	if n <= 0 {
		return DefaultLimit
	}
	return n
}

// EventQuery filters ListEvents.
type EventQuery struct {
	Page
	Type   string
	Source string
	After  time.Time
	Before time.Time
}

// TaskQuery filters ListTasks.
type TaskQuery struct {
	Page
	Kind          string
	DestinationID string
	EventID       string
	Status        string
	// UpdatedSince keeps tasks last updated at or after it.
	UpdatedSince time.Time
	// Oldest lists oldest first instead of newest first.
	Oldest bool
}

// ActivityQuery asks Activity for a tenant's per-minute counts.
type ActivityQuery struct {
	// Since is the start of the window; it ends now.
	Since time.Time
	// Limit bounds how many of the newest events and of the newest tasks
	// are counted (a busier window is counted from its newest rows and
	// says so with Capped); at least 1.
	Limit int
}

// ActivityMinute is one minute of a tenant's activity: the events
// accepted in it, and the tasks created in the window that ended in it,
// succeeded or failed for good.
type ActivityMinute struct {
	Minute                      time.Time
	Accepted, Succeeded, Failed int
}

// Activity is a tenant's per-minute counts, oldest minute first; minutes
// with nothing are left out.
type Activity struct {
	Minutes []ActivityMinute
	// Capped says the window held more than Limit events or tasks.
	Capped bool
}

// ActivityCount is what a driver reads for Activity: one minute's
// counts and how many rows they were counted from.
type ActivityCount struct {
	ActivityMinute
	Rows int
}

// MergeActivity builds an Activity from a driver's per-minute counts of
// events and of tasks, each read from at most limit rows.
func MergeActivity(limit int, events, tasks []ActivityCount) Activity {
	var out Activity
	byMinute := map[time.Time]*ActivityMinute{}
	for _, rows := range [][]ActivityCount{events, tasks} {
		total := 0
		for _, c := range rows {
			total += c.Rows
			if c.Accepted+c.Succeeded+c.Failed == 0 {
				continue
			}
			m := byMinute[c.Minute]
			if m == nil {
				m = &ActivityMinute{Minute: c.Minute}
				byMinute[c.Minute] = m
			}
			m.Accepted += c.Accepted
			m.Succeeded += c.Succeeded
			m.Failed += c.Failed
		}
		out.Capped = out.Capped || total >= limit
	}
	for _, m := range byMinute {
		out.Minutes = append(out.Minutes, *m)
	}
	slices.SortFunc(out.Minutes, func(a, b ActivityMinute) int { return a.Minute.Compare(b.Minute) })
	return out
}

// Store is the storage seam a driver implements: every aggregate's
// interface and the database's own methods. A consumer declares what it
// uses, an aggregate or a small interface of its own; only the wiring and
// the API take all of Store. Every method that takes a tenantID only sees
// that tenant's rows and returns ErrNotFound for another tenant's ids. A
// driver several nodes share also implements Coordinator.
type Store interface {
	Tenants
	APIKeys
	EventTypes
	Endpoints
	Sources
	Subscriptions
	Collections
	Workflows
	Content
	Events
	Tasks
	PortalSessions
	Queues

	Close() error
	Ping(ctx context.Context) error
	// CheckWrite reports whether a write could commit now: nil, or an
	// error that is ErrUnavailable or ErrDiskFull. It leaves no trace; a
	// Ping answers even when the disk is full.
	CheckWrite(ctx context.Context) error
}

// Tenants are the isolated accounts.
type Tenants interface {
	CreateTenant(ctx context.Context, t Tenant) error
	GetTenant(ctx context.Context, id string) (Tenant, error)
	TenantByName(ctx context.Context, name string) (Tenant, error)
	CountTenants(ctx context.Context) (int, error)
	// ListTenants lists every tenant, oldest first.
	ListTenants(ctx context.Context) ([]Tenant, error)
}

// APIKeys are the tenants' API keys.
type APIKeys interface {
	CreateAPIKey(ctx context.Context, k APIKey) error
	APIKeyByHash(ctx context.Context, hash []byte) (APIKey, error)
	ListAPIKeys(ctx context.Context, tenantID string) ([]APIKey, error)
	DeleteAPIKey(ctx context.Context, tenantID, id string) error
	// EndSession remembers that a dashboard session signed out before it
	// expires, so SessionEnded reports it until then; the ids of sessions
	// past their expiry are dropped as new ones are written.
	EndSession(ctx context.Context, id string, expires time.Time) error
	SessionEnded(ctx context.Context, id string) (bool, error)
}

// EventTypes are the tenants' event types.
type EventTypes interface {
	CreateEventType(ctx context.Context, et EventType) error
	GetEventType(ctx context.Context, tenantID, name string) (EventType, error)
	UpdateEventType(ctx context.Context, et EventType) error
	ListEventTypes(ctx context.Context, tenantID string) ([]EventType, error)
}

// Endpoints are the outgoing HTTP destinations.
type Endpoints interface {
	CreateEndpoint(ctx context.Context, ep Endpoint) error
	GetEndpoint(ctx context.Context, tenantID, id string) (Endpoint, error)
	ListEndpoints(ctx context.Context, tenantID string, p Page) ([]Endpoint, error)
	// EnabledEndpoints lists every enabled endpoint of a tenant, for routing.
	EnabledEndpoints(ctx context.Context, tenantID string) ([]Endpoint, error)
	UpdateEndpoint(ctx context.Context, ep Endpoint) error
	DisableEndpoint(ctx context.Context, tenantID, id, reason string, at time.Time) error
	// SetEndpointFailing records when an endpoint started failing (zero:
	// it succeeded).
	SetEndpointFailing(ctx context.Context, tenantID, id string, since time.Time) error
	DeleteEndpoint(ctx context.Context, tenantID, id string) error
}

// Sources are the incoming webhook URLs and the requests they refused.
type Sources interface {
	CreateSource(ctx context.Context, src Source) error
	GetSource(ctx context.Context, tenantID, id string) (Source, error)
	// SourceByName finds a source of any tenant by its global name.
	SourceByName(ctx context.Context, name string) (Source, error)
	ListSources(ctx context.Context, tenantID string, p Page) ([]Source, error)
	UpdateSource(ctx context.Context, src Source) error
	DeleteSource(ctx context.Context, tenantID, id string) error
	// AddRejection records a refused request and keeps only the newest
	// keep rejections of its source.
	AddRejection(ctx context.Context, r Rejection, keep int) error
	ListRejections(ctx context.Context, tenantID, sourceID string, p Page) ([]Rejection, error)
}

// Subscriptions route events to destinations other than endpoints.
type Subscriptions interface {
	CreateSubscription(ctx context.Context, sub Subscription) error
	GetSubscription(ctx context.Context, tenantID, id string) (Subscription, error)
	ListSubscriptions(ctx context.Context, tenantID string, p Page) ([]Subscription, error)
	// EnabledSubscriptions lists every enabled subscription of a tenant.
	EnabledSubscriptions(ctx context.Context, tenantID string) ([]Subscription, error)
	UpdateSubscription(ctx context.Context, sub Subscription) error
	DeleteSubscription(ctx context.Context, tenantID, id string) error
}

// Collections are the synced data sets: their records, changes and
// mirror cursors.
type Collections interface {
	CreateCollection(ctx context.Context, c Collection) error
	GetCollection(ctx context.Context, tenantID, name string) (Collection, error)
	ListCollections(ctx context.Context, tenantID string) ([]Collection, error)
	// UpdateCollection replaces Spec and Secret and sets UpdatedAt.
	UpdateCollection(ctx context.Context, c Collection) error
	// DeleteCollection deletes a collection with its records and changes.
	DeleteCollection(ctx context.Context, tenantID, name string) error
	// ApplyRecords runs each update against the current record in one
	// transaction, storing the records Apply returns and a Change for each
	// (numbered by the collection's change counter). An update whose Apply
	// fails leaves its record untouched and does not abort the others. The
	// collection must exist (ErrNotFound otherwise).
	ApplyRecords(ctx context.Context, tenantID, collection string, ups []RecordUpdate) ([]RecordResult, error)
	// GetRecord returns a record or tombstone; ErrNotFound if never written.
	GetRecord(ctx context.Context, tenantID, collection, key string) (Record, error)
	ListRecords(ctx context.Context, tenantID, collection string, q RecordQuery) ([]Record, error)
	// ListChanges returns up to limit changes with Seq > after, in order.
	ListChanges(ctx context.Context, tenantID, collection string, after int64, limit int) ([]Change, error)
	// ListRecordChanges returns a record's history: up to limit changes
	// of key with Seq < before (before 0: from the newest), newest first.
	ListRecordChanges(ctx context.Context, tenantID, collection, key string, before int64, limit int) ([]Change, error)
	// GetMirrorState returns where a collection's mirror stands, with the
	// collection's LastSeq; a state never saved has only LastSeq.
	// ErrNotFound when the collection does not exist.
	GetMirrorState(ctx context.Context, tenantID, collection string) (MirrorState, error)
	// SaveMirrorState stores a mirror's state. For the same Target, Seq
	// never goes back (a slower writer cannot undo a faster one's
	// progress). ErrNotFound when the collection does not exist.
	SaveMirrorState(ctx context.Context, m MirrorState) error
}

// Workflows are the workflow versions, their runs and the runs' step
// logs.
type Workflows interface {
	// CreateWorkflow stores a new version (ErrConflict if the version
	// exists).
	CreateWorkflow(ctx context.Context, w Workflow) error
	// GetWorkflow returns a version; version 0 is the latest.
	GetWorkflow(ctx context.Context, tenantID, name string, version int) (Workflow, error)
	// ListWorkflows returns the latest version of each workflow, by name.
	ListWorkflows(ctx context.Context, tenantID string) ([]Workflow, error)
	// ListWorkflowVersions returns every version of a workflow, newest
	// first.
	ListWorkflowVersions(ctx context.Context, tenantID, name string) ([]Workflow, error)
	// SetWorkflowEnabled enables or disables every version of a workflow.
	SetWorkflowEnabled(ctx context.Context, tenantID, name string, enabled bool) error
	// DeleteWorkflow deletes all versions of a workflow; its runs stay.
	DeleteWorkflow(ctx context.Context, tenantID, name string) error
	// SaveRun writes a run (created when s.Rev is 0, else updated from
	// revision s.Rev to s.Rev+1), its step log entries, new tasks and the
	// result of the attempt that made it in one transaction.
	SaveRun(ctx context.Context, s RunSave) error
	GetRun(ctx context.Context, tenantID, id string) (Run, error)
	ListRuns(ctx context.Context, tenantID string, q RunQuery) ([]Run, error)
	// WaitingRuns lists a tenant's runs with status waiting and a
	// WaitEvent, for routing events to wait_for steps; their State is
	// not loaded.
	WaitingRuns(ctx context.Context, tenantID string) ([]Run, error)
	// WaitingRunsFor lists a tenant's runs waiting with a correlation key
	// and value (WaitKey, WaitValue), oldest first, without their State.
	WaitingRunsFor(ctx context.Context, tenantID, key, value string) ([]Run, error)
	// ListeningRuns lists the listens (RunSave.Listens) of a tenant's
	// runs that have not ended (running, waiting, queued), by run and
	// index, each with its run's EventID.
	ListeningRuns(ctx context.Context, tenantID string) ([]RunListen, error)
	// BufferEvent keeps an event for the keyed waits that start later; a
	// second call for the same event, key and value changes nothing.
	BufferEvent(ctx context.Context, b BufferedEvent) error
	// BufferedEvents lists the events kept for a key and value that were
	// accepted at or after since, oldest first, at most MaxBuffered.
	BufferedEvents(ctx context.Context, tenantID, key, value string, since time.Time) ([]BufferedEvent, error)
	// PruneRuns deletes up to limit runs that ended (succeeded, failed,
	// cancelled) before cutoff, with their step logs, and up to limit
	// buffered events accepted before cutoff, and returns how many rows
	// it deleted.
	PruneRuns(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// ListRunSteps returns a run's step log, by seq.
	ListRunSteps(ctx context.Context, tenantID, runID string) ([]RunStep, error)
	// ListRunAttempts returns every attempt of a run's steps, by seq then
	// attempt: each as SaveRun last wrote it for that attempt, with
	// Attempts the attempt's number. (The step log keeps a step's last
	// attempt only.)
	ListRunAttempts(ctx context.Context, tenantID, runID string) ([]RunStep, error)

	// PlanSchedule stores when a workflow's schedule is next due, unless
	// a row for the same tenant, workflow and key exists: a schedule
	// planned before keeps its time (and so its missed runs).
	PlanSchedule(ctx context.Context, s Schedule) error
	// ListSchedules lists a tenant's schedules by workflow and key.
	ListSchedules(ctx context.Context, tenantID string) ([]Schedule, error)
	// DeleteSchedule forgets a schedule (none: no error).
	DeleteSchedule(ctx context.Context, tenantID, workflow, key string) error
	// DueSchedules lists up to limit schedules of every tenant due at or
	// before now, the earliest first.
	DueSchedules(ctx context.Context, now time.Time, limit int) ([]Schedule, error)
	// AdvanceSchedule moves a schedule from s.NextAt to next, only while
	// it is still due at s.NextAt: of several nodes advancing the same
	// schedule from the same time, one gets true, the others false.
	AdvanceSchedule(ctx context.Context, s Schedule, next time.Time) (bool, error)

	// OldestQueued returns the id of the run queued longest for a slot of
	// a workflow's concurrency key (ErrNotFound: none).
	OldestQueued(ctx context.Context, tenantID, workflow, key string) (string, error)
	// Debounce records d as the latest event for its key (replacing the
	// one before) and adds t, the task that checks it when due, in one
	// transaction.
	Debounce(ctx context.Context, d Debounce, t Task) error
	// GetDebounce returns the latest event recorded for a key.
	GetDebounce(ctx context.Context, tenantID, workflow, key string) (Debounce, error)
	// ClearDebounce forgets a key's record while it is still d's event
	// (a later one stays).
	ClearDebounce(ctx context.Context, d Debounce) error
}

// Content is the recipients, templates, notify rules, messages and
// tracked links of the content use case.
type Content interface {
	// UpsertRecipient creates or replaces a recipient (by tenant and id).
	UpsertRecipient(ctx context.Context, r Recipient) error
	GetRecipient(ctx context.Context, tenantID, id string) (Recipient, error)
	ListRecipients(ctx context.Context, tenantID string, p Page) ([]Recipient, error)
	DeleteRecipient(ctx context.Context, tenantID, id string) error

	// CreateTemplate stores a new version (ErrConflict if it exists).
	CreateTemplate(ctx context.Context, t Template) error
	// GetTemplate returns a version; version 0 is the latest.
	GetTemplate(ctx context.Context, tenantID, name string, version int) (Template, error)
	// ListTemplates returns the latest version of each template, by name.
	ListTemplates(ctx context.Context, tenantID string) ([]Template, error)
	DeleteTemplate(ctx context.Context, tenantID, name string) error

	CreateNotifyRule(ctx context.Context, r NotifyRule) error
	GetNotifyRule(ctx context.Context, tenantID, name string) (NotifyRule, error)
	ListNotifyRules(ctx context.Context, tenantID string) ([]NotifyRule, error)
	UpdateNotifyRule(ctx context.Context, r NotifyRule) error
	DeleteNotifyRule(ctx context.Context, tenantID, name string) error

	// SaveMessages inserts messages, their links and tasks in one
	// transaction (ErrConflict if a message id exists).
	SaveMessages(ctx context.Context, ms []Message, links []Link, tasks []Task) error
	// UpdateMessage replaces a message's mutable fields (status, subject,
	// text, html, sent_at, attempts, error, read, archived, page fields,
	// digest key, send_at, updated_at).
	UpdateMessage(ctx context.Context, m Message) error
	GetMessage(ctx context.Context, tenantID, id string) (Message, error)
	ListMessages(ctx context.Context, tenantID string, q MessageQuery) ([]Message, error)
	// DigestMessages lists the messages of a digest, oldest first.
	DigestMessages(ctx context.Context, tenantID, digestKey string) ([]Message, error)
	// CountUnread counts a recipient's unread, unarchived inbox messages.
	CountUnread(ctx context.Context, tenantID, recipientID string) (int, error)
	// MessageByPage finds a message by its page token (any tenant).
	MessageByPage(ctx context.Context, token string) (Message, error)
	// GetLink finds a tracked link by token (any tenant).
	GetLink(ctx context.Context, token string) (Link, error)
}

// Events are the event log: accepting events with their tasks, reading
// and pruning them.
type Events interface {
	// AcceptEvents writes events and their tasks in one transaction. An event
	// whose idempotency key matches one of the same tenant created at or
	// after its IdempotentSince (or earlier in the same batch) is not
	// written; its Accepted reports the earlier event.
	AcceptEvents(ctx context.Context, evs []NewEvent) ([]Accepted, error)
	GetEvent(ctx context.Context, tenantID, id string) (event.Event, error)
	ListEvents(ctx context.Context, tenantID string, q EventQuery) ([]event.Event, error)
}

// Tasks are the engine's work: claims, leases, results and attempts.
type Tasks interface {
	// ClaimTasks leases up to c.Limit due tasks (status pending or
	// retrying, next_at <= c.Now, no live lease by the database's clock,
	// destination not in c.Exclude) to c.Owner for c.Lease and returns
	// them with their events and lease tokens, oldest due first.
	ClaimTasks(ctx context.Context, c Claim) ([]Task, error)
	// OldestUnfinished returns the oldest (by id) pending or retrying task
	// of a destination; ErrNotFound when there is none.
	OldestUnfinished(ctx context.Context, kind, destinationID string) (Task, error)
	// Prune deletes up to limit events created before cutoff whose tasks
	// are all finished, with their tasks and attempts, and returns how many
	// events it deleted.
	Prune(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// ExtendLeases renews, for d from the database's clock, the leases of
	// unfinished tasks still held under the given tokens, and returns the
	// ids of those whose token changed: another claim took them over. A
	// task being completed at that moment may be skipped; it is not lost.
	ExtendLeases(ctx context.Context, ls []TaskLease, d time.Duration) (lost []string, err error)
	// ResetLeases drops every lease. Only for a store that this process
	// alone uses (SQLite), at start-up, so a crashed run's work restarts at
	// once instead of after its leases expire.
	ResetLeases(ctx context.Context) error
	// ReleaseLeases drops every lease of unfinished tasks that owner holds
	// and returns how many it dropped: a node stopping, or starting again
	// under the same id after a crash, hands its claims over at once.
	ReleaseLeases(ctx context.Context, owner string) (int, error)
	// ReleaseTasks drops the leases of tasks that were claimed but not run,
	// where the token still matches.
	ReleaseTasks(ctx context.Context, ls []TaskLease) error
	// CompleteTasks records attempts and the tasks' next states in one
	// transaction, releasing their leases. A result is written only while
	// its task is unfinished, still holds the result's Token and has
	// Attempt.Number-1 attempts; the others change nothing and their task
	// ids are returned as stale: another node took the task over, or the
	// result was written already (a save retried after an error whose
	// commit had in fact landed).
	CompleteTasks(ctx context.Context, rs []TaskResult) (stale []string, err error)
	// Commit writes evs as AcceptEvents does and rs as CompleteTasks does,
	// in one transaction: the engine's group commit, so that events being
	// accepted and attempt results share one commit (one fsync). Either
	// may be empty. A failure writes neither; its errors are those of
	// AcceptEvents.
	Commit(ctx context.Context, evs []NewEvent, rs []TaskResult) (accepted []Accepted, stale []string, err error)
	// RequeueTasks makes tasks of a tenant due now, whatever their status,
	// and returns them with their events. With a positive lease they are
	// leased to owner for that long (a new token if owner is not their
	// last lease owner); with zero their lease is dropped and owner and
	// token kept, so an attempt running meanwhile still completes. Unknown
	// ids are skipped.
	RequeueTasks(ctx context.Context, tenantID string, ids []string, now time.Time, lease time.Duration, owner string) ([]Task, error)
	// AddTasks inserts new tasks for existing events (replay to new
	// destinations).
	AddTasks(ctx context.Context, ts []Task) error
	GetTask(ctx context.Context, tenantID, id string) (Task, error)
	ListTasks(ctx context.Context, tenantID string, q TaskQuery) ([]Task, error)
	ListAttempts(ctx context.Context, tenantID, taskID string) ([]Attempt, error)
	// Activity counts a tenant's events and finished tasks per minute of
	// a window, in the database (the dashboard's chart), reading at most
	// q.Limit of each: it needs event and task ids made by event.NewID.
	Activity(ctx context.Context, tenantID string, q ActivityQuery) (Activity, error)
	// PendingTasks counts tasks not yet finished (for metrics).
	PendingTasks(ctx context.Context) (int, error)
}
