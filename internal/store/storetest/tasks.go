package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

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

func testClaimAndComplete(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid, ep := acme(t, s)
	ne := newEvent(tid, "order.created", "", base, ep.ID)
	later := newEvent(tid, "order.created", "", base, ep.ID)
	later.Tasks[0].NextAt = base.Add(time.Hour)
	leased := newEvent(tid, "order.created", "", base, ep.ID)
	leased.Tasks[0].LeaseFor, leased.Tasks[0].LeaseOwner = time.Minute, "node-a"
	accept(t, s, ne, later, leased)
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

// testAttemptDetail completes tasks with attempts of each kind: the kind
// and the detail read back byte for byte (the detail's control bytes,
// U+2028, quotes and backslashes escaped as json.Marshal wrote them, its
// key order kept), an HTTP attempt has no detail.
func testAttemptDetail(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid, ep := acme(t, s)
	ne := newEvent(tid, "order.created", "", base, ep.ID, ep.ID)
	accept(t, s, ne)
	claimed := claimUntil(t, s, store.Claim{Now: base, Lease: time.Minute, Owner: "node-a", Limit: 10}, 2)

	tricky := "\x01 line\u2028sep \"q\" \\ é\t"
	detail, err := json.Marshal(struct {
		Reason string `json:"reason"`
		Z      int    `json:"z"`
		A      []any  `json:"a"`
	}{Reason: tricky, Z: 1, A: []any{nil, true, 2.5}})
	require.NoError(t, err)
	inProcess := store.Attempt{ID: "atm_1", TenantID: tid, Number: 1, StartedAt: base, Duration: time.Millisecond,
		Outcome: "skipped", Kind: store.AttemptNotify, Detail: detail, RequestURL: "notify:welcome"}
	web := store.Attempt{ID: "atm_2", TenantID: tid, Number: 1, StartedAt: base, Duration: time.Millisecond,
		Outcome: "success", Kind: store.AttemptHTTP, RequestURL: ep.URL, ResponseStatus: 200, ResponseBody: "ok"}
	var rs []store.TaskResult
	for i, id := range []string{ne.Tasks[0].ID, ne.Tasks[1].ID} {
		a := []store.Attempt{inProcess, web}[i]
		rs = append(rs, store.TaskResult{TaskID: id, Token: claimed[id].LeaseToken, Attempt: a, Status: store.StatusSucceeded})
	}
	stale, err := s.CompleteTasks(ctx, rs)
	require.NoError(t, err)
	require.Empty(t, stale)

	for _, r := range rs {
		got, err := s.ListAttempts(ctx, tid, r.TaskID)
		require.NoError(t, err)
		require.Len(t, got, 1)
		want := r.Attempt
		want.TaskID = r.TaskID
		want.RequestHeaders, want.ResponseHeaders = got[0].RequestHeaders, got[0].ResponseHeaders
		require.Equal(t, want, got[0])
	}
	got, err := s.ListAttempts(ctx, tid, ne.Tasks[0].ID)
	require.NoError(t, err)
	require.Equal(t, string(detail), string(got[0].Detail))
	require.True(t, json.Valid(got[0].Detail))
	var back struct {
		Reason string `json:"reason"`
	}
	require.NoError(t, json.Unmarshal(got[0].Detail, &back))
	require.Equal(t, tricky, back.Reason)
	got, err = s.ListAttempts(ctx, tid, ne.Tasks[1].ID)
	require.NoError(t, err)
	require.Nil(t, got[0].Detail, "an HTTP attempt has no detail")
}

func testRequeueAndRelease(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid, ep := acme(t, s)
	ne := newEvent(tid, "order.created", "", base, ep.ID)
	ne.Tasks[0].LeaseFor, ne.Tasks[0].LeaseOwner = time.Hour, "node-a"
	accept(t, s, ne)
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
	accept(t, s, ne)
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
	accept(t, s, other)
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
	accept(t, s, ne)
	claimed, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Minute, Owner: "node-a", Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	ahead := time.Now().Add(1000 * time.Hour)
	none, err := s.ClaimTasks(ctx, store.Claim{Now: ahead, Lease: time.Minute, Owner: "node-b", Limit: 10})
	require.NoError(t, err)
	require.Empty(t, none, "a lease is compared with the database's clock, not the claimer's")
	later := newEvent(tid, "order.created", "", base.Add(999*time.Hour), ep.ID)
	accept(t, s, later)
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
	accept(t, s, evs...)
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
	accept(t, s, first, second)

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

func testActivity(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := tenant(t, s, "a"), tenant(t, s, "b")
	ep, other := endpoint(t, s, a), endpoint(t, s, b)
	old := newEvent(a, "order.created", "", base.Add(-2*time.Hour), ep.ID)
	// NewID never goes back in time within a process (other tests made
	// later ids already): the lowest ids of that time stand in.
	old.Event.ID = event.FirstID(event.PrefixEvent, base.Add(-2*time.Hour))
	old.Tasks[0].ID, old.Tasks[0].EventID = event.FirstID(event.PrefixDelivery, base.Add(-2*time.Hour)), old.Event.ID
	first := newEvent(a, "order.created", "", base, ep.ID)
	second := newEvent(a, "order.created", "", base.Add(30*time.Second), ep.ID)
	third := newEvent(a, "order.created", "", base.Add(90*time.Second), ep.ID)
	elsewhere := newEvent(b, "order.created", "", base, other.ID)
	accept(t, s, old, first, second, third, elsewhere)
	claimed, err := s.ClaimTasks(ctx, store.Claim{Now: base.Add(time.Hour), Lease: time.Minute, Owner: "n", Limit: 10})
	require.NoError(t, err)
	token := map[string]int64{}
	for _, c := range claimed {
		token[c.ID] = c.LeaseToken
	}
	done := func(task store.Task, status string) time.Time {
		_, err := s.CompleteTasks(ctx, []store.TaskResult{{TaskID: task.ID, Token: token[task.ID], Status: status,
			Attempt: store.Attempt{ID: event.NewID(event.PrefixAttempt, base), TenantID: task.TenantID, Number: 1, StartedAt: base.Add(2 * time.Minute), Outcome: "x"}}})
		require.NoError(t, err)
		got, err := s.GetTask(ctx, task.TenantID, task.ID)
		require.NoError(t, err)
		require.Equal(t, status, got.Status)
		return got.UpdatedAt.Truncate(time.Minute)
	}
	okAt := done(first.Tasks[0], store.StatusSucceeded)
	failedAt := done(second.Tasks[0], store.StatusFailed)
	done(old.Tasks[0], store.StatusSucceeded) // created before the window: not counted
	done(elsewhere.Tasks[0], store.StatusSucceeded)

	got, err := s.Activity(ctx, a, store.ActivityQuery{Since: base.Add(-time.Minute), Limit: 100})
	require.NoError(t, err)
	require.False(t, got.Capped)
	want := map[time.Time]store.ActivityMinute{}
	add := func(at time.Time, f func(*store.ActivityMinute)) {
		m := want[at]
		m.Minute = at
		f(&m)
		want[at] = m
	}
	add(base.Truncate(time.Minute), func(m *store.ActivityMinute) { m.Accepted++ })
	add(base.Add(30*time.Second).Truncate(time.Minute), func(m *store.ActivityMinute) { m.Accepted++ })
	add(base.Add(90*time.Second).Truncate(time.Minute), func(m *store.ActivityMinute) { m.Accepted++ })
	add(okAt, func(m *store.ActivityMinute) { m.Succeeded++ })
	add(failedAt, func(m *store.ActivityMinute) { m.Failed++ })
	var wantMinutes []store.ActivityMinute
	for _, m := range want {
		wantMinutes = append(wantMinutes, m)
	}
	slices.SortFunc(wantMinutes, func(x, y store.ActivityMinute) int { return x.Minute.Compare(y.Minute) })
	require.Equal(t, wantMinutes, got.Minutes)

	capped, err := s.Activity(ctx, a, store.ActivityQuery{Since: base.Add(-time.Minute), Limit: 2})
	require.NoError(t, err)
	require.True(t, capped.Capped, "three events in the window, two counted")
	accepted := 0
	for _, m := range capped.Minutes {
		accepted += m.Accepted
	}
	require.Equal(t, 2, accepted, "the newest two")
}

// testTraceparent checks that an event's trace context is kept: read back
// by GetEvent, ListEvents, an idempotent repeat, and with the task that a
// claim loads (the attempt continues the trace after a restart).
func testTraceparent(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid, ep := acme(t, s)
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	traced := newEvent(tid, "order.created", "k1", base, ep.ID)
	traced.Event.Traceparent = tp
	plain := newEvent(tid, "order.paid", "", base.Add(time.Millisecond))
	for _, ne := range []*store.NewEvent{&traced, &plain} {
		ne.IdempotentSince = base.Add(-time.Hour)
	}
	accept(t, s, traced, plain)

	got, err := s.GetEvent(ctx, tid, traced.Event.ID)
	require.NoError(t, err)
	require.Equal(t, tp, got.Traceparent)
	got, err = s.GetEvent(ctx, tid, plain.Event.ID)
	require.NoError(t, err)
	require.Empty(t, got.Traceparent)
	evs, err := s.ListEvents(ctx, tid, store.EventQuery{Type: "order.created"})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, tp, evs[0].Traceparent)

	repeat := newEvent(tid, "order.created", "k1", base.Add(time.Minute))
	repeat.IdempotentSince = base.Add(-time.Hour)
	res, err := s.AcceptEvents(ctx, []store.NewEvent{repeat})
	require.NoError(t, err)
	require.True(t, res[0].Duplicate)
	require.Equal(t, tp, res[0].Event.Traceparent, "a repeat answers the stored event")

	claimed, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Minute, Owner: "node-a", Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.NotNil(t, claimed[0].Event)
	require.Equal(t, tp, claimed[0].Event.Traceparent)
}

// testFaults: CheckWrite passes on a working store, and an accept whose
// deadline has passed fails as store.ErrUnavailable and commits nothing;
// under a deadline still ahead it commits as usual.
func testFaults(t *testing.T, s store.Store) {
	ctx := context.Background()
	require.NoError(t, s.CheckWrite(ctx))
	require.NoError(t, s.CheckWrite(ctx), "CheckWrite leaves nothing behind that a second one trips on")

	tid, ep := acme(t, s)
	late := newEvent(tid, "order.created", "late", base, ep.ID)
	late.IdempotentSince = base.Add(-time.Hour)
	dead, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	_, err := s.AcceptEvents(dead, []store.NewEvent{late})
	require.ErrorIs(t, err, store.ErrUnavailable)
	require.NotErrorIs(t, err, store.ErrCommitUnknown, "nothing was sent: the outcome is known")
	require.ErrorIs(t, errOf(s.GetEvent(ctx, tid, late.Event.ID)), store.ErrNotFound, "a failed accept commits nothing")

	ahead, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := s.AcceptEvents(ahead, []store.NewEvent{late})
	require.NoError(t, err)
	require.False(t, res[0].Duplicate, "the key of the failed accept was not taken")
	require.NoError(t, errOf(s.GetEvent(ctx, tid, late.Event.ID)))
	require.NoError(t, s.CheckWrite(ahead), "a deadline on the check is fine")
}

// testCommit: events and results written in one transaction, as the
// engine's writer does, with the outcomes of AcceptEvents and
// CompleteTasks; a failure of either part writes neither.
func testCommit(t *testing.T, s store.Store) {
	ctx := t.Context()
	tid, ep := acme(t, s)
	first := newEvent(tid, "order.created", "", base, ep.ID)
	accept(t, s, first)
	claimed := claimUntil(t, s, store.Claim{Now: base, Lease: time.Hour, Owner: "node-a", Limit: 10}, 1)
	task := claimed[first.Tasks[0].ID]

	result := store.TaskResult{TaskID: task.ID, Token: task.LeaseToken, Status: store.StatusSucceeded,
		Attempt: store.Attempt{ID: "atm_c1", TenantID: tid, Number: 1, StartedAt: base, Outcome: "success"}}
	stray := store.TaskResult{TaskID: "tsk_unknown", Token: 1, Status: store.StatusSucceeded,
		Attempt: store.Attempt{ID: "atm_c2", TenantID: tid, Number: 1, StartedAt: base, Outcome: "success"}}
	second := newEvent(tid, "order.paid", "", base, ep.ID)
	dup := newEvent(tid, "order.paid", "", base, ep.ID)
	second.Event.IdempotencyKey, dup.Event.IdempotencyKey = "k1", "k1"
	accepted, stale, err := s.Commit(ctx, []store.NewEvent{second, dup}, []store.TaskResult{result, stray})
	require.NoError(t, err)
	require.Equal(t, []string{"tsk_unknown"}, stale)
	require.Len(t, accepted, 2)
	require.False(t, accepted[0].Duplicate)
	require.True(t, accepted[1].Duplicate, "idempotency holds within the batch")
	require.Equal(t, second.Event.ID, accepted[1].Event.ID)
	_, err = s.GetEvent(ctx, tid, second.Event.ID)
	require.NoError(t, err)
	got, err := s.GetTask(ctx, tid, task.ID)
	require.NoError(t, err)
	require.Equal(t, store.StatusSucceeded, got.Status)

	// An attempt id written before fails the results' part: the events
	// of the same transaction are not written either.
	third := newEvent(tid, "order.shipped", "", base, ep.ID)
	accept(t, s, third)
	next := claimUntil(t, s, store.Claim{Now: base, Lease: time.Hour, Owner: "node-a", Limit: 10}, 2)[third.Tasks[0].ID]
	clash := store.TaskResult{TaskID: next.ID, Token: next.LeaseToken, Status: store.StatusSucceeded,
		Attempt: store.Attempt{ID: "atm_c1", TenantID: tid, Number: 1, StartedAt: base, Outcome: "success"}}
	fourth := newEvent(tid, "order.closed", "", base, ep.ID)
	_, _, err = s.Commit(ctx, []store.NewEvent{fourth}, []store.TaskResult{clash})
	require.Error(t, err)
	_, err = s.GetEvent(ctx, tid, fourth.Event.ID)
	require.ErrorIs(t, err, store.ErrNotFound, "rolled back with the results")
	got, err = s.GetTask(ctx, tid, next.ID)
	require.NoError(t, err)
	require.Equal(t, 0, got.Attempts, "the task is as it was")
}

// testCommitConcurrent runs Commit from 8 goroutines at once, as a writer
// of several lanes (or several nodes) does: each accepts events under the
// same 8 idempotency keys and records the results of its own claimed
// tasks. Every call succeeds, each key is accepted once (the others see
// that event as a duplicate) and every result is written.
func testCommitConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	tid, ep := acme(t, s)
	const writers, per = 8, 8
	var evs []store.NewEvent
	for range writers * per {
		evs = append(evs, newEvent(tid, "order.created", "", base, ep.ID))
	}
	accept(t, s, evs...)
	claimed := claimUntil(t, s, store.Claim{Now: base, Lease: time.Hour, Owner: "node-a", Limit: writers * per}, writers*per)
	type outcome struct {
		accepted []store.Accepted
		stale    []string
		err      error
	}
	outs := make([]outcome, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			var news []store.NewEvent
			var rs []store.TaskResult
			for i := range per {
				news = append(news, newEvent(tid, "order.paid", fmt.Sprintf("key-%d", i), base, ep.ID))
				task := claimed[evs[w*per+i].Tasks[0].ID]
				rs = append(rs, store.TaskResult{TaskID: task.ID, Token: task.LeaseToken, Status: store.StatusSucceeded,
					Attempt: store.Attempt{ID: fmt.Sprintf("atm_cc_%d_%d", w, i), TenantID: tid, Number: 1, StartedAt: base, Outcome: "success"}})
			}
			o := &outs[w]
			o.accepted, o.stale, o.err = s.Commit(ctx, news, rs)
		})
	}
	wg.Wait()
	firsts := map[string]string{} // key → the one event accepted under it
	for w, o := range outs {
		require.NoError(t, o.err, "writer %d", w)
		require.Empty(t, o.stale, "writer %d", w)
		for _, a := range o.accepted {
			if !a.Duplicate {
				prev, seen := firsts[a.Event.IdempotencyKey]
				require.False(t, seen, "key %s accepted twice: %s and %s", a.Event.IdempotencyKey, prev, a.Event.ID)
				firsts[a.Event.IdempotencyKey] = a.Event.ID
			}
		}
	}
	require.Len(t, firsts, per)
	for w, o := range outs {
		for _, a := range o.accepted {
			require.Equal(t, firsts[a.Event.IdempotencyKey], a.Event.ID, "writer %d: a duplicate names the event first accepted", w)
		}
	}
	for _, task := range claimed {
		got, err := s.GetTask(ctx, tid, task.ID)
		require.NoError(t, err)
		require.Equal(t, store.StatusSucceeded, got.Status)
	}
}
