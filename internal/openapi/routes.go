package openapi

import (
	"net/http"

	"github.com/hookline/hookline/wire"
)

// operation is one route of the document: what the wire types cannot say
// about it.
type operation struct {
	// pattern is the route's pattern as internal/api registers it.
	pattern string
	id      string
	summary string
	// description adds to the summary; optional.
	description string
	// body is a zero value of the request body's type; nil for none.
	body any
	// bodyOptional: the body may be left out (an empty body).
	bodyOptional bool
	// namedBy is the body's property that the path names: the body may
	// leave it out, and may not give another value.
	namedBy string
	// yaml: the body may also be sent as YAML.
	yaml bool
	// query are the query parameters; a list that pages takes limit and
	// cursor without naming them (paged).
	query []param
	paged bool
	// idempotencyKey: the Idempotency-Key header is taken.
	idempotencyKey bool
	// traceparent: a W3C traceparent header is kept with the event(s).
	traceparent bool
	// answers are the successful answers. Every operation also has the
	// error answers (errorAnswers).
	answers []answer
	// public: no API key (no security).
	public bool
	// example is the request body's example; answerExample the first
	// answer's. Optional.
	example, answerExample any
}

// answer is a successful answer: its status and a zero value of its
// body's type (nil: no body).
type answer struct {
	status      int
	body        any
	description string
	// stream: the body is a Server-Sent Events stream.
	stream bool
	// alsoStream: the answer is JSON, or Server-Sent Events when asked.
	alsoStream bool
	// raw: the body is this document (any JSON).
	raw bool
}

// param is a query parameter.
type param struct {
	name        string
	kind        string // string, integer, boolean, date-time
	description string
	enum        []string
}

func str(name, desc string) param     { return param{name: name, kind: "string", description: desc} }
func integer(name, desc string) param { return param{name: name, kind: "integer", description: desc} }
func boolean(name, desc string) param { return param{name: name, kind: "boolean", description: desc} }
func when(name, desc string) param    { return param{name: name, kind: "date-time", description: desc} }

func ok(body any) answer      { return answer{status: http.StatusOK, body: body} }
func created(body any) answer { return answer{status: http.StatusCreated, body: body} }
func accepted(body any) answer {
	return answer{status: http.StatusAccepted, body: body}
}
func noContent() answer { return answer{status: http.StatusNoContent} }

// operations are the /v1 routes of the API, in the order of
// internal/api's route table. A test fails when the two differ.
var operations = []operation{
	{pattern: "GET /v1/openapi.json", id: "getOpenAPI", summary: "This document",
		description: "The OpenAPI document of the API. It needs no API key.", public: true,
		answers: []answer{{status: http.StatusOK, raw: true}}},
	{pattern: "POST /v1/apply", id: "apply", summary: "Apply a declaration of resources",
		description: "Creates what is missing and updates what differs, by name; `?dry_run=true` only plans.",
		body:        wire.Declaration{}, query: []param{boolean("dry_run", "Only plan: change nothing and say what applying would do.")},
		answers: []answer{ok(wire.ApplyResult{})}},
	{pattern: "GET /v1/cluster", id: "getCluster", summary: "Show the cluster's nodes and buckets",
		description: "Admin keys only. On SQLite the mode is single, with no nodes.",
		answers:     []answer{ok(wire.ClusterStatus{})}},
	{pattern: "POST /v1/tenants", id: "createTenant", summary: "Create a tenant and its first API key",
		description: "Admin keys only. The answer holds the new API key, shown only this once.",
		body:        wire.TenantCreate{}, answers: []answer{created(wire.TenantCreated{})},
		example: wire.TenantCreate{Name: "acme"}},
	{pattern: "POST /v1/api-keys", id: "createAPIKey", summary: "Create an API key",
		description: "The answer holds the key, shown only this once.",
		body:        wire.APIKeyCreate{}, bodyOptional: true, answers: []answer{created(wire.APIKey{})}},
	{pattern: "GET /v1/api-keys", id: "listAPIKeys", summary: "List the tenant's API keys",
		answers: []answer{ok(wire.Page[wire.APIKey]{})}},
	{pattern: "DELETE /v1/api-keys/{id}", id: "deleteAPIKey", summary: "Delete an API key", answers: []answer{noContent()}},

	{pattern: "POST /v1/event-types", id: "createEventType", summary: "Create an event type",
		description: "An event type may carry a JSON Schema that every published event of the type must match.",
		body:        wire.EventType{}, answers: []answer{created(wire.EventType{})}},
	{pattern: "GET /v1/event-types", id: "listEventTypes", summary: "List event types",
		answers: []answer{ok(wire.Page[wire.EventType]{})}},
	{pattern: "GET /v1/event-types/{name}", id: "getEventType", summary: "Get an event type", answers: []answer{ok(wire.EventType{})}},

	{pattern: "POST /v1/endpoints", id: "createEndpoint", summary: "Create an endpoint",
		description: "The answer holds the endpoint's signing secret.",
		body:        wire.EndpointCreate{}, answers: []answer{created(wire.Endpoint{})},
		example: wire.EndpointCreate{Name: "orders", URL: "https://example.com/webhooks", EventTypes: []string{"order.*"}},
		answerExample: wire.Endpoint{ID: "ep_01JEXAMPLE0000000000000000", Name: "orders", URL: "https://example.com/webhooks",
			EventTypes: []string{"order.*"}, Format: "standard-webhooks", Timeout: "15s", RetrySchedule: []string{"5s", "5m", "30m", "2h", "5h", "10h", "10h"},
			Enabled: true, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", CreatedAt: exampleTime, UpdatedAt: exampleTime}},
	{pattern: "GET /v1/endpoints", id: "listEndpoints", summary: "List endpoints", paged: true,
		answers: []answer{ok(wire.Page[wire.Endpoint]{})}},
	{pattern: "GET /v1/endpoints/{id}", id: "getEndpoint", summary: "Get an endpoint", answers: []answer{ok(wire.Endpoint{})}},
	{pattern: "PATCH /v1/endpoints/{id}", id: "updateEndpoint", summary: "Update an endpoint",
		description: "Only the fields sent change.", body: wire.EndpointUpdate{}, answers: []answer{ok(wire.Endpoint{})}},
	{pattern: "DELETE /v1/endpoints/{id}", id: "deleteEndpoint", summary: "Delete an endpoint", answers: []answer{noContent()}},
	{pattern: "POST /v1/endpoints/{id}/rotate-secret", id: "rotateEndpointSecret", summary: "Rotate an endpoint's signing secret",
		description: "The previous secret keeps signing for the grace period. The answer holds the new secret.",
		body:        wire.SecretRotate{}, bodyOptional: true, answers: []answer{ok(wire.Endpoint{})}},
	{pattern: "GET /v1/endpoints/{id}/secret", id: "getEndpointSecret", summary: "Get an endpoint's current signing secret",
		answers: []answer{ok(wire.EndpointSecret{})}},
	{pattern: "POST /v1/endpoints/{id}/recover", id: "recoverEndpoint", summary: "Re-queue an endpoint's failed deliveries",
		description: "Re-queues the endpoint's failed deliveries since a time.",
		body:        wire.Recover{}, answers: []answer{accepted(wire.Recovered{})}},

	{pattern: "POST /v1/events", id: "publishEvent", summary: "Publish an event",
		description: "202 with the new event; 200 with the earlier event when the idempotency key was seen before.",
		body:        wire.EventCreate{}, idempotencyKey: true, traceparent: true,
		answers: []answer{
			{status: http.StatusAccepted, body: wire.Event{}, description: "The event is committed; deliveries says how many it made."},
			{status: http.StatusOK, body: wire.Event{}, description: "A repeat of an idempotency key: the earlier event, duplicate true."},
		},
		example: wire.EventCreate{Type: "order.created", Data: []byte(`{"id":"ord_1","total":42}`)},
		answerExample: wire.Event{ID: "evt_01JEXAMPLE0000000000000000", Type: "order.created", Data: []byte(`{"id":"ord_1","total":42}`),
			OccurredAt: exampleTime, CreatedAt: exampleTime, Deliveries: new(1)}},
	{pattern: "POST /v1/events/batch", id: "publishEvents", summary: "Publish up to 1,000 events together",
		description: "One result per event, in request order.",
		body:        wire.EventBatch{}, traceparent: true, answers: []answer{ok(wire.BatchResult{})}},
	{pattern: "GET /v1/events", id: "listEvents", summary: "List events", paged: true,
		query: []param{str("type", "Only events of this type."), str("source", "Only events received by this source (its name)."),
			when("after", "Only events created after this time."), when("before", "Only events created before this time.")},
		answers: []answer{ok(wire.Page[wire.Event]{})}},
	{pattern: "GET /v1/events/stream", id: "streamEvents", summary: "Stream committed events",
		description: "Server-Sent Events, one per committed event, until the client leaves.",
		query:       []param{str("type", "Only events whose type matches this pattern, such as order.*."), str("source", "Only events received by this source.")},
		answers:     []answer{{status: http.StatusOK, stream: true}}},
	{pattern: "GET /v1/events/{id}", id: "getEvent", summary: "Get an event",
		description: "With the headers and raw body of a received event.", answers: []answer{ok(wire.Event{})}},
	{pattern: "POST /v1/events/{id}/replay", id: "replayEvent", summary: "Deliver an event again",
		description: "Makes new deliveries to the destinations that match the event now.", answers: []answer{accepted(wire.Replay{})}},

	{pattern: "POST /v1/sources", id: "createSource", summary: "Create a source",
		description: "A source receives webhooks at POST /in/{name}, or captures the changes of PostgreSQL tables.",
		body:        wire.SourceCreate{}, answers: []answer{created(wire.Source{})},
		example: wire.SourceCreate{Name: "github", Verification: &wire.Verification{Kind: "github", Secrets: []string{"s3cret"}},
			EventType: &wire.SourceEventType{Header: "X-GitHub-Event", Prefix: "github."}},
		answerExample: wire.Source{ID: "src_01JEXAMPLE0000000000000000", Name: "github", Path: "/in/github",
			Verification: wire.Verification{Kind: "github", Secrets: []string{"s3…"}},
			EventType:    wire.SourceEventType{Header: "X-GitHub-Event", Prefix: "github."}, Enabled: true, CreatedAt: exampleTime, UpdatedAt: exampleTime}},
	{pattern: "GET /v1/sources", id: "listSources", summary: "List sources", paged: true, answers: []answer{ok(wire.Page[wire.Source]{})}},
	{pattern: "GET /v1/sources/{id}", id: "getSource", summary: "Get a source", description: "Secrets are masked.",
		answers: []answer{ok(wire.Source{})}},
	{pattern: "PATCH /v1/sources/{id}", id: "updateSource", summary: "Update a source",
		description: "Replaces the groups sent: verification, event_type, dedup, response, handshake.",
		body:        wire.SourceCreate{}, answers: []answer{ok(wire.Source{})}},
	{pattern: "DELETE /v1/sources/{id}", id: "deleteSource", summary: "Delete a source", answers: []answer{noContent()}},
	{pattern: "GET /v1/sources/{id}/rejections", id: "listRejections", summary: "List the requests a source refused",
		description: "The last 100 refused requests.", paged: true, answers: []answer{ok(wire.Page[wire.Rejection]{})}},

	{pattern: "POST /v1/subscriptions", id: "createSubscription", summary: "Create a subscription",
		body: wire.SubscriptionCreate{}, answers: []answer{created(wire.Subscription{})},
		example: wire.SubscriptionCreate{EventTypes: &[]string{"github.*"}, Destination: &wire.SubDest{Kind: "forward", EndpointID: "ep_01JEXAMPLE0000000000000000"}}},
	{pattern: "GET /v1/subscriptions", id: "listSubscriptions", summary: "List subscriptions", paged: true,
		answers: []answer{ok(wire.Page[wire.Subscription]{})}},
	{pattern: "GET /v1/subscriptions/{id}", id: "getSubscription", summary: "Get a subscription", answers: []answer{ok(wire.Subscription{})}},
	{pattern: "PATCH /v1/subscriptions/{id}", id: "updateSubscription", summary: "Update a subscription",
		description: "Only the fields sent change.", body: wire.SubscriptionCreate{}, answers: []answer{ok(wire.Subscription{})}},
	{pattern: "DELETE /v1/subscriptions/{id}", id: "deleteSubscription", summary: "Delete a subscription", answers: []answer{noContent()}},

	{pattern: "POST /v1/collections", id: "createCollection", summary: "Create a collection",
		body: wire.CollectionSpec{}, answers: []answer{created(wire.Collection{})},
		example: wire.CollectionSpec{Name: "customers", Key: "data.id", Events: map[string]wire.CollectionOp{
			"customer.created": {Op: "upsert"}, "customer.updated": {Op: "upsert"}, "customer.deleted": {Op: "delete"}}}},
	{pattern: "GET /v1/collections", id: "listCollections", summary: "List collections", answers: []answer{ok(wire.Page[wire.Collection]{})}},
	{pattern: "GET /v1/collections/{name}", id: "getCollection", summary: "Get a collection", description: "Secrets are redacted.",
		answers: []answer{ok(wire.Collection{})}},
	{pattern: "PUT /v1/collections/{name}", id: "replaceCollection", summary: "Replace a collection's spec",
		description: "Its records are kept.", body: wire.CollectionSpec{}, namedBy: "name", answers: []answer{ok(wire.Collection{})}},
	{pattern: "DELETE /v1/collections/{name}", id: "deleteCollection", summary: "Delete a collection",
		description: "With its records and changes.", answers: []answer{noContent()}},
	{pattern: "GET /v1/collections/{name}/records", id: "listRecords", summary: "List a collection's records",
		description: "In key order.", paged: true,
		query: []param{str("filter", "An expression over record and key that a record must make true."),
			boolean("include_deleted", "Also list the tombstones of deleted records.")},
		answers: []answer{ok(wire.Page[wire.Record]{})}},
	{pattern: "POST /v1/collections/{name}/records", id: "writeRecords", summary: "Write records to a collection",
		description: "Up to 1,000 records, one result each.", body: wire.RecordsWrite{}, answers: []answer{ok(wire.RecordsWritten{})}},
	{pattern: "GET /v1/collections/{name}/records/{key...}", id: "getRecord", summary: "Get a record",
		description: "A deleted record is a 410 whose error details are its tombstone.", answers: []answer{ok(wire.Record{})}},
	{pattern: "GET /v1/collections/{name}/changes", id: "listChanges", summary: "List a collection's changes",
		description: "Changes after the cursor `after`; `wait` long-polls for the first; Server-Sent Events with `stream=true` or `Accept: text/event-stream`.",
		query: []param{str("after", "The cursor of an earlier answer: list the changes after it."),
			integer("limit", "At most this many changes, from 1 to 1000; default 100."),
			str("wait", "Wait up to this long (a Go duration such as 30s) for a first change."),
			boolean("stream", "Answer with Server-Sent Events.")},
		answers: []answer{{status: http.StatusOK, body: wire.Changes{}, alsoStream: true}}},

	{pattern: "POST /v1/workflows", id: "saveWorkflow", summary: "Save a workflow",
		description: "201 for a new workflow; 200 when it adds a version or changes nothing. The body may be YAML.",
		body:        wire.WorkflowSpec{}, yaml: true,
		answers: []answer{created(wire.WorkflowSaved{}), ok(wire.WorkflowSaved{})}},
	{pattern: "GET /v1/workflows", id: "listWorkflows", summary: "List workflows", description: "The latest version of each.",
		answers: []answer{ok(wire.Page[wire.Workflow]{})}},
	{pattern: "GET /v1/workflows/{name}", id: "getWorkflow", summary: "Get a workflow with its versions",
		query:   []param{integer("version", "This version instead of the latest.")},
		answers: []answer{ok(wire.WorkflowVersions{})}},
	{pattern: "PATCH /v1/workflows/{name}", id: "setWorkflowEnabled", summary: "Enable or disable a workflow",
		body: wire.WorkflowEnable{}, answers: []answer{ok(wire.Workflow{})}},
	{pattern: "DELETE /v1/workflows/{name}", id: "deleteWorkflow", summary: "Delete a workflow",
		description: "Every version; its runs are kept.", answers: []answer{noContent()}},
	{pattern: "GET /v1/workflows/{name}/runs", id: "listWorkflowRuns", summary: "List a workflow's runs", paged: true,
		query: []param{str("status", "Only runs of this status.")}, answers: []answer{ok(wire.Page[wire.Run]{})}},
	{pattern: "POST /v1/workflows/{name}/runs", id: "startRun", summary: "Start a run by hand",
		description: "The input becomes the data of a workflow.manual event, committed to the event log for this workflow only; the run starts on the latest version. 201 with the new run; 200 with the run a repeated idempotency key started; 409 for a disabled workflow.",
		body:        wire.RunStart{}, bodyOptional: true, idempotencyKey: true, answers: []answer{created(wire.Run{}), ok(wire.Run{})}},
	{pattern: "GET /v1/runs", id: "listRuns", summary: "List workflow runs", paged: true,
		query: []param{str("workflow", "Only runs of this workflow."), str("status", "Only runs of this status."),
			str("parent_run_id", "Only the runs this run's parallel, foreach and call steps started.")},
		answers: []answer{ok(wire.Page[wire.Run]{})}},
	{pattern: "GET /v1/runs/{id}", id: "getRun", summary: "Get a run", description: "With its step log.", answers: []answer{ok(wire.Run{})}},
	{pattern: "POST /v1/runs/cancel", id: "cancelRuns", summary: "Cancel the runs a filter selects",
		description: "The running and waiting runs of a workflow, a status and a creation time range, newest first, up to limit (default 100, at most 1000): counts of those matched, cancelled and skipped, and whether more match.",
		body:        wire.RunFilter{}, answers: []answer{ok(wire.RunsChanged{})}},
	{pattern: "POST /v1/runs/retry", id: "retryRuns", summary: "Retry the failed runs a filter selects",
		description: "As POST /v1/runs/cancel, for failed runs: each starts again at the step it failed at.",
		body:        wire.RunFilter{}, answers: []answer{ok(wire.RunsChanged{})}},
	{pattern: "POST /v1/runs/{id}/retry", id: "retryRun", summary: "Retry a failed run", answers: []answer{accepted(wire.Run{})}},
	{pattern: "POST /v1/runs/{id}/cancel", id: "cancelRun", summary: "Cancel a run that has not ended", answers: []answer{ok(wire.Run{})}},
	{pattern: "POST /v1/runs/{id}/approve", id: "approveRun", summary: "Approve the approval step a run waits on",
		description: "The step's output becomes approved: true with the comment, decided_by \"api\" and decided_at, and the run moves on. 409 when the run does not wait on an approval.",
		body:        wire.RunDecision{}, bodyOptional: true, answers: []answer{ok(wire.Run{})}},
	{pattern: "POST /v1/runs/{id}/reject", id: "rejectRun", summary: "Reject the approval step a run waits on",
		description: "As approve, with approved: false.",
		body:        wire.RunDecision{}, bodyOptional: true, answers: []answer{ok(wire.Run{})}},

	{pattern: "PUT /v1/recipients/{id}", id: "putRecipient", summary: "Create or replace a recipient",
		body: wire.Recipient{}, namedBy: "id", answers: []answer{created(wire.Recipient{}), ok(wire.Recipient{})}},
	{pattern: "GET /v1/recipients", id: "listRecipients", summary: "List recipients", description: "In id order.", paged: true,
		answers: []answer{ok(wire.Page[wire.Recipient]{})}},
	{pattern: "GET /v1/recipients/{id}", id: "getRecipient", summary: "Get a recipient", answers: []answer{ok(wire.Recipient{})}},
	{pattern: "DELETE /v1/recipients/{id}", id: "deleteRecipient", summary: "Delete a recipient", answers: []answer{noContent()}},
	{pattern: "GET /v1/recipients/{id}/token", id: "getRecipientToken", summary: "Get the token of a recipient's inbox",
		answers: []answer{ok(wire.RecipientToken{})}},
	{pattern: "POST /v1/templates", id: "saveTemplate", summary: "Save a template",
		description: "201 for a new template; 200 when it adds a version or changes nothing.",
		body:        wire.TemplateSpec{}, answers: []answer{created(wire.TemplateSaved{}), ok(wire.TemplateSaved{})}},
	{pattern: "GET /v1/templates", id: "listTemplates", summary: "List templates", description: "The latest version of each.",
		answers: []answer{ok(wire.Page[wire.Template]{})}},
	{pattern: "GET /v1/templates/{name}", id: "getTemplate", summary: "Get a template", description: "Its latest version.",
		answers: []answer{ok(wire.Template{})}},
	{pattern: "DELETE /v1/templates/{name}", id: "deleteTemplate", summary: "Delete a template", description: "Every version.",
		answers: []answer{noContent()}},
	{pattern: "POST /v1/templates/{name}/preview", id: "previewTemplate", summary: "Render a template with a sample",
		description: "Sends nothing.", body: wire.Preview{}, bodyOptional: true, answers: []answer{ok(wire.Rendered{})}},
	{pattern: "POST /v1/notify-rules", id: "createNotifyRule", summary: "Create a notify rule",
		body: wire.NotifyRule{}, answers: []answer{created(wire.NotifyRuleOut{})}},
	{pattern: "GET /v1/notify-rules", id: "listNotifyRules", summary: "List notify rules", answers: []answer{ok(wire.Page[wire.NotifyRuleOut]{})}},
	{pattern: "GET /v1/notify-rules/{name}", id: "getNotifyRule", summary: "Get a notify rule", answers: []answer{ok(wire.NotifyRuleOut{})}},
	{pattern: "PUT /v1/notify-rules/{name}", id: "replaceNotifyRule", summary: "Replace a notify rule",
		body: wire.NotifyRule{}, namedBy: "name", answers: []answer{ok(wire.NotifyRuleOut{})}},
	{pattern: "DELETE /v1/notify-rules/{name}", id: "deleteNotifyRule", summary: "Delete a notify rule", answers: []answer{noContent()}},
	{pattern: "GET /v1/messages", id: "listMessages", summary: "List messages sent to recipients", paged: true,
		query: []param{str("recipient", "Only messages to this recipient (its id)."), str("channel", "Only messages on this channel."),
			str("status", "Only messages of this status.")},
		answers: []answer{ok(wire.Page[wire.Message]{})}},
	{pattern: "GET /v1/messages/{id}", id: "getMessage", summary: "Get a message", answers: []answer{ok(wire.Message{})}},

	{pattern: "GET /v1/deliveries", id: "listDeliveries", summary: "List deliveries", paged: true,
		query: []param{str("endpoint_id", "Only deliveries to this endpoint (or subscription)."), str("event_id", "Only deliveries of this event."),
			{name: "status", kind: "string", description: "Only deliveries of this status: pending, retrying, succeeded or failed."}},
		answers: []answer{ok(wire.Page[wire.Delivery]{})},
		answerExample: wire.Page[wire.Delivery]{Data: []wire.Delivery{{ID: "dlv_01JEXAMPLE0000000000000000", EventID: "evt_01JEXAMPLE0000000000000000",
			EventType: "order.created", EndpointID: "ep_01JEXAMPLE0000000000000000", Kind: "endpoint", Status: wire.DeliverySucceeded,
			Attempts: 1, CreatedAt: exampleTime, UpdatedAt: exampleTime}}}},
	{pattern: "GET /v1/deliveries/{id}", id: "getDelivery", summary: "Get a delivery", description: "With its attempt log.",
		answers: []answer{ok(wire.Delivery{})}},
	{pattern: "POST /v1/deliveries/{id}/retry", id: "retryDelivery", summary: "Retry a delivery now", answers: []answer{accepted(wire.Delivery{})}},

	{pattern: "POST /v1/portal/sessions", id: "createPortalSession", summary: "Make a one-time link to the customer portal",
		description: "A session of the caller's tenant in the dashboard's customer portal, limited to the event types asked for " +
			"(every type when none), with a link that opens it once before it expires. 409 when the dashboard is off.",
		body: wire.PortalSessionCreate{}, bodyOptional: true, answers: []answer{created(wire.PortalSession{})},
		example: wire.PortalSessionCreate{EventTypes: []string{"order.*"}, ExpiresIn: 3600, Label: "Acme Inc."},
		answerExample: wire.PortalSession{ID: "ps_01JEXAMPLE0000000000000000",
			URL: "https://hooks.example.com/portal/open/q8VbW1mYlq3m6cOZ0b1zG1Jc3kq0n8x1cTg2W3h4JxM", ExpiresAt: exampleTime,
			EventTypes: []string{"order.*"}, Label: "Acme Inc."}},

	{pattern: "PUT /v1/queues/{name}", id: "putQueue", summary: "Create or replace a pull queue",
		description: "A queue takes the events of a source (every source when none) whose type matches its patterns (every type when none) " +
			"from now on; replacing its filter keeps the events on it.",
		body: wire.QueueSpec{}, bodyOptional: true, namedBy: "name", answers: []answer{ok(wire.Queue{})},
		example: wire.QueueSpec{Source: "stripe", EventTypes: []string{"invoice.*"}}},
	{pattern: "GET /v1/queues", id: "listQueues", summary: "List pull queues", answers: []answer{ok(wire.Page[wire.Queue]{})}},
	{pattern: "GET /v1/queues/{name}", id: "getQueue", summary: "Get a pull queue", description: "With how many events are on it.",
		answers: []answer{ok(wire.Queue{})}},
	{pattern: "DELETE /v1/queues/{name}", id: "deleteQueue", summary: "Delete a pull queue", description: "With the events on it.",
		answers: []answer{noContent()}},
	{pattern: "POST /v1/queues/{name}/lease", id: "leaseQueueMessages", summary: "Lease a batch of events from a pull queue",
		description: "The leased events stay invisible to other leases for the visibility timeout; one not acknowledged by then is leased again. " +
			"With wait, the request waits up to that long for an event (long poll).",
		body: wire.QueueLease{}, bodyOptional: true, answers: []answer{ok(wire.QueueMessages{})},
		example: wire.QueueLease{Limit: 10, Visibility: "30s", Wait: "20s"}},
	{pattern: "POST /v1/queues/{name}/ack", id: "ackQueueMessages", summary: "Acknowledge leased events",
		description: "Each acknowledged event leaves the queue. A receipt whose lease lapsed and was taken over changes nothing and is listed as stale.",
		body:        wire.QueueAck{}, answers: []answer{ok(wire.QueueAcked{})}},
	{pattern: "POST /v1/queues/{name}/nack", id: "nackQueueMessages", summary: "Reject leased events",
		description: "Each rejected event is leased again after the delay (at once when none).",
		body:        wire.QueueAck{}, answers: []answer{ok(wire.QueueAcked{})}},
	{pattern: "POST /v1/queues/{name}/replay", id: "replayQueue", summary: "Put past events on a pull queue again",
		description: "The events the queue takes that were created since a time and are still kept, the newest 10000 at most; those on it already are not put twice.",
		body:        wire.QueueReplay{}, answers: []answer{ok(wire.QueueReplayed{})}},
}
