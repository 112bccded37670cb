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
			"EventTypes":           testEventTypes,
			"Endpoints":            testEndpoints,
			"AcceptAndIdempotency": testAcceptAndIdempotency,
			"ClaimAndComplete":     testClaimAndComplete,
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
			"EngineQueries":        testEngineQueries,
			"Faults":               testFaults,
		},
		"Collections": {
			"CRUD":             testCollectionCRUD,
			"Isolation":        testCollectionIsolation,
			"Apply":            testApplyRecords,
			"SameKeyTwice":     testApplySameKeyTwice,
			"GaplessSeq":       testApplyConcurrent,
			"ListRecords":      testListRecords,
			"ListChanges":      testListChanges,
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
			"ListRuns":       testListRuns,
			"WaitingRuns":    testWaitingRuns,
			"PruneRuns":      testPruneRuns,
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

func testClaimAndComplete(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid, ep := acme(t, s)
	ne := newEvent(tid, "order.created", "", base, ep.ID)
	later := newEvent(tid, "order.created", "", base, ep.ID)
	later.Tasks[0].NextAt = base.Add(time.Hour)
	leased := newEvent(tid, "order.created", "", base, ep.ID)
	leased.Tasks[0].LeaseFor, leased.Tasks[0].LeaseOwner = time.Minute, "node-a"
	require.NoError(t, errOf(s.AcceptEvents(ctx, []store.NewEvent{ne, later, leased})))
	inserted, err := s.GetTask(ctx, tid, leased.Tasks[0].ID)
	require.NoError(t, err)
	require.Equal(t, "node-a", inserted.LeaseOwner, "a task can be leased in the transaction that writes it")
	require.Zero(t, inserted.LeaseToken)
	require.False(t, inserted.LeaseUntil.IsZero())

	claimed, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Minute, Owner: "node-a", Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 1, "only the due, unleased task")
	c := claimed[0]
	require.Equal(t, ne.Tasks[0].ID, c.ID)
	require.Equal(t, "node-a", c.LeaseOwner)
	require.Equal(t, int64(1), c.LeaseToken, "a claim by a new owner gives a new token")
	require.False(t, c.LeaseUntil.IsZero())
	require.NotNil(t, c.Event)
	require.JSONEq(t, `{"n":1}`, string(c.Event.Data))
	require.Equal(t, "order.created", c.Event.Type)

	again, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Minute, Owner: "node-b", Limit: 10})
	require.NoError(t, err)
	require.Empty(t, again, "a live lease is not claimed twice")

	// Leases end by the database's clock: cut to a millisecond, both
	// leased tasks come back, to another node under new tokens.
	lost, err := s.ExtendLeases(ctx, []store.TaskLease{c.Lease(), inserted.Lease()}, time.Millisecond)
	require.NoError(t, err)
	require.Empty(t, lost)
	expired := claimUntil(t, s, store.Claim{Now: base, Lease: time.Minute, Owner: "node-b", Limit: 10}, 2)
	require.Equal(t, int64(2), expired[c.ID].LeaseToken)
	require.Equal(t, int64(1), expired[inserted.ID].LeaseToken)
	c = expired[c.ID]

	a := store.Attempt{ID: "atm_1", TenantID: tid, Number: 1, StartedAt: base, Duration: 1500 * time.Microsecond,
		Outcome: "http_500", RequestURL: ep.URL, RequestHeaders: map[string]string{"a": "b"}, RequestBody: "{}",
		ResponseStatus: 500, ResponseHeaders: map[string]string{"c": "d"}, ResponseBody: "oops", Error: "status 500"}
	stale, err := s.CompleteTasks(ctx, []store.TaskResult{{TaskID: c.ID, Token: c.LeaseToken, Attempt: a, Status: store.StatusRetrying,
		NextAt: base.Add(5 * time.Second), LastError: "status 500"}})
	require.NoError(t, err)
	require.Empty(t, stale)
	got, err := s.GetTask(ctx, tid, c.ID)
	require.NoError(t, err)
	require.Equal(t, store.StatusRetrying, got.Status)
	require.Equal(t, 1, got.Attempts)
	require.True(t, got.LeaseUntil.IsZero())
	require.Equal(t, base.Add(5*time.Second), got.NextAt)
	attempts, err := s.ListAttempts(ctx, tid, c.ID)
	require.NoError(t, err)
	require.Len(t, attempts, 1)
	a.TaskID = c.ID
	require.Equal(t, a, attempts[0])

	retry, err := s.ClaimTasks(ctx, store.Claim{Now: base.Add(5 * time.Second), Lease: time.Minute, Owner: "node-b", Limit: 10})
	require.NoError(t, err)
	require.Len(t, retry, 1)
	require.Equal(t, c.ID, retry[0].ID)
	require.Equal(t, c.LeaseToken, retry[0].LeaseToken, "a claim by the same owner keeps the token")

	a2 := a
	a2.ID, a2.Number, a2.Outcome, a2.ResponseStatus = "atm_2", 2, "success", 200
	stale, err = s.CompleteTasks(ctx, []store.TaskResult{{TaskID: c.ID, Token: retry[0].LeaseToken, Attempt: a2, Status: store.StatusSucceeded}})
	require.NoError(t, err)
	require.Empty(t, stale)
	done, err := s.ClaimTasks(ctx, store.Claim{Now: base.Add(time.Hour * 24), Lease: time.Minute, Owner: "node-b", Limit: 10})
	require.NoError(t, err)
	for _, d := range done {
		require.NotEqual(t, c.ID, d.ID, "a succeeded task is never claimed")
	}
	read(t, 2)(s.PendingTasks(ctx))
}

// claimUntil claims with c until want tasks were claimed in all, within a
// few seconds, and returns them by id.
func claimUntil(t *testing.T, s store.Store, c store.Claim, want int) map[string]store.Task {
	t.Helper()
	got := map[string]store.Task{}
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < want && time.Now().Before(deadline) {
		ts, err := s.ClaimTasks(context.Background(), c)
		require.NoError(t, err)
		for _, x := range ts {
			got[x.ID] = x
		}
		if len(got) < want {
			time.Sleep(5 * time.Millisecond) // polling the database's clock, which the test cannot move
		}
	}
	require.Len(t, got, want, "claimed once their leases ended")
	return got
}

func testRequeueAndRelease(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid, ep := acme(t, s)
	ne := newEvent(tid, "order.created", "", base, ep.ID)
	ne.Tasks[0].LeaseFor, ne.Tasks[0].LeaseOwner = time.Hour, "node-a"
	require.NoError(t, errOf(s.AcceptEvents(ctx, []store.NewEvent{ne})))
	id := ne.Tasks[0].ID

	require.NoError(t, s.ReleaseTasks(ctx, []store.TaskLease{{ID: id, Token: 0}}))
	claimed, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Minute, Owner: "node-a", Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	lost, err := s.ExtendLeases(ctx, []store.TaskLease{claimed[0].Lease()}, time.Hour)
	require.NoError(t, err)
	require.Empty(t, lost)
	claimed, err = s.ClaimTasks(ctx, store.Claim{Now: base.Add(2 * time.Minute), Lease: time.Minute, Owner: "node-b", Limit: 10})
	require.NoError(t, err)
	require.Empty(t, claimed)

	stale, err := s.CompleteTasks(ctx, []store.TaskResult{{TaskID: id, Status: store.StatusFailed, LastError: "gave up",
		Attempt: store.Attempt{ID: "atm_x", TenantID: tid, Number: 1, StartedAt: base, Outcome: "http_500"}}})
	require.NoError(t, err)
	require.Empty(t, stale)
	re, err := s.RequeueTasks(ctx, tid, []string{id, "dlv_missing"}, base.Add(time.Hour), time.Hour, "node-b")
	require.NoError(t, err)
	require.Len(t, re, 1)
	require.Equal(t, store.StatusPending, re[0].Status)
	require.Equal(t, 1, re[0].Attempts, "history is kept")
	require.NotNil(t, re[0].Event)
	require.Equal(t, "node-b", re[0].LeaseOwner, "requeued under the caller's lease")
	require.Equal(t, int64(1), re[0].LeaseToken)
	require.False(t, re[0].LeaseUntil.IsZero())

	// Without a lease a requeue keeps owner and token: an attempt running
	// meanwhile still completes.
	re, err = s.RequeueTasks(ctx, tid, []string{id}, base.Add(time.Hour), 0, "node-c")
	require.NoError(t, err)
	require.Len(t, re, 1)
	require.True(t, re[0].LeaseUntil.IsZero())
	require.Equal(t, "node-b", re[0].LeaseOwner)
	require.Equal(t, int64(1), re[0].LeaseToken)

	extra := store.Task{ID: "dlv_extra", TenantID: tid, EventID: ne.Event.ID, EventType: ne.Event.Type, Kind: "endpoint",
		DestinationID: "ep_other", Status: store.StatusPending, NextAt: base, CreatedAt: base, UpdatedAt: base}
	require.NoError(t, s.AddTasks(ctx, []store.Task{extra}))
	got, err := s.GetTask(ctx, tid, "dlv_extra")
	require.NoError(t, err)
	require.Equal(t, "ep_other", got.DestinationID)
	require.True(t, got.LeaseUntil.IsZero())
}

// testLeaseFencing is a node whose lease lapsed and whose task another
// node claimed: its completion, renewal and release change nothing, and
// the holder's completion, saved twice, is written once.
func testLeaseFencing(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid, ep := acme(t, s)
	ne := newEvent(tid, "order.created", "", base, ep.ID)
	require.NoError(t, errOf(s.AcceptEvents(ctx, []store.NewEvent{ne})))
	id := ne.Tasks[0].ID

	first, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Millisecond, Owner: "node-a", Limit: 10})
	require.NoError(t, err)
	require.Len(t, first, 1)
	a := first[0]
	b := claimUntil(t, s, store.Claim{Now: base, Lease: time.Hour, Owner: "node-b", Limit: 10}, 1)[id]
	require.NotEqual(t, a.LeaseToken, b.LeaseToken)
	held, err := s.GetTask(ctx, tid, id)
	require.NoError(t, err)

	staleResult := store.TaskResult{TaskID: id, Token: a.LeaseToken, Status: store.StatusSucceeded,
		Attempt: store.Attempt{ID: "atm_a", TenantID: tid, Number: 1, StartedAt: base, Outcome: "success"}}
	stale, err := s.CompleteTasks(ctx, []store.TaskResult{staleResult})
	require.NoError(t, err)
	require.Equal(t, []string{id}, stale, "a stale completion is refused")
	read(t, []string{id}, "a stale renewal reports the task lost")(s.ExtendLeases(ctx, []store.TaskLease{a.Lease()}, 10*time.Hour))
	require.NoError(t, s.ReleaseTasks(ctx, []store.TaskLease{a.Lease()}))
	got, err := s.GetTask(ctx, tid, id)
	require.NoError(t, err)
	require.Equal(t, held, got, "stale completion, renewal and release changed nothing")
	atts, err := s.ListAttempts(ctx, tid, id)
	require.NoError(t, err)
	require.Empty(t, atts)
	none, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Hour, Owner: "node-c", Limit: 10})
	require.NoError(t, err)
	require.Empty(t, none, "node-b's lease holds")

	// The holder's result, one stale result beside it in the batch, and
	// the same save again (its first commit had landed): written once.
	mine := store.TaskResult{TaskID: id, Token: b.LeaseToken, Status: store.StatusSucceeded,
		Attempt: store.Attempt{ID: "atm_b", TenantID: tid, Number: 1, StartedAt: base, Outcome: "success"}}
	other := newEvent(tid, "order.created", "", base, ep.ID)
	require.NoError(t, errOf(s.AcceptEvents(ctx, []store.NewEvent{other})))
	wrong := store.TaskResult{TaskID: other.Tasks[0].ID, Token: 7, Status: store.StatusSucceeded,
		Attempt: store.Attempt{ID: "atm_o", TenantID: tid, Number: 1, StartedAt: base, Outcome: "success"}}
	read(t, []string{other.Tasks[0].ID})(s.CompleteTasks(ctx, []store.TaskResult{mine, wrong}))
	read(t, []string{id}, "a result is written once")(s.CompleteTasks(ctx, []store.TaskResult{mine}))
	got, err = s.GetTask(ctx, tid, id)
	require.NoError(t, err)
	require.Equal(t, store.StatusSucceeded, got.Status)
	require.Equal(t, 1, got.Attempts)
	atts, err = s.ListAttempts(ctx, tid, id)
	require.NoError(t, err)
	require.Len(t, atts, 1)
	require.Equal(t, "atm_b", atts[0].ID)
	untouched, err := s.GetTask(ctx, tid, other.Tasks[0].ID)
	require.NoError(t, err)
	require.Equal(t, store.StatusPending, untouched.Status)
}

// testLeaseClock claims with a Now far ahead of the database's clock, as a
// node whose clock runs fast would: Now makes tasks due, but leases end by
// the database's clock, so live ones stay.
func testLeaseClock(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid, ep := acme(t, s)
	ne := newEvent(tid, "order.created", "", base, ep.ID)
	require.NoError(t, errOf(s.AcceptEvents(ctx, []store.NewEvent{ne})))
	claimed, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Minute, Owner: "node-a", Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	ahead := time.Now().Add(1000 * time.Hour)
	none, err := s.ClaimTasks(ctx, store.Claim{Now: ahead, Lease: time.Minute, Owner: "node-b", Limit: 10})
	require.NoError(t, err)
	require.Empty(t, none, "a lease is compared with the database's clock, not the claimer's")
	later := newEvent(tid, "order.created", "", base.Add(999*time.Hour), ep.ID)
	require.NoError(t, errOf(s.AcceptEvents(ctx, []store.NewEvent{later})))
	due, err := s.ClaimTasks(ctx, store.Claim{Now: ahead, Lease: time.Minute, Owner: "node-b", Limit: 10})
	require.NoError(t, err)
	require.Len(t, due, 1, "the claimer's Now decides what is due")
	require.Equal(t, later.Tasks[0].ID, due[0].ID)
}

// testReleaseLeases hands over every lease of one owner at once, as a
// node stopping or starting again under its id does.
func testReleaseLeases(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid, ep := acme(t, s)
	evs := []store.NewEvent{newEvent(tid, "order.created", "", base, ep.ID), newEvent(tid, "order.created", "", base, ep.ID),
		newEvent(tid, "order.created", "", base, ep.ID)}
	evs[2].Tasks[0].LeaseFor, evs[2].Tasks[0].LeaseOwner = time.Hour, "node-b"
	require.NoError(t, errOf(s.AcceptEvents(ctx, evs)))
	mine, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Hour, Owner: "node-a", Limit: 10})
	require.NoError(t, err)
	require.Len(t, mine, 2)
	n, err := s.ReleaseLeases(ctx, "node-a")
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = s.ReleaseLeases(ctx, "node-a")
	require.NoError(t, err)
	require.Zero(t, n)
	again, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Hour, Owner: "node-c", Limit: 10})
	require.NoError(t, err)
	require.Len(t, again, 2, "node-a's tasks, not node-b's")
	for _, x := range again {
		require.NotEqual(t, evs[2].Tasks[0].ID, x.ID)
		require.Equal(t, int64(2), x.LeaseToken, "another owner, a new token")
	}
}

func testTenantIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	ep := endpoint(t, s, a)
	ne := newEvent(a, "order.created", "", base, ep.ID)
	require.NoError(t, errOf(s.AcceptEvents(ctx, []store.NewEvent{ne})))

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
	require.NoError(t, errOf(s.AcceptEvents(ctx, batch)))
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
	ne.IdempotentSince = base.Add(-7 * 24 * time.Hour)
	require.NoError(t, errOf(s.AcceptEvents(ctx, []store.NewEvent{ne})))
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

func testEngineQueries(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	ep := endpoint(t, s, a)
	ep.MaxInFlight, ep.RateLimit, ep.Ordered = 3, 2.5, true
	require.NoError(t, s.UpdateEndpoint(ctx, ep))
	require.NoError(t, s.SetEndpointFailing(ctx, a, ep.ID, base.Add(time.Hour)))
	got, err := s.GetEndpoint(ctx, a, ep.ID)
	require.NoError(t, err)
	require.Equal(t, 3, got.MaxInFlight)
	require.Equal(t, 2.5, got.RateLimit)
	require.True(t, got.Ordered)
	require.Equal(t, base.Add(time.Hour), got.FailingSince)
	require.NoError(t, s.SetEndpointFailing(ctx, a, ep.ID, time.Time{}))
	got, err = s.GetEndpoint(ctx, a, ep.ID)
	require.NoError(t, err)
	require.True(t, got.FailingSince.IsZero())

	other := endpoint(t, s, a)
	first := newEvent(a, "order.created", "", base, ep.ID, other.ID)
	second := newEvent(a, "order.created", "", base.Add(time.Millisecond), ep.ID)
	require.NoError(t, errOf(s.AcceptEvents(ctx, []store.NewEvent{first, second})))

	claimed, err := s.ClaimTasks(ctx, store.Claim{Now: base.Add(time.Second), Lease: time.Minute, Owner: "node-a", Limit: 10, Exclude: []string{ep.ID}})
	require.NoError(t, err)
	require.Len(t, claimed, 1, "excluded destinations are not claimed")
	require.Equal(t, other.ID, claimed[0].DestinationID)

	oldest, err := s.OldestUnfinished(ctx, "endpoint", ep.ID)
	require.NoError(t, err)
	require.Equal(t, first.Tasks[0].ID, oldest.ID)
	stale, err := s.CompleteTasks(ctx, []store.TaskResult{{TaskID: first.Tasks[0].ID, Status: store.StatusSucceeded,
		Attempt: store.Attempt{ID: "atm_o1", TenantID: a, Number: 1, StartedAt: base.Add(2 * time.Second), Outcome: "success"}}})
	require.NoError(t, err)
	require.Empty(t, stale)
	oldest, err = s.OldestUnfinished(ctx, "endpoint", ep.ID)
	require.NoError(t, err)
	require.Equal(t, second.Tasks[0].ID, oldest.ID)

	asc, err := s.ListTasks(ctx, a, store.TaskQuery{DestinationID: ep.ID, Oldest: true})
	require.NoError(t, err)
	require.Equal(t, []string{first.Tasks[0].ID, second.Tasks[0].ID}, []string{asc[0].ID, asc[1].ID})
	recent, err := s.ListTasks(ctx, a, store.TaskQuery{UpdatedSince: base.Add(time.Second)})
	require.NoError(t, err)
	require.Len(t, recent, 1)

	// Only events whose tasks are all finished are pruned.
	n, err := s.Prune(ctx, base.Add(time.Hour), 100)
	require.NoError(t, err)
	require.Zero(t, n, "the first event still has an unfinished task to the other endpoint")
	stale, err = s.CompleteTasks(ctx, []store.TaskResult{{TaskID: first.Tasks[1].ID, Token: claimed[0].LeaseToken, Status: store.StatusFailed,
		Attempt: store.Attempt{ID: "atm_o2", TenantID: a, Number: 1, StartedAt: base, Outcome: "http_500"}}})
	require.NoError(t, err)
	require.Empty(t, stale)
	read(t, 1)(s.Prune(ctx, base.Add(time.Hour), 100))
	require.ErrorIs(t, errOf(s.GetEvent(ctx, a, first.Event.ID)), store.ErrNotFound)
	require.ErrorIs(t, errOf(s.GetTask(ctx, a, first.Tasks[0].ID)), store.ErrNotFound)
	atts, err := s.ListAttempts(ctx, a, first.Tasks[0].ID)
	require.NoError(t, err)
	require.Empty(t, atts)
	require.NoError(t, errOf(s.GetEvent(ctx, a, second.Event.ID)))
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
