// Package client is the Go client of the Hookline REST API.
//
// Create a Client with New and call one method per API operation. Every
// non-2xx answer is returned as an *Error carrying the HTTP status and the
// API's stable error code.
package client

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/internal/clip"
)

// DefaultTimeout bounds each request of a Client built without
// WithHTTPClient.
const DefaultTimeout = 30 * time.Second

// DefaultUserAgent is the User-Agent of a Client built without WithUserAgent.
const DefaultUserAgent = "hookline-go"

const (
	// maxErrorBody is how much of a non-2xx answer is read, in bytes.
	maxErrorBody = 64 << 10
	// maxErrorMessage is how much of a body that is not an API error is kept
	// as the message, in bytes.
	maxErrorMessage = 512
)

// errEmptyID is returned, before any request, by methods given an empty id.
var errEmptyID = errors.New("empty id")

// errEmptyKey is returned, before any request, by methods given an empty
// record key.
var errEmptyKey = errors.New("empty record key")

// Client calls the Hookline REST API with one API key. It is safe for
// concurrent use.
type Client struct {
	baseURL    string
	apiKey     string
	httpClient *http.Client
	userAgent  string
}

// Option configures a Client in New.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests with hc.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.httpClient = hc }
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a Client for the API at baseURL (such as
// "http://127.0.0.1:8080") that authenticates with apiKey as a bearer token.
func New(baseURL, apiKey string, opts ...Option) *Client {
	c := &Client{
		baseURL:    strings.TrimRight(baseURL, "/"),
		apiKey:     apiKey,
		httpClient: &http.Client{Timeout: DefaultTimeout},
		userAgent:  DefaultUserAgent,
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// ListOptions selects one page of a list.
type ListOptions struct {
	// Limit is the page size; zero takes the server's default.
	Limit int
	// Cursor is the NextCursor of the previous page; empty for the first.
	Cursor string
}

func (o ListOptions) addTo(q url.Values) {
	if o.Limit != 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
}

// filters is the query of a list's filters, given as name and value in
// pairs; a filter whose value is empty is left out.
func filters(pairs ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	return q
}

// timeFilter is t as a filter value: RFC 3339 in UTC, empty for the zero
// time.
func timeFilter(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// EventListOptions filters ListEvents. Zero fields do not filter.
type EventListOptions struct {
	// Type is an exact event type.
	Type string
	// Source keeps events received by one source ("api" for events sent
	// through the API).
	Source string
	// After and Before bound the events' creation time.
	After, Before time.Time
	ListOptions
}

// DeliveryListOptions filters ListDeliveries. Empty fields do not filter.
type DeliveryListOptions struct {
	EndpointID string
	EventID    string
	// Status is one of DeliveryPending, DeliveryRetrying, DeliverySucceeded
	// and DeliveryFailed.
	Status string
	ListOptions
}

// CreateTenant creates a tenant and its first API key. It needs an admin key.
func (c *Client) CreateTenant(ctx context.Context, in TenantCreate) (*TenantCreated, error) {
	return doJSON[TenantCreated](ctx, c, call{action: "create tenant", method: http.MethodPost, path: "/v1/tenants", body: in})
}

// CreateAPIKey creates an API key of the caller's tenant. The answer's Key is
// shown only this once.
func (c *Client) CreateAPIKey(ctx context.Context, in APIKeyCreate) (*APIKey, error) {
	return doJSON[APIKey](ctx, c, call{action: "create api key", method: http.MethodPost, path: "/v1/api-keys", body: in})
}

// ListAPIKeys returns every API key of the caller's tenant, following
// cursors across pages.
func (c *Client) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	return listAll[APIKey](ctx, c, call{action: "list api keys", method: http.MethodGet, path: "/v1/api-keys"})
}

// DeleteAPIKey revokes the API key id.
func (c *Client) DeleteAPIKey(ctx context.Context, id string) error {
	return c.do(ctx, call{action: "delete api key", method: http.MethodDelete, path: "/v1/api-keys/{id}", id: id}, nil)
}

// CreateEventType declares an event type.
func (c *Client) CreateEventType(ctx context.Context, in EventType) (*EventType, error) {
	return doJSON[EventType](ctx, c, call{action: "create event type", method: http.MethodPost, path: "/v1/event-types", body: in})
}

// ListEventTypes returns every event type, following cursors across pages.
func (c *Client) ListEventTypes(ctx context.Context) ([]EventType, error) {
	return listAll[EventType](ctx, c, call{action: "list event types", method: http.MethodGet, path: "/v1/event-types"})
}

// CreateEndpoint creates an endpoint. The answer's Secret is the signing
// secret, shown only this once.
func (c *Client) CreateEndpoint(ctx context.Context, in EndpointCreate) (*Endpoint, error) {
	return doJSON[Endpoint](ctx, c, call{action: "create endpoint", method: http.MethodPost, path: "/v1/endpoints", body: in})
}

// GetEndpoint returns the endpoint id.
func (c *Client) GetEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	return doJSON[Endpoint](ctx, c, call{action: "get endpoint", method: http.MethodGet, path: "/v1/endpoints/{id}", id: id})
}

// ListEndpoints returns one page of endpoints.
func (c *Client) ListEndpoints(ctx context.Context, opts ListOptions) (*Page[Endpoint], error) {
	return listPage[Endpoint](ctx, c, opts, call{action: "list endpoints", path: "/v1/endpoints"})
}

// UpdateEndpoint changes the non-nil fields of in on the endpoint id and
// returns the result.
func (c *Client) UpdateEndpoint(ctx context.Context, id string, in EndpointUpdate) (*Endpoint, error) {
	return doJSON[Endpoint](ctx, c, call{action: "update endpoint", method: http.MethodPatch, path: "/v1/endpoints/{id}", id: id, body: in})
}

// DeleteEndpoint deletes the endpoint id.
func (c *Client) DeleteEndpoint(ctx context.Context, id string) error {
	return c.do(ctx, call{action: "delete endpoint", method: http.MethodDelete, path: "/v1/endpoints/{id}", id: id}, nil)
}

// RotateEndpointSecret gives the endpoint id a new signing secret, returned
// once in the answer's Secret; the previous one keeps signing for in.Grace.
func (c *Client) RotateEndpointSecret(ctx context.Context, id string, in SecretRotate) (*Endpoint, error) {
	return doJSON[Endpoint](ctx, c, call{action: "rotate endpoint secret", method: http.MethodPost, path: "/v1/endpoints/{id}/rotate-secret", id: id, body: in})
}

// SendEvent publishes an event. When in.IdempotencyKey is set it is also sent
// as the Idempotency-Key header, and a repeat returns the earlier event with
// Duplicate set.
func (c *Client) SendEvent(ctx context.Context, in EventCreate) (*Event, error) {
	r := call{action: "send event", method: http.MethodPost, path: "/v1/events", body: in}
	if in.IdempotencyKey != "" {
		r.header = http.Header{"Idempotency-Key": {in.IdempotencyKey}}
	}
	return doJSON[Event](ctx, c, r)
}

// SendEvents publishes up to 1,000 events in one request and commit; each
// gets its own result (accepted, duplicate, or refused with an error).
func (c *Client) SendEvents(ctx context.Context, in EventBatch) (*BatchResult, error) {
	return doJSON[BatchResult](ctx, c, call{action: "send events", method: http.MethodPost, path: "/v1/events/batch", body: in})
}

// RecoverEndpoint re-queues every failed delivery of endpoint id updated
// since in.Since, oldest first.
func (c *Client) RecoverEndpoint(ctx context.Context, id string, in Recover) (*Recovered, error) {
	return doJSON[Recovered](ctx, c, call{action: "recover endpoint", method: http.MethodPost, path: "/v1/endpoints/{id}/recover", id: id, body: in})
}

// GetEvent returns the event id.
func (c *Client) GetEvent(ctx context.Context, id string) (*Event, error) {
	return doJSON[Event](ctx, c, call{action: "get event", method: http.MethodGet, path: "/v1/events/{id}", id: id})
}

// ListEvents returns one page of events.
func (c *Client) ListEvents(ctx context.Context, opts EventListOptions) (*Page[Event], error) {
	q := filters("type", opts.Type, "source", opts.Source, "after", timeFilter(opts.After), "before", timeFilter(opts.Before))
	return listPage[Event](ctx, c, opts.ListOptions, call{action: "list events", path: "/v1/events", query: q})
}

// ReplayEvent sends the event id again to every endpoint that matches it now.
func (c *Client) ReplayEvent(ctx context.Context, id string) (*Replay, error) {
	return doJSON[Replay](ctx, c, call{action: "replay event", method: http.MethodPost, path: "/v1/events/{id}/replay", id: id})
}

// ListDeliveries returns one page of deliveries.
func (c *Client) ListDeliveries(ctx context.Context, opts DeliveryListOptions) (*Page[Delivery], error) {
	q := filters("endpoint_id", opts.EndpointID, "event_id", opts.EventID, "status", opts.Status)
	return listPage[Delivery](ctx, c, opts.ListOptions, call{action: "list deliveries", path: "/v1/deliveries", query: q})
}

// GetDelivery returns the delivery id with its attempt log.
func (c *Client) GetDelivery(ctx context.Context, id string) (*Delivery, error) {
	return doJSON[Delivery](ctx, c, call{action: "get delivery", method: http.MethodGet, path: "/v1/deliveries/{id}", id: id})
}

// RetryDelivery schedules the delivery id for an immediate new attempt.
func (c *Client) RetryDelivery(ctx context.Context, id string) (*Delivery, error) {
	return doJSON[Delivery](ctx, c, call{action: "retry delivery", method: http.MethodPost, path: "/v1/deliveries/{id}/retry", id: id})
}

// CreateSource creates a source: an incoming webhook URL, POST /in/{name}.
func (c *Client) CreateSource(ctx context.Context, in SourceCreate) (*Source, error) {
	return doJSON[Source](ctx, c, call{action: "create source", method: http.MethodPost, path: "/v1/sources", body: in})
}

// GetSource returns the source id. Its secrets are masked.
func (c *Client) GetSource(ctx context.Context, id string) (*Source, error) {
	return doJSON[Source](ctx, c, call{action: "get source", method: http.MethodGet, path: "/v1/sources/{id}", id: id})
}

// ListSources returns one page of sources.
func (c *Client) ListSources(ctx context.Context, opts ListOptions) (*Page[Source], error) {
	return listPage[Source](ctx, c, opts, call{action: "list sources", path: "/v1/sources"})
}

// UpdateSource changes the source id: each group in sets (verification,
// event_type, dedup, response, handshake) replaces the source's whole group.
func (c *Client) UpdateSource(ctx context.Context, id string, in SourceCreate) (*Source, error) {
	return doJSON[Source](ctx, c, call{action: "update source", method: http.MethodPatch, path: "/v1/sources/{id}", id: id, body: in})
}

// DeleteSource deletes the source id; its URL answers 404 from then on.
func (c *Client) DeleteSource(ctx context.Context, id string) error {
	return c.do(ctx, call{action: "delete source", method: http.MethodDelete, path: "/v1/sources/{id}", id: id}, nil)
}

// ListRejections returns one page of the requests the source sourceID
// refused, newest first.
func (c *Client) ListRejections(ctx context.Context, sourceID string, opts ListOptions) (*Page[Rejection], error) {
	return listPage[Rejection](ctx, c, opts, call{action: "list rejections", path: "/v1/sources/{id}/rejections", id: sourceID})
}

// CreateSubscription creates a subscription.
func (c *Client) CreateSubscription(ctx context.Context, in SubscriptionCreate) (*Subscription, error) {
	return doJSON[Subscription](ctx, c, call{action: "create subscription", method: http.MethodPost, path: "/v1/subscriptions", body: in})
}

// GetSubscription returns the subscription id.
func (c *Client) GetSubscription(ctx context.Context, id string) (*Subscription, error) {
	return doJSON[Subscription](ctx, c, call{action: "get subscription", method: http.MethodGet, path: "/v1/subscriptions/{id}", id: id})
}

// ListSubscriptions returns one page of subscriptions.
func (c *Client) ListSubscriptions(ctx context.Context, opts ListOptions) (*Page[Subscription], error) {
	return listPage[Subscription](ctx, c, opts, call{action: "list subscriptions", path: "/v1/subscriptions"})
}

// UpdateSubscription changes the non-nil fields of in on the subscription
// id and returns the result.
func (c *Client) UpdateSubscription(ctx context.Context, id string, in SubscriptionCreate) (*Subscription, error) {
	return doJSON[Subscription](ctx, c, call{action: "update subscription", method: http.MethodPatch, path: "/v1/subscriptions/{id}", id: id, body: in})
}

// DeleteSubscription deletes the subscription id.
func (c *Client) DeleteSubscription(ctx context.Context, id string) error {
	return c.do(ctx, call{action: "delete subscription", method: http.MethodDelete, path: "/v1/subscriptions/{id}", id: id}, nil)
}

// Apply makes the caller's tenant match d: resources are matched by name,
// created when missing and updated when they differ; resources not in d
// are left alone. With dryRun nothing changes and the answer tells what
// would. A declaration error is an *Error whose Details name the
// "resource" (such as "sources[1]"), its "name" and the "field".
func (c *Client) Apply(ctx context.Context, d Declaration, dryRun bool) (*ApplyResult, error) {
	var q url.Values
	if dryRun {
		q = url.Values{"dry_run": {"true"}}
	}
	return doJSON[ApplyResult](ctx, c, call{action: "apply", method: http.MethodPost, path: "/v1/apply", query: q, body: d})
}

// RecordListOptions filters ListRecords.
type RecordListOptions struct {
	// Filter is an expression over record and key that a record must
	// match, such as `record.plan == "pro"`.
	Filter string
	// IncludeDeleted also lists tombstones: records deleted at a version.
	IncludeDeleted bool
	ListOptions
}

// CreateCollection declares a collection.
func (c *Client) CreateCollection(ctx context.Context, in CollectionSpec) (*Collection, error) {
	return doJSON[Collection](ctx, c, call{action: "create collection", method: http.MethodPost, path: "/v1/collections", body: in})
}

// GetCollection returns the collection name. Its secrets are redacted.
func (c *Client) GetCollection(ctx context.Context, name string) (*Collection, error) {
	return doJSON[Collection](ctx, c, call{action: "get collection", method: http.MethodGet, path: "/v1/collections/{id}", id: name})
}

// ListCollections returns every collection.
func (c *Client) ListCollections(ctx context.Context) ([]Collection, error) {
	return listAll[Collection](ctx, c, call{action: "list collections", method: http.MethodGet, path: "/v1/collections"})
}

// ReplaceCollection replaces the spec of the collection in.Name; its
// records are kept.
func (c *Client) ReplaceCollection(ctx context.Context, in CollectionSpec) (*Collection, error) {
	return doJSON[Collection](ctx, c, call{action: "replace collection", method: http.MethodPut, path: "/v1/collections/{id}", id: in.Name, body: in})
}

// DeleteCollection deletes the collection name with its records.
func (c *Client) DeleteCollection(ctx context.Context, name string) error {
	return c.do(ctx, call{action: "delete collection", method: http.MethodDelete, path: "/v1/collections/{id}", id: name}, nil)
}

// GetRecord returns the record key of the collection name. A record that
// was deleted is an *Error with Status 410 and code "deleted", whose
// Details are the tombstone; one never written is a 404.
func (c *Client) GetRecord(ctx context.Context, name, key string) (*Record, error) {
	return doJSON[Record](ctx, c, call{action: "get record", method: http.MethodGet, path: "/v1/collections/{id}/records/{key}", id: name, key: key})
}

// ListRecords returns one page of the records of the collection name, in
// key order.
func (c *Client) ListRecords(ctx context.Context, name string, opts RecordListOptions) (*Page[Record], error) {
	q := filters("filter", opts.Filter)
	if opts.IncludeDeleted {
		q.Set("include_deleted", "true")
	}
	return listPage[Record](ctx, c, opts.ListOptions, call{action: "list records", path: "/v1/collections/{id}/records", id: name, query: q})
}

// WriteRecords applies up to 1,000 records to the collection name like
// upserts, with its key, version and map, as a backfill does; each gets
// its own result.
func (c *Client) WriteRecords(ctx context.Context, name string, in RecordsWrite) (*RecordsWritten, error) {
	return doJSON[RecordsWritten](ctx, c, call{action: "write records", method: http.MethodPost, path: "/v1/collections/{id}/records", id: name, body: in})
}

// ListChanges returns the changes of the collection name after the cursor
// after (empty: from the start), at most limit (zero: the server's
// default). With wait above zero the server holds the request up to wait
// (at most a minute) until a change comes; the client's timeout is
// extended by wait. The answer's Cursor is the next call's after.
func (c *Client) ListChanges(ctx context.Context, name, after string, limit int, wait time.Duration) (*Changes, error) {
	q := filters("after", after)
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if wait > 0 {
		q.Set("wait", wait.String())
	}
	return doJSON[Changes](ctx, c, call{action: "list changes", method: http.MethodGet, path: "/v1/collections/{id}/changes", id: name, query: q, wait: wait})
}

// RunListOptions filters ListRuns. Empty fields do not filter.
type RunListOptions struct {
	// Workflow is a workflow name.
	Workflow string
	// Status is one of running, waiting, succeeded, failed and cancelled.
	Status string
	// ParentRunID keeps the runs that run's parallel, foreach and call
	// steps started.
	ParentRunID string
	ListOptions
}

// SaveWorkflow saves spec as the latest version of the workflow spec.Name:
// it creates the workflow, adds a version when the spec differs from the
// latest, and otherwise changes nothing (Action tells which). A spec the
// server refuses is an *Error whose Details list the "errors", each with
// its "field" and "message".
func (c *Client) SaveWorkflow(ctx context.Context, spec WorkflowSpec) (*WorkflowSaved, error) {
	return doJSON[WorkflowSaved](ctx, c, call{action: "save workflow", method: http.MethodPost, path: "/v1/workflows", body: spec})
}

// SaveWorkflowYAML is SaveWorkflow for a spec written in YAML, sent as it
// is. The errors of a refused spec also carry the "line" of raw they are
// about.
func (c *Client) SaveWorkflowYAML(ctx context.Context, raw []byte) (*WorkflowSaved, error) {
	return doJSON[WorkflowSaved](ctx, c, call{action: "save workflow", method: http.MethodPost, path: "/v1/workflows", raw: raw, contentType: "application/yaml"})
}

// ListWorkflows returns every workflow at its latest version.
func (c *Client) ListWorkflows(ctx context.Context) ([]Workflow, error) {
	return listAll[Workflow](ctx, c, call{action: "list workflows", method: http.MethodGet, path: "/v1/workflows"})
}

// GetWorkflow returns the workflow name at version (zero: the latest) and
// the numbers of all its versions, newest first.
func (c *Client) GetWorkflow(ctx context.Context, name string, version int) (*Workflow, []int, error) {
	var q url.Values
	if version != 0 {
		q = url.Values{"version": {strconv.Itoa(version)}}
	}
	out, err := doJSON[WorkflowVersions](ctx, c, call{action: "get workflow", method: http.MethodGet, path: "/v1/workflows/{id}", id: name, query: q})
	if err != nil {
		return nil, nil, err
	}
	return &out.Workflow, out.Versions, nil
}

// SetWorkflowEnabled enables or disables the workflow name. A disabled
// workflow starts no run; its runs in progress go on.
func (c *Client) SetWorkflowEnabled(ctx context.Context, name string, enabled bool) (*Workflow, error) {
	body := WorkflowEnable{Enabled: &enabled}
	return doJSON[Workflow](ctx, c, call{action: "set workflow enabled", method: http.MethodPatch, path: "/v1/workflows/{id}", id: name, body: body})
}

// DeleteWorkflow deletes the workflow name with all its versions; its
// runs are kept.
func (c *Client) DeleteWorkflow(ctx context.Context, name string) error {
	return c.do(ctx, call{action: "delete workflow", method: http.MethodDelete, path: "/v1/workflows/{id}", id: name}, nil)
}

// ListRuns returns one page of workflow runs, newest first.
func (c *Client) ListRuns(ctx context.Context, opts RunListOptions) (*Page[Run], error) {
	q := filters("workflow", opts.Workflow, "status", opts.Status, "parent_run_id", opts.ParentRunID)
	return listPage[Run](ctx, c, opts.ListOptions, call{action: "list runs", path: "/v1/runs", query: q})
}

// StartRun starts a run of the workflow name by hand, on its latest
// version, with in.Input as the run's event.data (nil: {}). A repeated
// in.IdempotencyKey answers the run the first request started. A
// disabled workflow is a 409.
func (c *Client) StartRun(ctx context.Context, name string, in RunStart) (*Run, error) {
	return doJSON[Run](ctx, c, call{action: "start run", method: http.MethodPost, path: "/v1/workflows/{id}/runs", id: name, body: in})
}

// GetRun returns the run id with its step log.
func (c *Client) GetRun(ctx context.Context, id string) (*Run, error) {
	return doJSON[Run](ctx, c, call{action: "get run", method: http.MethodGet, path: "/v1/runs/{id}", id: id})
}

// RetryRun starts the failed run id again at the step that failed, on the
// version it started with. A run that has not failed is a 409.
func (c *Client) RetryRun(ctx context.Context, id string) (*Run, error) {
	return doJSON[Run](ctx, c, call{action: "retry run", method: http.MethodPost, path: "/v1/runs/{id}/retry", id: id})
}

// CancelRun cancels the run id. A run that has ended is a 409.
func (c *Client) CancelRun(ctx context.Context, id string) (*Run, error) {
	return doJSON[Run](ctx, c, call{action: "cancel run", method: http.MethodPost, path: "/v1/runs/{id}/cancel", id: id})
}

// CancelRuns cancels the running and waiting runs f selects, up to its
// limit; More in the answer says to call again.
func (c *Client) CancelRuns(ctx context.Context, f RunFilter) (*RunsChanged, error) {
	return doJSON[RunsChanged](ctx, c, call{action: "cancel runs", method: http.MethodPost, path: "/v1/runs/cancel", body: f})
}

// RetryRuns retries the failed runs f selects, up to its limit.
func (c *Client) RetryRuns(ctx context.Context, f RunFilter) (*RunsChanged, error) {
	return doJSON[RunsChanged](ctx, c, call{action: "retry runs", method: http.MethodPost, path: "/v1/runs/retry", body: f})
}

// call describes one API request.
type call struct {
	// action names the operation in transport errors ("get endpoint").
	action string
	method string
	// path may hold "{id}", replaced by the escaped id.
	path string
	id   string
	// key replaces "{key}" in path, escaped.
	key    string
	query  url.Values
	header http.Header
	// body, when not nil, is sent as JSON.
	body any
	// raw, when not nil, is sent as it is, with contentType.
	raw         []byte
	contentType string
	// wait is how long the server may hold the request (a long poll); it
	// is added to the HTTP client's timeout.
	wait time.Duration
}

// doJSON runs r and decodes its answer into a new T.
func doJSON[T any](ctx context.Context, c *Client, r call) (*T, error) {
	var out T
	if err := c.do(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// listPage runs the GET r of one page of T, with the limit and cursor of
// opts added to r's query.
func listPage[T any](ctx context.Context, c *Client, opts ListOptions, r call) (*Page[T], error) {
	if r.query == nil {
		r.query = url.Values{}
	}
	opts.addTo(r.query)
	r.method = http.MethodGet
	return doJSON[Page[T]](ctx, c, r)
}

// listAll runs r page after page until the last one and returns every item.
func listAll[T any](ctx context.Context, c *Client, r call) ([]T, error) {
	all := []T{}
	seen := map[string]bool{}
	for {
		page, err := doJSON[Page[T]](ctx, c, r)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Data...)
		// A cursor seen before would loop forever; treat it as the end.
		if page.NextCursor == "" || seen[page.NextCursor] {
			return all, nil
		}
		seen[page.NextCursor] = true
		r.query = url.Values{"cursor": {page.NextCursor}}
	}
}

// newRequest builds the HTTP request of r.
func (c *Client) newRequest(ctx context.Context, r call) (*http.Request, error) {
	path := r.path
	if strings.Contains(path, "{id}") {
		if r.id == "" {
			return nil, fmt.Errorf("%s: %w", r.action, errEmptyID)
		}
		path = strings.Replace(path, "{id}", url.PathEscape(r.id), 1)
	}
	if strings.Contains(path, "{key}") {
		if r.key == "" {
			return nil, fmt.Errorf("%s: %w", r.action, errEmptyKey)
		}
		path = strings.Replace(path, "{key}", url.PathEscape(r.key), 1)
	}
	u := c.baseURL + path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}

	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("%s: encode request: %w", r.action, err)
		}
		body = bytes.NewReader(b)
	}
	if r.raw != nil {
		body = bytes.NewReader(r.raw)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.action, err)
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", cmp.Or(r.contentType, "application/json"))
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return req, nil
}

// do sends r and decodes a 2xx answer into out, unless out is nil. A non-2xx
// answer is returned as an *Error, unwrapped.
func (c *Client) do(ctx context.Context, r call, out any) error {
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return err
	}
	hc := c.httpClient
	if r.wait > 0 && hc.Timeout > 0 {
		extended := *hc
		extended.Timeout += r.wait
		hc = &extended
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", r.action, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s: decode answer: %w", r.action, err)
	}
	return nil
}

// decodeError turns a non-2xx answer into an *Error. A body that is not the
// API's error shape still gives one, with code "http_<status>" and the body
// text, truncated, as the message.
func decodeError(resp *http.Response) *Error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var envelope struct {
		Error *Error `json:"error"`
	}
	if json.Unmarshal(b, &envelope) == nil && envelope.Error != nil && envelope.Error.Code != "" {
		envelope.Error.Status = resp.StatusCode
		return envelope.Error
	}
	msg := strings.TrimSpace(string(b))
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &Error{
		Status:  resp.StatusCode,
		Code:    "http_" + strconv.Itoa(resp.StatusCode),
		Message: clip.To(msg, maxErrorMessage),
	}
}

// maxStreamLine bounds one line of the event stream, in bytes; an event's
// data is one line.
const maxStreamLine = 32 << 20

// ErrStreamClosed is returned by StreamEvents and FollowChanges when the
// server ends the stream.
var ErrStreamClosed = errors.New("event stream closed by the server")

// StreamOptions selects the events of StreamEvents. Empty fields do not
// filter.
type StreamOptions struct {
	// Source is a source name: only events received at /in/{Source}.
	Source string
	// Type is an event type or a pattern such as "github.*".
	Type string
	// OnOpen, when set, is called once the server has accepted the stream;
	// every event committed from then on is streamed.
	OnOpen func()
	// OnDropped, when set, is called with the number of events the server
	// left out because the stream fell behind.
	OnDropped func(count int)
}

// StreamEvents follows the events the tenant commits from now on (GET
// /v1/events/stream, Server-Sent Events) and calls fn with each, in order.
// It returns ctx.Err() when ctx ends, fn's error when fn fails, and
// ErrStreamClosed when the server ends the stream. The stream is not
// bounded by the HTTP client's Timeout; cancel ctx to stop it.
func (c *Client) StreamEvents(ctx context.Context, opts StreamOptions, fn func(Event) error) error {
	const action = "stream events"
	q := filters("source", opts.Source, "type", opts.Type)
	r := call{action: action, method: http.MethodGet, path: "/v1/events/stream", query: q}
	return c.stream(ctx, r, opts.OnOpen, func(name string, data []byte) error {
		switch name {
		case "event":
			var ev Event
			if err := json.Unmarshal(data, &ev); err != nil {
				return fmt.Errorf("%s: decode event: %w", action, err)
			}
			return fn(ev)
		case "dropped":
			var d struct {
				Count int `json:"count"`
			}
			if err := json.Unmarshal(data, &d); err == nil && opts.OnDropped != nil {
				opts.OnDropped(d.Count)
			}
		}
		return nil
	})
}

// stream sends r, a GET of Server-Sent Events, without the HTTP client's
// Timeout, calls onOpen (when set) once the server has accepted it, and
// then dispatch with each event (see readStream). It returns ctx.Err()
// when ctx ends, dispatch's error when it fails, and ErrStreamClosed when
// the server ends the stream.
func (c *Client) stream(ctx context.Context, r call, onOpen func(), dispatch func(name string, data []byte) error) error {
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	hc := *c.httpClient
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s: %w", r.action, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp)
	}
	if onOpen != nil {
		onOpen()
	}
	err = readStream(resp.Body, dispatch)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	return ErrStreamClosed
}

// readStream parses Server-Sent Events from r and calls dispatch with each
// event's name and data (multiple data lines joined by "\n"). Comments,
// such as keep-alives, and events without data are skipped. It returns
// nil at the end of r, and dispatch's error as is.
func readStream(r io.Reader, dispatch func(name string, data []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxStreamLine)
	var (
		name    string
		data    bytes.Buffer
		hasData bool
	)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			if hasData {
				if err := dispatch(name, data.Bytes()); err != nil {
					return err
				}
			}
			name, hasData = "", false
			data.Reset()
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			name = string(value)
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.Write(value)
			hasData = true
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("stream events: read: %w", err)
	}
	return nil
}

// FollowChanges follows the changes of the collection name after the
// cursor after (empty: from the start) as Server-Sent Events (GET
// /v1/collections/{name}/changes) and calls fn with each, in order; a
// change's Seq is the cursor to resume after it. It returns ctx.Err() when
// ctx ends, fn's error when fn fails, and ErrStreamClosed when the server
// ends the stream. The stream is not bounded by the HTTP client's Timeout;
// cancel ctx to stop it.
func (c *Client) FollowChanges(ctx context.Context, name, after string, fn func(RecordChange) error) error {
	const action = "follow changes"
	q := filters("after", after)
	r := call{action: action, method: http.MethodGet, path: "/v1/collections/{id}/changes", id: name, query: q}
	return c.stream(ctx, r, nil, func(event string, data []byte) error {
		if event != "change" {
			return nil
		}
		var ch RecordChange
		if err := json.Unmarshal(data, &ch); err != nil {
			return fmt.Errorf("%s: decode change: %w", action, err)
		}
		return fn(ch)
	})
}

// CreatePortalSession makes a session of the caller's tenant in the
// customer portal, limited to in.EventTypes, and returns its one-time
// link (URL): hand it to the customer's browser.
func (c *Client) CreatePortalSession(ctx context.Context, in PortalSessionCreate) (*PortalSession, error) {
	return doJSON[PortalSession](ctx, c, call{action: "create portal session", method: http.MethodPost, path: "/v1/portal/sessions", body: in})
}
