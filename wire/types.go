package wire

import (
	"encoding/json"
	"time"
)

// Error is the body of every non-2xx answer of the Hookline API:
// {"error": {"code", "message", "details"}}.
type Error struct {
	Status  int            `json:"-"`
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

func (e *Error) Error() string {
	return "hookline: " + e.Code + ": " + e.Message
}

// Page is one page of a list answer. NextCursor is empty on the last page.
type Page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// Tenant is an isolated account. Every resource belongs to exactly one.
type Tenant struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt Time   `json:"created_at"`
}

// TenantCreate is the body of POST /v1/tenants.
type TenantCreate struct {
	Name string `json:"name"`
}

// TenantCreated is the answer to POST /v1/tenants: the tenant and its first
// API key, whose Key is shown only this once.
type TenantCreated struct {
	Tenant Tenant `json:"tenant"`
	APIKey APIKey `json:"api_key"`
}

// APIKey is a tenant's API key. Key is set only in the answer that created it.
type APIKey struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Prefix    string `json:"prefix"`
	Admin     bool   `json:"admin"`
	Key       string `json:"key,omitempty"`
	CreatedAt Time   `json:"created_at"`
}

// APIKeyCreate is the body of POST /v1/api-keys.
type APIKeyCreate struct {
	Name string `json:"name"`
}

// EventType is a dotted event name with an optional JSON Schema for its data.
type EventType struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	CreatedAt   Time            `json:"created_at"`
}

// Endpoint is an outgoing destination: an HTTP server, or a message
// system (NATS JetStream, RabbitMQ, Redis Streams, Kafka) named by its
// URL. Its custom Headers are stored encrypted and shown by name, each
// value "redacted".
type Endpoint struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// URL is http(s), or nats://host/subject, amqp://host/exchange/key,
	// redis://host/stream or kafka://host/topic. Its password (or token)
	// is stored encrypted and shown as "redacted".
	URL         string            `json:"url"`
	Description string            `json:"description,omitempty"`
	EventTypes  []string          `json:"event_types"`
	Filter      string            `json:"filter,omitempty"`
	Format      string            `json:"format"`
	Headers     map[string]string `json:"headers,omitempty"`
	// Timeout is a Go duration string such as "15s".
	Timeout string `json:"timeout"`
	// RetrySchedule lists the delays before each retry as Go durations.
	RetrySchedule []string `json:"retry_schedule"`
	// MaxInFlight bounds concurrent deliveries (0: the server default).
	MaxInFlight int `json:"max_in_flight,omitempty"`
	// RateLimit bounds deliveries per second (0: unlimited).
	RateLimit float64 `json:"rate_limit,omitempty"`
	// Ordered delivers one at a time in accept order (FIFO).
	Ordered        bool   `json:"ordered,omitempty"`
	Enabled        bool   `json:"enabled"`
	DisabledReason string `json:"disabled_reason,omitempty"`
	// Circuit is the endpoint's circuit breaker on the node that answered:
	// closed, open or half-open.
	Circuit string `json:"circuit,omitempty"`
	// FailingSince is when the endpoint started failing without a success
	// since; absent while healthy.
	FailingSince *Time  `json:"failing_since,omitempty"`
	Secret       string `json:"secret,omitempty"`
	CreatedAt    Time   `json:"created_at"`
	UpdatedAt    Time   `json:"updated_at"`
}

// EndpointCreate is the body of POST /v1/endpoints. Nil fields take defaults.
// Headers are sent with every delivery; they may carry credentials.
type EndpointCreate struct {
	Name string `json:"name,omitempty"`
	// URL is http(s), or nats://host/subject, amqp://host/exchange/key,
	// redis://host/stream or kafka://host/topic to publish to a message
	// system.
	URL           string            `json:"url"`
	Description   string            `json:"description,omitempty"`
	EventTypes    []string          `json:"event_types,omitempty"`
	Filter        string            `json:"filter,omitempty"`
	Format        string            `json:"format,omitempty"`
	Headers       map[string]string `json:"headers,omitempty"`
	Timeout       string            `json:"timeout,omitempty"`
	RetrySchedule []string          `json:"retry_schedule,omitempty"`
	MaxInFlight   int               `json:"max_in_flight,omitempty"`
	RateLimit     float64           `json:"rate_limit,omitempty"`
	Ordered       bool              `json:"ordered,omitempty"`
	Enabled       *bool             `json:"enabled,omitempty"`
}

// EndpointUpdate is the body of PATCH /v1/endpoints/{id}; only non-nil
// fields change. Headers replace the endpoint's; a value "redacted" (as
// GET shows it) keeps the current value of that header.
type EndpointUpdate struct {
	Name *string `json:"name,omitempty"`
	// URL replaces the endpoint's; a password (or token) "redacted", as
	// GET shows it, keeps the current one.
	URL           *string            `json:"url,omitempty"`
	Description   *string            `json:"description,omitempty"`
	EventTypes    *[]string          `json:"event_types,omitempty"`
	Filter        *string            `json:"filter,omitempty"`
	Format        *string            `json:"format,omitempty"`
	Headers       *map[string]string `json:"headers,omitempty"`
	Timeout       *string            `json:"timeout,omitempty"`
	RetrySchedule *[]string          `json:"retry_schedule,omitempty"`
	MaxInFlight   *int               `json:"max_in_flight,omitempty"`
	RateLimit     *float64           `json:"rate_limit,omitempty"`
	Ordered       *bool              `json:"ordered,omitempty"`
	Enabled       *bool              `json:"enabled,omitempty"`
}

// SecretRotate is the optional body of POST /v1/endpoints/{id}/rotate-secret.
type SecretRotate struct {
	// Grace is how long the previous secret keeps signing, as a Go duration;
	// default "24h".
	Grace string `json:"grace,omitempty"`
}

// Event is one entry of the event log.
type Event struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Source         string          `json:"source,omitempty"`
	Data           json.RawMessage `json:"data"`
	OccurredAt     Time            `json:"occurred_at"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	CreatedAt      Time            `json:"created_at"`
	// Headers are the request headers kept with a received event;
	// credentials among them are "redacted".
	Headers map[string]string `json:"headers,omitempty"`
	// RawBody is the body of a received event as it arrived; set by GET
	// /v1/events/{id}. RawBodyBase64 replaces it when the body is not UTF-8.
	RawBody       string `json:"raw_body,omitempty"`
	RawBodyBase64 string `json:"raw_body_base64,omitempty"`
	// Deliveries is the number of deliveries the event created when it was
	// accepted; set only in the answer of POST /v1/events.
	Deliveries *int `json:"deliveries,omitempty"`
	// Duplicate is true when the idempotency key matched an earlier event,
	// which is returned instead of creating a new one.
	Duplicate bool `json:"duplicate,omitempty"`
}

// EventCreate is the body of POST /v1/events.
type EventCreate struct {
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryRetrying  = "retrying"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// Delivery is one event on its way to one endpoint.
type Delivery struct {
	ID         string `json:"id"`
	EventID    string `json:"event_id"`
	EventType  string `json:"event_type"`
	EndpointID string `json:"endpoint_id"`
	// Kind is the destination kind: "endpoint", "forward" (EndpointID is
	// the subscription), "sync" (EndpointID is the subscription).
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Attempts      int    `json:"attempts"`
	NextAttemptAt *Time  `json:"next_attempt_at,omitempty"`
	LastError     string `json:"last_error,omitempty"`
	CreatedAt     Time   `json:"created_at"`
	UpdatedAt     Time   `json:"updated_at"`
	// AttemptLog is set by GET /v1/deliveries/{id}, oldest first.
	AttemptLog []Attempt `json:"attempt_log,omitempty"`
}

// Attempt is one try of a delivery. Bodies are truncated to 4 KiB. In the
// headers, the values of credentials, signatures and the endpoint's custom
// headers are "redacted".
type Attempt struct {
	ID         string `json:"id"`
	Number     int    `json:"number"`
	StartedAt  Time   `json:"started_at"`
	DurationMS int64  `json:"duration_ms"`
	Outcome    string `json:"outcome"`
	// Kind is what the attempt ran: "http", "publish" (to a message
	// system; Detail is its acknowledgement), or "sync", "workflow",
	// "notify" or "message" for those run in the server; omitted for
	// attempts logged before it was recorded.
	Kind            string            `json:"kind,omitempty"`
	RequestURL      string            `json:"request_url,omitempty"`
	RequestHeaders  map[string]string `json:"request_headers,omitempty"`
	RequestBody     string            `json:"request_body,omitempty"`
	ResponseStatus  int               `json:"response_status,omitempty"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	// ResponseBody of an attempt run in the server is its Detail as a
	// string, as before Detail was added.
	ResponseBody string `json:"response_body,omitempty"`
	Error        string `json:"error,omitempty"`
	// Detail is what an attempt run in the server decided, a JSON object
	// of its kind; omitted for HTTP attempts and for attempts logged
	// before it was recorded (their ResponseBody holds it).
	Detail json.RawMessage `json:"detail,omitempty"`
}

// Replay is the answer of POST /v1/events/{id}/replay.
type Replay struct {
	EventID    string   `json:"event_id"`
	Deliveries []string `json:"deliveries"`
}

// Verification is how a source checks incoming requests. Secrets are
// write-only: answers show them masked.
type Verification struct {
	// Kind is standard-webhooks, github, stripe, shopify, slack, hmac,
	// basic, api-key or none.
	Kind    string   `json:"kind"`
	Secrets []string `json:"secrets,omitempty"`
	// Tolerance is the accepted clock skew of signed timestamps, e.g. "5m".
	Tolerance       string `json:"tolerance,omitempty"`
	Algorithm       string `json:"algorithm,omitempty"`
	Header          string `json:"header,omitempty"`
	Prefix          string `json:"prefix,omitempty"`
	Encoding        string `json:"encoding,omitempty"`
	SignedContent   string `json:"signed_content,omitempty"`
	TimestampHeader string `json:"timestamp_header,omitempty"`
	QueryParam      string `json:"query_param,omitempty"`
}

// SourceEventType picks a received event's type; see docs/receiving.md.
type SourceEventType struct {
	Fixed      string `json:"fixed,omitempty"`
	Header     string `json:"header,omitempty"`
	Path       string `json:"path,omitempty"`
	Expression string `json:"expression,omitempty"`
	Prefix     string `json:"prefix,omitempty"`
}

// SourceDedup says how duplicate deliveries are recognised.
type SourceDedup struct {
	Disabled bool     `json:"disabled,omitempty"`
	Header   string   `json:"header,omitempty"`
	Paths    []string `json:"paths,omitempty"`
	// Window is a Go duration; default "168h".
	Window string `json:"window,omitempty"`
}

// SourceResponse is the answer sent to the sender of an accepted webhook.
type SourceResponse struct {
	Status      int    `json:"status,omitempty"`
	Body        string `json:"body,omitempty"`
	ContentType string `json:"content_type,omitempty"`
}

// SourceHandshake answers URL-validation requests.
type SourceHandshake struct {
	EchoQuery    string `json:"echo_query,omitempty"`
	EchoBodyPath string `json:"echo_body_path,omitempty"`
}

// Source is an incoming webhook URL, POST /in/{name}.
type Source struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	Path         string          `json:"path"`
	Verification Verification    `json:"verification"`
	EventType    SourceEventType `json:"event_type,omitzero"`
	Dedup        SourceDedup     `json:"dedup,omitzero"`
	Response     SourceResponse  `json:"response,omitzero"`
	Handshake    SourceHandshake `json:"handshake,omitzero"`
	KeepHeaders  []string        `json:"keep_headers,omitempty"`
	MaxBodyBytes int64           `json:"max_body_bytes,omitempty"`
	// Postgres is set on a source that captures PostgreSQL changes; its
	// DSN is shown redacted.
	Postgres  *SourcePostgres `json:"postgres,omitempty"`
	Enabled   bool            `json:"enabled"`
	CreatedAt Time            `json:"created_at"`
	UpdatedAt Time            `json:"updated_at"`
}

// SourceCreate is the body of POST /v1/sources and PATCH /v1/sources/{id}
// (PATCH replaces the groups it sets: verification, event_type, dedup,
// response, handshake).
type SourceCreate struct {
	Name         string           `json:"name,omitempty"`
	Description  *string          `json:"description,omitempty"`
	Verification *Verification    `json:"verification,omitempty"`
	EventType    *SourceEventType `json:"event_type,omitempty"`
	Dedup        *SourceDedup     `json:"dedup,omitempty"`
	Response     *SourceResponse  `json:"response,omitempty"`
	Handshake    *SourceHandshake `json:"handshake,omitempty"`
	KeepHeaders  *[]string        `json:"keep_headers,omitempty"`
	MaxBodyBytes *int64           `json:"max_body_bytes,omitempty"`
	// Postgres makes a source that captures changes of PostgreSQL tables
	// as db.{table}.inserted|updated|deleted events, instead of receiving
	// HTTP requests; it takes no verification.
	Postgres *SourcePostgres `json:"postgres,omitempty"`
	Enabled  *bool           `json:"enabled,omitempty"`
}

// SourcePostgres is what a postgres source watches. DSN is secret: stored
// encrypted, shown redacted; on PATCH an empty DSN keeps the current one.
type SourcePostgres struct {
	DSN    string   `json:"dsn,omitempty"`
	Tables []string `json:"tables"`
	// Schema holds the outbox table and trigger function in the watched
	// database; default "hookline".
	Schema string `json:"schema,omitempty"`
}

// Rejection is a refused request to a source, kept for debugging (headers
// and body truncated).
type Rejection struct {
	ID         string            `json:"id"`
	CreatedAt  Time              `json:"created_at"`
	Reason     string            `json:"reason"`
	Method     string            `json:"method"`
	RemoteAddr string            `json:"remote_addr"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// Subscription routes matching events to a destination; kind "forward"
// relays them to an endpoint (a webhook gateway).
type Subscription struct {
	ID          string   `json:"id"`
	Name        string   `json:"name,omitempty"`
	EventTypes  []string `json:"event_types"`
	Filter      string   `json:"filter,omitempty"`
	Destination SubDest  `json:"destination"`
	Transform   string   `json:"transform,omitempty"`
	Enabled     bool     `json:"enabled"`
	// Circuit is the subscription's circuit breaker on the node that
	// answered: closed, open or half-open.
	Circuit   string `json:"circuit,omitempty"`
	CreatedAt Time   `json:"created_at"`
	UpdatedAt Time   `json:"updated_at"`
}

// SubDest is a subscription's destination.
type SubDest struct {
	Kind       string `json:"kind"`
	EndpointID string `json:"endpoint_id,omitempty"`
	// Collection is the collection a "sync" subscription applies events to.
	Collection string `json:"collection,omitempty"`
}

// SubscriptionCreate is the body of POST /v1/subscriptions and PATCH
// /v1/subscriptions/{id}.
type SubscriptionCreate struct {
	Name        *string   `json:"name,omitempty"`
	EventTypes  *[]string `json:"event_types,omitempty"`
	Filter      *string   `json:"filter,omitempty"`
	Destination *SubDest  `json:"destination,omitempty"`
	Transform   *string   `json:"transform,omitempty"`
	Enabled     *bool     `json:"enabled,omitempty"`
}

// Declaration is a declarative set of resources, as written in
// hookline.yaml and applied with POST /v1/apply. Resources are identified
// by name; applying creates what is missing and updates what differs.
type Declaration struct {
	EventTypes    []EventType        `json:"event_types,omitempty"`
	Endpoints     []EndpointDecl     `json:"endpoints,omitempty"`
	Sources       []SourceCreate     `json:"sources,omitempty"`
	Subscriptions []SubscriptionDecl `json:"subscriptions,omitempty"`
	Collections   []CollectionSpec   `json:"collections,omitempty"`
	Workflows     []WorkflowSpec     `json:"workflows,omitempty"`
	Templates     []TemplateSpec     `json:"templates,omitempty"`
	Recipients    []Recipient        `json:"recipients,omitempty"`
	NotifyRules   []NotifyRule       `json:"notify_rules,omitempty"`
}

// EndpointDecl declares an endpoint by name. Secret, when set, is its
// signing secret ("whsec_…"); otherwise one is generated on creation.
type EndpointDecl struct {
	EndpointCreate `json:",inline"`
	Secret         string `json:"secret,omitempty"`
}

// SubscriptionDecl declares a subscription by name; its destination names
// an endpoint by name.
type SubscriptionDecl struct {
	Name        string   `json:"name"`
	EventTypes  []string `json:"event_types,omitempty"`
	Filter      string   `json:"filter,omitempty"`
	Destination DeclDest `json:"destination"`
	Transform   string   `json:"transform,omitempty"`
	Enabled     *bool    `json:"enabled,omitempty"`
}

// DeclDest is a declared subscription's destination.
type DeclDest struct {
	Kind       string `json:"kind"`
	Endpoint   string `json:"endpoint,omitempty"`
	Collection string `json:"collection,omitempty"`
}

// ApplyResult is the answer of POST /v1/apply.
type ApplyResult struct {
	DryRun  bool     `json:"dry_run,omitempty"`
	Changes []Change `json:"changes"`
}

// Change is what applying did to one resource: created, updated or
// unchanged.
type Change struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Action string `json:"action"`
	ID     string `json:"id,omitempty"`
	// Secret is the generated signing secret of a created endpoint.
	Secret string `json:"secret,omitempty"`
}

// EventBatch is the body of POST /v1/events/batch: up to 1,000 events,
// committed together.
type EventBatch struct {
	Events []EventCreate `json:"events"`
}

// BatchResult is the answer of POST /v1/events/batch, one result per
// event in request order.
type BatchResult struct {
	Results []BatchItem `json:"results"`
}

// BatchItem is the outcome of one event of a batch: accepted (ID set),
// duplicate (ID of the earlier event and Duplicate), or refused (Error).
type BatchItem struct {
	ID         string `json:"id,omitempty"`
	Duplicate  bool   `json:"duplicate,omitempty"`
	Deliveries *int   `json:"deliveries,omitempty"`
	Error      *Error `json:"error,omitempty"`
}

// Recover is the body of POST /v1/endpoints/{id}/recover.
type Recover struct {
	// Since is the earliest time of failed deliveries to re-queue.
	Since time.Time `json:"since"`
}

// Recovered is the answer of POST /v1/endpoints/{id}/recover.
type Recovered struct {
	Deliveries []string `json:"deliveries"`
}
