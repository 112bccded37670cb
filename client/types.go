package client

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
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
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
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"`
	Admin     bool      `json:"admin"`
	Key       string    `json:"key,omitempty"`
	CreatedAt time.Time `json:"created_at"`
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
	CreatedAt   time.Time       `json:"created_at"`
}

// Endpoint is an outgoing HTTP destination.
type Endpoint struct {
	ID          string            `json:"id"`
	URL         string            `json:"url"`
	Description string            `json:"description,omitempty"`
	EventTypes  []string          `json:"event_types"`
	Filter      string            `json:"filter,omitempty"`
	Format      string            `json:"format"`
	Headers     map[string]string `json:"headers,omitempty"`
	// Timeout is a Go duration string such as "15s".
	Timeout string `json:"timeout"`
	// RetrySchedule lists the delays before each retry as Go durations.
	RetrySchedule  []string  `json:"retry_schedule"`
	Enabled        bool      `json:"enabled"`
	DisabledReason string    `json:"disabled_reason,omitempty"`
	Secret         string    `json:"secret,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// EndpointCreate is the body of POST /v1/endpoints. Nil fields take defaults.
type EndpointCreate struct {
	URL           string            `json:"url"`
	Description   string            `json:"description,omitempty"`
	EventTypes    []string          `json:"event_types,omitempty"`
	Filter        string            `json:"filter,omitempty"`
	Format        string            `json:"format,omitempty"`
	Headers       map[string]string `json:"headers,omitempty"`
	Timeout       string            `json:"timeout,omitempty"`
	RetrySchedule []string          `json:"retry_schedule,omitempty"`
	Enabled       *bool             `json:"enabled,omitempty"`
}

// EndpointUpdate is the body of PATCH /v1/endpoints/{id}; only non-nil
// fields change.
type EndpointUpdate struct {
	URL           *string            `json:"url,omitempty"`
	Description   *string            `json:"description,omitempty"`
	EventTypes    *[]string          `json:"event_types,omitempty"`
	Filter        *string            `json:"filter,omitempty"`
	Format        *string            `json:"format,omitempty"`
	Headers       *map[string]string `json:"headers,omitempty"`
	Timeout       *string            `json:"timeout,omitempty"`
	RetrySchedule *[]string          `json:"retry_schedule,omitempty"`
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
	OccurredAt     time.Time       `json:"occurred_at"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
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
	ID            string     `json:"id"`
	EventID       string     `json:"event_id"`
	EventType     string     `json:"event_type"`
	EndpointID    string     `json:"endpoint_id"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	// AttemptLog is set by GET /v1/deliveries/{id}, oldest first.
	AttemptLog []Attempt `json:"attempt_log,omitempty"`
}

// Attempt is one try of a delivery. Bodies are truncated to 4 KiB.
type Attempt struct {
	ID              string            `json:"id"`
	Number          int               `json:"number"`
	StartedAt       time.Time         `json:"started_at"`
	DurationMS      int64             `json:"duration_ms"`
	Outcome         string            `json:"outcome"`
	RequestURL      string            `json:"request_url,omitempty"`
	RequestHeaders  map[string]string `json:"request_headers,omitempty"`
	RequestBody     string            `json:"request_body,omitempty"`
	ResponseStatus  int               `json:"response_status,omitempty"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseBody    string            `json:"response_body,omitempty"`
	Error           string            `json:"error,omitempty"`
}

// Replay is the answer of POST /v1/events/{id}/replay.
type Replay struct {
	EventID    string   `json:"event_id"`
	Deliveries []string `json:"deliveries"`
}
