// Package storetest is the conformance suite every store driver passes.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// Open returns a fresh, empty store for one test; the driver's harness
// closes it with t.Cleanup.
type Open func(t *testing.T) store.Store

// Run runs the whole suite against a driver: every test in parallel, each
// on a store of its own, the use cases' tests in a group each.
func Run(t *testing.T, open Open) {
	for group, tests := range map[string]map[string]func(*testing.T, store.Store){
		"": {
			"TenantsAndKeys":       testTenantsAndKeys,
			"EndedSessions":        testEndedSessions,
			"EventTypes":           testEventTypes,
			"Endpoints":            testEndpoints,
			"AcceptAndIdempotency": testAcceptAndIdempotency,
			"ClaimAndComplete":     testClaimAndComplete,
			"Commit":               testCommit,
			"CommitConcurrent":     testCommitConcurrent,
			"AttemptDetail":        testAttemptDetail,
			"RequeueAndRelease":    testRequeueAndRelease,
			"LeaseFencing":         testLeaseFencing,
			"LeaseClock":           testLeaseClock,
			"ReleaseLeases":        testReleaseLeases,
			"TenantIsolation":      testTenantIsolation,
			"Pagination":           testPagination,
			"Sources":              testSources,
			"Subscriptions":        testSubscriptions,
			"ReceivedEvent":        testReceivedEvent,
			"Traceparent":          testTraceparent,
			"EngineQueries":        testEngineQueries,
			"Activity":             testActivity,
			"PortalSessions":       testPortalSessions,
			"Faults":               testFaults,
			"Queues":               testQueues,
			"QueueLease":           testQueueLease,
			"QueueConcurrency":     testQueueConcurrentLeases,
		},
		"Collections": {
			"CRUD":             testCollectionCRUD,
			"Isolation":        testCollectionIsolation,
			"Apply":            testApplyRecords,
			"SameKeyTwice":     testApplySameKeyTwice,
			"GaplessSeq":       testApplyConcurrent,
			"ListRecords":      testListRecords,
			"ListChanges":      testListChanges,
			"RecordHistory":    testListRecordChanges,
			"DeleteCollection": testDeleteCollection,
			"MirrorState":      testMirrorState,
		},
		"Workflows": {
			"Versions":       testWorkflowVersions,
			"EnableDelete":   testWorkflowEnableDelete,
			"Isolation":      testWorkflowIsolation,
			"SaveRun":        testSaveRun,
			"ConcurrentSave": testSaveRunConcurrent,
			"RunTasks":       testSaveRunTasks,
			"RunResult":      testSaveRunResult,
			"RunChildren":    testSaveRunChildren,
			"ListRuns":       testListRuns,
			"WaitingRuns":    testWaitingRuns,
			"PruneRuns":      testPruneRuns,
			"RunAttempts":    testRunAttempts,
			"WaitKeys":       testWaitKeys,
			"WaitBuffer":     testWaitBuffer,
			"RunListens":     testRunListens,
			"Schedules":      testSchedules,
			"ScheduleRace":   testScheduleRace,
			"Gates":          testRunGates,
			"GateRace":       testRunGateRace,
			"Debounce":       testDebounce,
		},
		"Content": {
			"Recipients":         testRecipients,
			"RecipientPaging":    testRecipientPaging,
			"RecipientIsolation": testRecipientIsolation,
			"Templates":          testTemplates,
			"NotifyRules":        testNotifyRules,
			"SaveMessages":       testSaveMessages,
			"UpdateMessage":      testUpdateMessage,
			"ListMessages":       testListMessages,
			"DigestMessages":     testDigestMessages,
			"CountUnread":        testCountUnread,
			"PagesAndLinks":      testPagesAndLinks,
			"MessageIsolation":   testMessageIsolation,
		},
	} {
		if group == "" {
			runEach(t, open, tests)
			continue
		}
		t.Run(group, func(t *testing.T) {
			t.Parallel()
			runEach(t, open, tests)
		})
	}
}

// runEach runs tests in parallel, each on a store of its own.
func runEach(t *testing.T, open Open, tests map[string]func(*testing.T, store.Store)) {
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}

var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func tenant(t *testing.T, s store.Store, name string) string {
	t.Helper()
	id := event.NewID(event.PrefixTenant, base)
	require.NoError(t, s.CreateTenant(context.Background(), store.Tenant{ID: id, Name: name, CreatedAt: base}))
	return id
}

func endpoint(t *testing.T, s store.Store, tenantID string) store.Endpoint {
	t.Helper()
	ep := store.Endpoint{
		ID: event.NewID(event.PrefixEndpoint, base), TenantID: tenantID, URL: "https://example.com/hook",
		EventTypes: []string{"order.*"}, Format: "json", Headers: map[string]string{"X-A": "1"},
		Timeout: 15 * time.Second, RetrySchedule: []time.Duration{5 * time.Second, time.Minute}, Enabled: true,
		Secrets: []store.Secret{{Key: "whsec_c2VjcmV0"}}, CreatedAt: base, UpdatedAt: base,
	}
	require.NoError(t, s.CreateEndpoint(context.Background(), ep))
	return ep
}

// acme makes tenant "acme" with an endpoint.
func acme(t *testing.T, s store.Store) (string, store.Endpoint) {
	t.Helper()
	tid := tenant(t, s, "acme")
	return tid, endpoint(t, s, tid)
}

// write requires that a write succeeds: write(t, s.SaveRun, sv).
func write[T any](t *testing.T, w func(context.Context, T) error, v T) {
	t.Helper()
	require.NoError(t, w(context.Background(), v))
}

// accept requires that the store accepts evs.
func accept(t *testing.T, s store.Store, evs ...store.NewEvent) {
	t.Helper()
	require.NoError(t, errOf(s.AcceptEvents(context.Background(), evs)))
}

// deleteOnce deletes a tenant's row and requires that a second delete
// finds nothing.
func deleteOnce(t *testing.T, del func(ctx context.Context, tenantID, id string) error, tenantID, id string) {
	t.Helper()
	require.NoError(t, del(context.Background(), tenantID, id))
	require.ErrorIs(t, del(context.Background(), tenantID, id), store.ErrNotFound)
}

func newEvent(tenantID, typ, idem string, at time.Time, dests ...string) store.NewEvent {
	e := event.Event{
		ID: event.NewID(event.PrefixEvent, at), TenantID: tenantID, Type: typ, Source: "api",
		Data: json.RawMessage(`{"n":1}`), OccurredAt: at, IdempotencyKey: idem, CreatedAt: at,
	}
	ne := store.NewEvent{Event: e}
	for _, d := range dests {
		ne.Tasks = append(ne.Tasks, store.Task{
			ID: event.NewID(event.PrefixDelivery, at), TenantID: tenantID, EventID: e.ID, EventType: typ,
			Kind: "endpoint", DestinationID: d, Status: store.StatusPending, NextAt: at, CreatedAt: at, UpdatedAt: at,
		})
	}
	return ne
}

func testEndedSessions(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now()
	read(t, false)(s.SessionEnded(ctx, "ses_1"))
	require.NoError(t, s.EndSession(ctx, "ses_old", now.Add(-time.Hour)))
	require.NoError(t, s.EndSession(ctx, "ses_1", now.Add(time.Hour)))
	require.NoError(t, s.EndSession(ctx, "ses_1", now.Add(time.Hour)), "twice is once")
	read(t, true)(s.SessionEnded(ctx, "ses_1"))
	read(t, false)(s.SessionEnded(ctx, "ses_2"))
	read(t, false, "dropped once past its expiry")(s.SessionEnded(ctx, "ses_old"))
}

func testTenantsAndKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	n, err := s.CountTenants(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	tid := tenant(t, s, "acme")
	require.ErrorIs(t, s.CreateTenant(ctx, store.Tenant{ID: "ten_other", Name: "acme", CreatedAt: base}), store.ErrConflict)
	got, err := s.GetTenant(ctx, tid)
	require.NoError(t, err)
	require.Equal(t, "acme", got.Name)
	require.Equal(t, base, got.CreatedAt)
	read(t, []store.Tenant{got})(s.ListTenants(ctx))
	byName, err := s.TenantByName(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, tid, byName.ID)
	require.ErrorIs(t, errOf(s.TenantByName(ctx, "nobody")), store.ErrNotFound)
	require.ErrorIs(t, errOf(s.GetTenant(ctx, "ten_missing")), store.ErrNotFound)

	k := store.APIKey{ID: "key_1", TenantID: tid, Name: "ci", Prefix: "hk_ab", Hash: []byte{1, 2, 3}, Admin: true, CreatedAt: base}
	require.NoError(t, s.CreateAPIKey(ctx, k))
	read(t, k)(s.APIKeyByHash(ctx, []byte{1, 2, 3}))
	require.ErrorIs(t, errOf(s.APIKeyByHash(ctx, []byte{9})), store.ErrNotFound)
	read(t, []store.APIKey{k})(s.ListAPIKeys(ctx, tid))
	deleteOnce(t, s.DeleteAPIKey, tid, "key_1")
}

func testEventTypes(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid := tenant(t, s, "acme")
	et := store.EventType{TenantID: tid, Name: "order.created", Description: "d", Schema: []byte(`{"type":"object"}`), CreatedAt: base}
	require.NoError(t, s.CreateEventType(ctx, et))
	require.ErrorIs(t, s.CreateEventType(ctx, et), store.ErrConflict)
	read(t, et)(s.GetEventType(ctx, tid, "order.created"))
	et.Description, et.Schema = "changed", nil
	require.NoError(t, s.UpdateEventType(ctx, et))
	read(t, et)(s.GetEventType(ctx, tid, "order.created"))
	require.ErrorIs(t, s.UpdateEventType(ctx, store.EventType{TenantID: tid, Name: "missing"}), store.ErrNotFound)
	require.NoError(t, s.CreateEventType(ctx, store.EventType{TenantID: tid, Name: "a.b", CreatedAt: base}))
	list, err := s.ListEventTypes(ctx, tid)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, "a.b", list[0].Name)
	require.Nil(t, list[0].Schema)
}

func testEndpoints(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid, ep := acme(t, s)
	got, err := s.GetEndpoint(ctx, tid, ep.ID)
	require.NoError(t, err)
	require.Equal(t, ep, got)

	// The URL's credential is kept apart, so the URL can be shown.
	ep.URL = "https://hook:pa55@example.com/v2"
	require.NoError(t, s.UpdateEndpoint(ctx, ep))
	got, err = s.GetEndpoint(ctx, tid, ep.ID)
	require.NoError(t, err)
	require.Equal(t, "https://hook:redacted@example.com/v2", got.URL)
	require.Equal(t, "pa55", got.URLSecret)
	ep.URL = "https://example.com/v2"
	ep.Headers = map[string]string{"Authorization": "Bearer t0k3n", "X-B": "2"}
	ep.Secrets = append(ep.Secrets, store.Secret{Key: "whsec_b2xk", ExpiresAt: base.Add(time.Hour)})
	ep.UpdatedAt = base.Add(time.Minute)
	require.NoError(t, s.UpdateEndpoint(ctx, ep))
	got, err = s.GetEndpoint(ctx, tid, ep.ID)
	require.NoError(t, err)
	require.Equal(t, ep, got)

	enabled, err := s.EnabledEndpoints(ctx, tid)
	require.NoError(t, err)
	require.Len(t, enabled, 1)
	require.NoError(t, s.DisableEndpoint(ctx, tid, ep.ID, "410 Gone", base.Add(2*time.Minute)))
	enabled, err = s.EnabledEndpoints(ctx, tid)
	require.NoError(t, err)
	require.Empty(t, enabled)
	got, err = s.GetEndpoint(ctx, tid, ep.ID)
	require.NoError(t, err)
	require.False(t, got.Enabled)
	require.Equal(t, "410 Gone", got.DisabledReason)

	require.NoError(t, s.DeleteEndpoint(ctx, tid, ep.ID))
	require.ErrorIs(t, errOf(s.GetEndpoint(ctx, tid, ep.ID)), store.ErrNotFound)
	require.ErrorIs(t, s.DeleteEndpoint(ctx, tid, ep.ID), store.ErrNotFound)
}

func testAcceptAndIdempotency(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid, ep := acme(t, s)
	first := newEvent(tid, "order.created", "k1", base, ep.ID)
	same := newEvent(tid, "order.created", "k1", base)
	plain := newEvent(tid, "order.paid", "", base, ep.ID)
	for _, ne := range []*store.NewEvent{&first, &same, &plain} {
		ne.IdempotentSince = base.Add(-24 * time.Hour)
	}
	res, err := s.AcceptEvents(ctx, []store.NewEvent{first, same, plain})
	require.NoError(t, err)
	require.Len(t, res, 3)
	require.False(t, res[0].Duplicate)
	require.True(t, res[1].Duplicate)
	require.Equal(t, first.Event.ID, res[1].Event.ID)
	require.False(t, res[2].Duplicate)

	// A later batch with the same key inside the window is a duplicate ...
	again := newEvent(tid, "order.created", "k1", base.Add(time.Hour), ep.ID)
	again.IdempotentSince = base.Add(-23 * time.Hour)
	res, err = s.AcceptEvents(ctx, []store.NewEvent{again})
	require.NoError(t, err)
	require.True(t, res[0].Duplicate)
	require.Equal(t, first.Event.ID, res[0].Event.ID)
	// ... and a new event once the window has passed.
	again.IdempotentSince = base.Add(time.Minute)
	res, err = s.AcceptEvents(ctx, []store.NewEvent{again})
	require.NoError(t, err)
	require.False(t, res[0].Duplicate)

	read(t, first.Event)(s.GetEvent(ctx, tid, first.Event.ID))
	tasks, err := s.ListTasks(ctx, tid, store.TaskQuery{EventID: first.Event.ID})
	require.NoError(t, err)
	require.Len(t, tasks, 1)

	evs, err := s.ListEvents(ctx, tid, store.EventQuery{Type: "order.paid"})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	evs, err = s.ListEvents(ctx, tid, store.EventQuery{After: base.Add(time.Minute)})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	evs, err = s.ListEvents(ctx, tid, store.EventQuery{Before: base.Add(time.Minute)})
	require.NoError(t, err)
	require.Len(t, evs, 2)
}

func testTenantIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	ep := endpoint(t, s, a)
	ne := newEvent(a, "order.created", "", base, ep.ID)
	accept(t, s, ne)

	require.ErrorIs(t, errOf(s.GetEndpoint(ctx, b, ep.ID)), store.ErrNotFound)
	require.ErrorIs(t, s.DeleteEndpoint(ctx, b, ep.ID), store.ErrNotFound)
	other := ep
	other.TenantID = b
	require.ErrorIs(t, s.UpdateEndpoint(ctx, other), store.ErrNotFound)
	require.ErrorIs(t, s.DisableEndpoint(ctx, b, ep.ID, "x", base), store.ErrNotFound)
	require.ErrorIs(t, errOf(s.GetEvent(ctx, b, ne.Event.ID)), store.ErrNotFound)
	require.ErrorIs(t, errOf(s.GetTask(ctx, b, ne.Tasks[0].ID)), store.ErrNotFound)
	re, err := s.RequeueTasks(ctx, b, []string{ne.Tasks[0].ID}, base, time.Minute, "node-a")
	require.NoError(t, err)
	require.Empty(t, re)
	list, err := s.ListEndpoints(ctx, b, store.Page{})
	require.NoError(t, err)
	require.Empty(t, list)
	evs, err := s.ListEvents(ctx, b, store.EventQuery{})
	require.NoError(t, err)
	require.Empty(t, evs)
	tasks, err := s.ListTasks(ctx, b, store.TaskQuery{})
	require.NoError(t, err)
	require.Empty(t, tasks)
	atts, err := s.ListAttempts(ctx, b, ne.Tasks[0].ID)
	require.NoError(t, err)
	require.Empty(t, atts)
}

func testPagination(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid := tenant(t, s, "acme")
	var batch []store.NewEvent
	for i := range 7 {
		batch = append(batch, newEvent(tid, fmt.Sprintf("t.n%d", i), "", base.Add(time.Duration(i)*time.Millisecond)))
	}
	accept(t, s, batch...)
	seen := pageIDs(t, func(p store.Page) ([]event.Event, error) {
		return s.ListEvents(ctx, tid, store.EventQuery{Page: p})
	}, func(e event.Event) string { return e.ID })
	require.Len(t, seen, 7)
	require.Equal(t, batch[6].Event.ID, seen[0], "newest first")
	require.Equal(t, batch[0].Event.ID, seen[6])
}

func testSources(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	src := store.Source{ID: "src_1", TenantID: a, Name: "github", Verification: []byte(`{"kind":"github","secrets":["s3cret"]}`),
		Config: []byte(`{"event_type":{"header":"X-GitHub-Event"}}`), Enabled: true, CreatedAt: base, UpdatedAt: base}
	require.NoError(t, s.CreateSource(ctx, src))
	dup := src
	dup.ID, dup.TenantID = "src_2", b
	require.ErrorIs(t, s.CreateSource(ctx, dup), store.ErrConflict, "names are global")
	read(t, src)(s.GetSource(ctx, a, "src_1"))
	read(t, src)(s.SourceByName(ctx, "github"))
	require.ErrorIs(t, errOf(s.GetSource(ctx, b, "src_1")), store.ErrNotFound)
	src.Description, src.UpdatedAt = "changed", base.Add(time.Second)
	require.NoError(t, s.UpdateSource(ctx, src))
	read(t, []store.Source{src})(s.ListSources(ctx, a, store.Page{}))

	for i := range 5 {
		require.NoError(t, s.AddRejection(ctx, store.Rejection{ID: fmt.Sprintf("rej_%d", i), TenantID: a, SourceID: "src_1",
			CreatedAt: base, Reason: "bad signature", Method: "POST", RemoteAddr: "127.0.0.1:1",
			Headers: map[string]string{"X-Hub-Signature-256": "sha256=00"}, Body: "{}"}, 3))
	}
	rej, err := s.ListRejections(ctx, a, "src_1", store.Page{})
	require.NoError(t, err)
	require.Len(t, rej, 3, "only the newest are kept")
	require.Equal(t, "rej_4", rej[0].ID)
	require.Equal(t, "sha256=00", rej[0].Headers["X-Hub-Signature-256"])
	rej, err = s.ListRejections(ctx, b, "src_1", store.Page{})
	require.NoError(t, err)
	require.Empty(t, rej)

	require.ErrorIs(t, s.DeleteSource(ctx, b, "src_1"), store.ErrNotFound)
	require.NoError(t, s.DeleteSource(ctx, a, "src_1"))
	require.ErrorIs(t, errOf(s.SourceByName(ctx, "github")), store.ErrNotFound)
}

func testSubscriptions(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	sub := store.Subscription{ID: "sub_1", TenantID: a, Name: "gateway", EventTypes: []string{"github.*"}, Filter: "true",
		Kind: "forward", DestinationID: "ep_1", Transform: "data", Enabled: true, CreatedAt: base, UpdatedAt: base}
	require.NoError(t, s.CreateSubscription(ctx, sub))
	clash := sub
	clash.ID = "sub_2"
	require.ErrorIs(t, s.CreateSubscription(ctx, clash), store.ErrConflict, "names are unique per tenant")
	read(t, sub)(s.GetSubscription(ctx, a, "sub_1"))
	sub.Enabled = false
	require.NoError(t, s.UpdateSubscription(ctx, sub))
	enabled, err := s.EnabledSubscriptions(ctx, a)
	require.NoError(t, err)
	require.Empty(t, enabled)
	list, err := s.ListSubscriptions(ctx, a, store.Page{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	deleteOnce(t, s.DeleteSubscription, a, "sub_1")
}

func testReceivedEvent(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	ne := newEvent(a, "github.push", "src:github:d1", base)
	ne.Event.Source = "github"
	ne.Event.Raw = []byte("payload=%7B%7D")
	ne.Event.Headers = map[string]string{"X-Github-Event": "push"}
	ne.Event.RequestHeaders = map[string]string{"X-Github-Event": "push", "X-Hub-Signature-256": "sha256=00"}
	ne.IdempotentSince = base.Add(-7 * 24 * time.Hour)
	accept(t, s, ne)
	read(t, ne.Event)(s.GetEvent(ctx, a, ne.Event.ID))
	evs, err := s.ListEvents(ctx, a, store.EventQuery{Source: "github"})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	evs, err = s.ListEvents(ctx, a, store.EventQuery{Source: "api"})
	require.NoError(t, err)
	require.Empty(t, evs)

	ep := endpoint(t, s, a)
	ep.Name = "orders"
	require.NoError(t, s.UpdateEndpoint(ctx, ep))
	other := endpoint(t, s, a)
	other.Name = "orders"
	require.ErrorIs(t, s.UpdateEndpoint(ctx, other), store.ErrConflict, "endpoint names are unique per tenant")
}

// versioned is how the suite reaches a resource kept in numbered
// versions: templates and workflows.
type versioned[T any] struct {
	make   func(tenantID, name string, version int) T
	create func(ctx context.Context, v T) error
	get    func(ctx context.Context, tenantID, name string, version int) (T, error)
	list   func(ctx context.Context, tenantID string) ([]T, error)
}

// add creates a version and returns it.
func (vs versioned[T]) add(t *testing.T, tenantID, name string, version int) T {
	t.Helper()
	v := vs.make(tenantID, name, version)
	require.NoError(t, vs.create(context.Background(), v))
	return v
}

// check creates versions 1, 2 and 10 of name and version 1 of other,
// which sorts before it, checking on the way what every versioned
// resource does: a version exists once, version 0 reads the latest, a
// missing version or name is not found, the list has the latest of each
// name. It returns the versions it made.
func (vs versioned[T]) check(t *testing.T, tenantID, name, other string) (v1, v2, v10, o T) {
	t.Helper()
	ctx := context.Background()
	v1 = vs.add(t, tenantID, name, 1)
	require.ErrorIs(t, vs.create(ctx, v1), store.ErrConflict)
	v2 = vs.add(t, tenantID, name, 2)
	o = vs.add(t, tenantID, other, 1)

	read(t, v1)(vs.get(ctx, tenantID, name, 1))
	read(t, v2, "version 0 is the latest")(vs.get(ctx, tenantID, name, 0))
	require.ErrorIs(t, errOf(vs.get(ctx, tenantID, name, 3)), store.ErrNotFound)
	require.ErrorIs(t, errOf(vs.get(ctx, tenantID, "missing", 0)), store.ErrNotFound)

	v10 = vs.add(t, tenantID, name, 10)
	read(t, []T{o, v10}, "latest version of each, by name; versions compare as numbers")(vs.list(ctx, tenantID))
	return v1, v2, v10, o
}

// pageIDs reads a list three at a time, each page's cursor the last id of
// the page before, and returns the ids in the order read.
func pageIDs[T any](t *testing.T, list func(store.Page) ([]T, error), id func(T) string) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for {
		page, err := list(store.Page{Limit: 3, Cursor: cursor})
		require.NoError(t, err)
		for _, v := range page {
			ids = append(ids, id(v))
		}
		if len(page) < 3 {
			return ids
		}
		cursor = ids[len(ids)-1]
	}
}

// read returns a check of a read that must succeed with want:
// read(t, want)(s.GetTenant(ctx, id)).
func read[T any](t *testing.T, want T, msgAndArgs ...any) func(T, error) {
	return func(got T, err error) {
		t.Helper()
		require.NoError(t, err)
		require.Equal(t, want, got, msgAndArgs...)
	}
}

// errOf is the error of a call whose value does not matter.
func errOf[T any](_ T, err error) error { return err }
