package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/store"
)

func workflows(s store.Store) versioned[store.Workflow] {
	return versioned[store.Workflow]{func(tenantID, name string, version int) store.Workflow {
		return store.Workflow{TenantID: tenantID, Name: name, Version: version, Enabled: true,
			Spec:      fmt.Appendf(nil, `{"on":"order.created","steps":[{"id":"s%d"}]}`, version),
			CreatedAt: base.Add(time.Duration(version) * time.Minute)}
	}, s.CreateWorkflow, s.GetWorkflow, s.ListWorkflows}
}

// newRun is a running run of workflow "onboard" v1, not yet saved.
func newRun(tenantID, id string) store.Run {
	return store.Run{ID: id, TenantID: tenantID, Workflow: "onboard", Version: 1, Status: store.RunRunning, EventID: "evt_" + id,
		State: []byte(`{"step":"s1","vars":{"a":1}}`), CreatedAt: base, UpdatedAt: base}
}

func testWorkflowVersions(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	v1, v2, v10, _ := workflows(s).check(t, a, "onboard", "billing")
	versions, err := s.ListWorkflowVersions(ctx, a, "onboard")
	require.NoError(t, err)
	require.Equal(t, []store.Workflow{v10, v2, v1}, versions, "newest first")
	versions, err = s.ListWorkflowVersions(ctx, a, "missing")
	require.NoError(t, err)
	require.Empty(t, versions)
}

func testWorkflowEnableDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	workflows(s).add(t, a, "onboard", 1)
	workflows(s).add(t, a, "onboard", 2)
	billing := workflows(s).add(t, a, "billing", 1)

	require.NoError(t, s.SetWorkflowEnabled(ctx, a, "onboard", false))
	versions, err := s.ListWorkflowVersions(ctx, a, "onboard")
	require.NoError(t, err)
	require.Len(t, versions, 2)
	for _, w := range versions {
		require.False(t, w.Enabled, "version %d", w.Version)
	}
	got, err := s.GetWorkflow(ctx, a, "billing", 0)
	require.NoError(t, err)
	require.True(t, got.Enabled, "other workflows keep theirs")
	require.NoError(t, s.SetWorkflowEnabled(ctx, a, "onboard", true))
	got, err = s.GetWorkflow(ctx, a, "onboard", 1)
	require.NoError(t, err)
	require.True(t, got.Enabled)
	require.ErrorIs(t, s.SetWorkflowEnabled(ctx, a, "missing", true), store.ErrNotFound)

	write(t, s.SaveRun, store.RunSave{Run: newRun(a, "run_1")})
	require.NoError(t, s.DeleteWorkflow(ctx, a, "onboard"))
	require.ErrorIs(t, errOf(s.GetWorkflow(ctx, a, "onboard", 0)), store.ErrNotFound)
	versions, err = s.ListWorkflowVersions(ctx, a, "onboard")
	require.NoError(t, err)
	require.Empty(t, versions, "every version goes")
	require.ErrorIs(t, s.DeleteWorkflow(ctx, a, "onboard"), store.ErrNotFound)
	read(t, []store.Workflow{billing})(s.ListWorkflows(ctx, a))
	require.NoError(t, errOf(s.GetRun(ctx, a, "run_1")), "runs outlive their workflow")

	// The name can start again.
	again := workflows(s).add(t, a, "onboard", 1)
	read(t, again)(s.GetWorkflow(ctx, a, "onboard", 0))
}

func testWorkflowIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	workflows(s).add(t, a, "onboard", 1)
	workflows(s).add(t, a, "onboard", 2)
	wb := workflows(s).add(t, b, "onboard", 1)

	got, err := s.GetWorkflow(ctx, b, "onboard", 0)
	require.NoError(t, err)
	require.Equal(t, wb, got, "names and versions are per tenant")
	require.ErrorIs(t, errOf(s.GetWorkflow(ctx, b, "onboard", 2)), store.ErrNotFound)
	read(t, []store.Workflow{wb})(s.ListWorkflows(ctx, b))
	require.NoError(t, s.SetWorkflowEnabled(ctx, b, "onboard", false))
	got, err = s.GetWorkflow(ctx, a, "onboard", 2)
	require.NoError(t, err)
	require.True(t, got.Enabled, "another tenant's switch leaves it alone")
	workflows(s).add(t, a, "only_a", 1)
	require.ErrorIs(t, s.SetWorkflowEnabled(ctx, b, "only_a", false), store.ErrNotFound)
	require.ErrorIs(t, s.DeleteWorkflow(ctx, b, "only_a"), store.ErrNotFound)
	require.NoError(t, s.DeleteWorkflow(ctx, b, "onboard"))
	versions, err := s.ListWorkflowVersions(ctx, a, "onboard")
	require.NoError(t, err)
	require.Len(t, versions, 2)

	write(t, s.SaveRun, store.RunSave{Run: newRun(a, "run_a"), Steps: []store.RunStep{{Seq: 1, StepID: "s1", Kind: "http",
		Status: "running", Attempts: 1, StartedAt: base}}})
	require.ErrorIs(t, errOf(s.GetRun(ctx, b, "run_a")), store.ErrNotFound)
	runs, err := s.ListRuns(ctx, b, store.RunQuery{})
	require.NoError(t, err)
	require.Empty(t, runs)
	steps, err := s.ListRunSteps(ctx, b, "run_a")
	require.NoError(t, err)
	require.Empty(t, steps)
	stolen := newRun(b, "run_a")
	require.ErrorIs(t, s.SaveRun(ctx, store.RunSave{Run: stolen, Rev: 1}), store.ErrNotFound,
		"another tenant's run cannot be updated")
	require.ErrorIs(t, s.SaveRun(ctx, store.RunSave{Run: stolen}), store.ErrConflict, "run ids are global")
	got2, err := s.GetRun(ctx, a, "run_a")
	require.NoError(t, err)
	require.Equal(t, 1, got2.Rev)
}

func testSaveRun(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	r := newRun(a, "run_1")
	r.Rev = 7 // ignored: the store counts
	step1 := store.RunStep{Seq: 1, StepID: "s1", Kind: "http", Status: "running", Attempts: 1, Input: []byte(`{"url":"https://x"}`),
		StartedAt: base}
	write(t, s.SaveRun, store.RunSave{Run: r, Steps: []store.RunStep{step1}})
	want := r
	want.Rev = 1
	got, err := s.GetRun(ctx, a, "run_1")
	require.NoError(t, err)
	require.Equal(t, want, got, "created at revision 1")
	require.ErrorIs(t, s.SaveRun(ctx, store.RunSave{Run: r}), store.ErrConflict, "the run exists")
	require.ErrorIs(t, errOf(s.GetRun(ctx, a, "missing")), store.ErrNotFound)

	// A retry of step 1 updates its entry; step 2 starts waiting.
	step1.Status, step1.Attempts, step1.Output, step1.Duration = "succeeded", 2, []byte(`{"status":200}`), 1500*time.Microsecond
	step2 := store.RunStep{Seq: 2, StepID: "s2", Kind: "wait_for", Status: "waiting", Attempts: 1, StartedAt: base.Add(time.Second),
		Error: "not yet"}
	upd := got
	upd.Status, upd.State, upd.WaitEvent, upd.UpdatedAt = store.RunWaiting, []byte(`{"step":"s2"}`), "payment.*", base.Add(time.Minute)
	upd.Workflow, upd.Version, upd.EventID, upd.CreatedAt = "renamed", 9, "evt_other", base.Add(time.Hour) // fixed at creation
	write(t, s.SaveRun, store.RunSave{Run: upd, Rev: 1, Steps: []store.RunStep{step1, step2}})
	got, err = s.GetRun(ctx, a, "run_1")
	require.NoError(t, err)
	want.Status, want.State, want.WaitEvent, want.UpdatedAt, want.Rev = store.RunWaiting, []byte(`{"step":"s2"}`), "payment.*",
		base.Add(time.Minute), 2
	require.Equal(t, want, got)

	steps, err := s.ListRunSteps(ctx, a, "run_1")
	require.NoError(t, err)
	for _, st := range []*store.RunStep{&step1, &step2} {
		st.RunID, st.TenantID = "run_1", a
	}
	require.Equal(t, []store.RunStep{step1, step2}, steps, "by seq, with the run's id and tenant")

	// A save from a stale revision fails and writes nothing.
	stale := got
	stale.Status, stale.Error = store.RunFailed, "boom"
	err = s.SaveRun(ctx, store.RunSave{Run: stale, Rev: 1, Steps: []store.RunStep{{Seq: 3, StepID: "s3", Kind: "http",
		Status: "failed", StartedAt: base}}})
	require.ErrorIs(t, err, store.ErrConflict)
	got, err = s.GetRun(ctx, a, "run_1")
	require.NoError(t, err)
	require.Equal(t, want, got)
	steps, err = s.ListRunSteps(ctx, a, "run_1")
	require.NoError(t, err)
	require.Len(t, steps, 2, "the failed save's step is rolled back")
	missing := newRun(a, "run_missing")
	require.ErrorIs(t, s.SaveRun(ctx, store.RunSave{Run: missing, Rev: 1}), store.ErrNotFound)

	// Finishing: no state, no wait.
	done := got
	done.Status, done.State, done.WaitEvent, done.Error = store.RunFailed, nil, "", "step s2 timed out"
	write(t, s.SaveRun, store.RunSave{Run: done, Rev: 2})
	got, err = s.GetRun(ctx, a, "run_1")
	require.NoError(t, err)
	done.Rev = 3
	require.Equal(t, done, got, "nil state reads back nil")
}

func testSaveRunConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	write(t, s.SaveRun, store.RunSave{Run: newRun(a, "run_1")})
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := newRun(a, "run_1")
			r.State = fmt.Appendf(nil, `{"by":%d}`, i)
			errs[i] = s.SaveRun(ctx, store.RunSave{Run: r, Rev: 1, Steps: []store.RunStep{{Seq: 1, StepID: fmt.Sprint(i),
				Kind: "http", Status: "succeeded", StartedAt: base}}})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "saves %d and %d both won", winner, i)
			winner = i
			continue
		}
		require.ErrorIs(t, err, store.ErrConflict)
	}
	require.NotEqual(t, -1, winner, "one save wins")
	got, err := s.GetRun(ctx, a, "run_1")
	require.NoError(t, err)
	require.Equal(t, 2, got.Rev)
	require.JSONEq(t, fmt.Sprintf(`{"by":%d}`, winner), string(got.State))
	steps, err := s.ListRunSteps(ctx, a, "run_1")
	require.NoError(t, err)
	require.Len(t, steps, 1)
	require.Equal(t, fmt.Sprint(winner), steps[0].StepID, "only the winner's step is written")
}

// testSaveRunChildren: a save creates child runs with the parent's
// update, all or nothing, and ListRuns finds them by parent.
func testSaveRunChildren(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	parent := newRun(a, "run_p")
	write(t, s.SaveRun, store.RunSave{Run: parent})
	child := func(id string) store.Run {
		c := newRun(a, id)
		c.ParentID = "run_p"
		return c
	}
	parent.Status = store.RunWaiting
	write(t, s.SaveRun, store.RunSave{Run: parent, Rev: 1, Children: []store.Run{child("run_c1"), child("run_c2")}})
	got, err := s.GetRun(ctx, a, "run_c1")
	require.NoError(t, err)
	want := child("run_c1")
	want.Rev = 1
	require.Equal(t, want, got, "created at revision 1 with its parent")
	kids, err := s.ListRuns(ctx, a, store.RunQuery{Parent: "run_p"})
	require.NoError(t, err)
	require.Equal(t, []string{"run_c2", "run_c1"}, []string{kids[0].ID, kids[1].ID}, "newest first")
	require.Len(t, kids, 2)

	// A child that exists fails the whole save: the parent keeps its
	// revision and the other child is not created.
	err = s.SaveRun(ctx, store.RunSave{Run: parent, Rev: 2, Children: []store.Run{child("run_c3"), child("run_c1")}})
	require.ErrorIs(t, err, store.ErrConflict)
	got, err = s.GetRun(ctx, a, "run_p")
	require.NoError(t, err)
	require.Equal(t, 2, got.Rev)
	require.ErrorIs(t, errOf(s.GetRun(ctx, a, "run_c3")), store.ErrNotFound)
	// A stale parent creates no child.
	err = s.SaveRun(ctx, store.RunSave{Run: parent, Rev: 1, Children: []store.Run{child("run_c4")}})
	require.ErrorIs(t, err, store.ErrConflict)
	require.ErrorIs(t, errOf(s.GetRun(ctx, a, "run_c4")), store.ErrNotFound)
	all, err := s.ListRuns(ctx, a, store.RunQuery{})
	require.NoError(t, err)
	require.Len(t, all, 3)
}

// workflowTask is a pending workflow task of ne's event for dest, due at.
func workflowTask(ne store.NewEvent, id, dest string, at time.Time) store.Task {
	return store.Task{ID: id, TenantID: ne.Event.TenantID, EventID: ne.Event.ID, EventType: ne.Event.Type, Kind: "workflow",
		DestinationID: dest, Status: store.StatusPending, NextAt: at, CreatedAt: base, UpdatedAt: base}
}

// workflowEvent accepts an order.created event of a new tenant "a" and
// returns the tenant, the event and a maker of the event's pending
// workflow tasks for dest.
func workflowEvent(t *testing.T, s store.Store, dest string) (string, store.NewEvent, func(id string, at time.Time) store.Task) {
	t.Helper()
	a := tenant(t, s, "a")
	ne := newEvent(a, "order.created", "", base)
	accept(t, s, ne)
	return a, ne, func(id string, at time.Time) store.Task { return workflowTask(ne, id, dest, at) }
}

func testSaveRunTasks(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, ne, task := workflowEvent(t, s, "run_1")
	r := newRun(a, "run_1")
	r.EventID = ne.Event.ID
	next := task("dlv_step", base)
	write(t, s.SaveRun, store.RunSave{Run: r, Tasks: []store.Task{next, task("dlv_timeout", base.Add(time.Hour))}})

	got, err := s.GetTask(ctx, a, "dlv_timeout")
	require.NoError(t, err)
	require.Equal(t, base.Add(time.Hour), got.NextAt)
	claimed, err := s.ClaimTasks(ctx, store.Claim{Now: base, Lease: time.Minute, Owner: "node-a", Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 1, "the due task")
	require.Equal(t, "dlv_step", claimed[0].ID)
	require.Equal(t, "run_1", claimed[0].DestinationID)
	require.NotNil(t, claimed[0].Event)
	require.Equal(t, ne.Event.ID, claimed[0].Event.ID)

	// A failed save adds no task.
	err = s.SaveRun(ctx, store.RunSave{Run: r, Rev: 5, Tasks: []store.Task{task("dlv_lost", base)}})
	require.ErrorIs(t, err, store.ErrConflict)
	require.ErrorIs(t, errOf(s.GetTask(ctx, a, "dlv_lost")), store.ErrNotFound)
	// A task that cannot be written fails the whole save.
	r.Status = store.RunSucceeded
	err = s.SaveRun(ctx, store.RunSave{Run: r, Rev: 1, Tasks: []store.Task{next}})
	require.Error(t, err)
	got2, err := s.GetRun(ctx, a, "run_1")
	require.NoError(t, err)
	require.Equal(t, 1, got2.Rev)
	require.Equal(t, store.RunRunning, got2.Status)
}

func testListRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	var all []store.Run // oldest first
	for i := range 7 {
		r := newRun(a, fmt.Sprintf("run_%02d", i))
		if i%2 == 1 {
			r.Workflow = "billing"
		}
		if i%3 == 0 {
			r.Status = store.RunSucceeded
		}
		write(t, s.SaveRun, store.RunSave{Run: r})
		r.Rev = 1
		all = append(all, r)
	}
	ids := func(runs []store.Run) []string {
		out := []string{}
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out
	}

	seen := pageIDs(t, func(p store.Page) ([]store.Run, error) {
		return s.ListRuns(ctx, a, store.RunQuery{Page: p})
	}, func(r store.Run) string { return r.ID })
	require.Equal(t, []string{"run_06", "run_05", "run_04", "run_03", "run_02", "run_01", "run_00"}, seen, "newest first")

	list, err := s.ListRuns(ctx, a, store.RunQuery{})
	require.NoError(t, err)
	require.Equal(t, all[6], list[0], "the whole run")
	list, err = s.ListRuns(ctx, a, store.RunQuery{Workflow: "billing"})
	require.NoError(t, err)
	require.Equal(t, []string{"run_05", "run_03", "run_01"}, ids(list))
	list, err = s.ListRuns(ctx, a, store.RunQuery{Status: store.RunSucceeded})
	require.NoError(t, err)
	require.Equal(t, []string{"run_06", "run_03", "run_00"}, ids(list))
	list, err = s.ListRuns(ctx, a, store.RunQuery{Workflow: "onboard", Status: store.RunSucceeded})
	require.NoError(t, err)
	require.Equal(t, []string{"run_06", "run_00"}, ids(list))
	list, err = s.ListRuns(ctx, a, store.RunQuery{Workflow: "onboard", Page: store.Page{Cursor: "run_06", Limit: 1}})
	require.NoError(t, err)
	require.Equal(t, []string{"run_04"}, ids(list))
	list, err = s.ListRuns(ctx, a, store.RunQuery{Workflow: "missing"})
	require.NoError(t, err)
	require.Empty(t, list)
}

// saveWaiting saves a new run waiting for pattern (with a key and value,
// or none) and returns it as stored.
func saveWaiting(t *testing.T, s store.Store, tenantID, id, pattern, key, value string) store.Run {
	r := newRun(tenantID, id)
	r.Status, r.WaitEvent, r.WaitKey, r.WaitValue = store.RunWaiting, pattern, key, value
	write(t, s.SaveRun, store.RunSave{Run: r})
	r.Rev = 1
	return r
}

func testWaitingRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	waiting := func(tenantID, id, pattern string) store.Run {
		return saveWaiting(t, s, tenantID, id, pattern, "", "")
	}
	w1 := waiting(a, "run_1", "payment.*")
	waiting(a, "run_2", "") // a delay: waits for time, not an event
	write(t, s.SaveRun, store.RunSave{Run: newRun(a, "run_3")})
	w4 := waiting(a, "run_4", "refund.created")
	wb := waiting(b, "run_b", "payment.*")

	// Waiting runs come without their state.
	w1.State, w4.State, wb.State = nil, nil, nil
	list, err := s.WaitingRuns(ctx, a)
	require.NoError(t, err)
	require.ElementsMatch(t, []store.Run{w1, w4}, list)
	read(t, []store.Run{wb})(s.WaitingRuns(ctx, b))

	// Resumed: no longer waiting.
	w1.Status, w1.WaitEvent = store.RunRunning, ""
	write(t, s.SaveRun, store.RunSave{Run: w1, Rev: 1})
	read(t, []store.Run{w4})(s.WaitingRuns(ctx, a))
}

func testPruneRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	mk := func(id, status string, updated time.Time) {
		r := newRun(a, id)
		r.Status, r.UpdatedAt = status, updated
		write(t, s.SaveRun, store.RunSave{Run: r, Steps: []store.RunStep{{Seq: 1, StepID: "s1", Kind: "set", Status: "succeeded", StartedAt: base}}})
	}
	old, recent := base.Add(-48*time.Hour), base
	mk("run_old_ok", store.RunSucceeded, old)
	mk("run_old_failed", store.RunFailed, old.Add(time.Minute))
	mk("run_old_cancelled", store.RunCancelled, old.Add(2*time.Minute))
	mk("run_old_waiting", store.RunWaiting, old)
	mk("run_old_running", store.RunRunning, old)
	mk("run_new_ok", store.RunSucceeded, recent)

	read(t, 2, "at most limit")(s.PruneRuns(ctx, base.Add(-time.Hour), 2))
	read(t, 1)(s.PruneRuns(ctx, base.Add(-time.Hour), 10))
	for _, id := range []string{"run_old_ok", "run_old_failed", "run_old_cancelled"} {
		require.ErrorIs(t, errOf(s.GetRun(ctx, a, id)), store.ErrNotFound, id)
		steps, err := s.ListRunSteps(ctx, a, id)
		require.NoError(t, err)
		require.Empty(t, steps, "steps go with their run")
	}
	for _, id := range []string{"run_old_waiting", "run_old_running", "run_new_ok"} {
		require.NoError(t, errOf(s.GetRun(ctx, a, id)), "%s is kept", id)
	}
}

// Every attempt of a step is kept, while the step log keeps the last.
func testRunAttempts(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	first := store.RunStep{Seq: 1, StepID: "charge", Kind: "http", Status: "retrying", Attempts: 1,
		Input: []byte(`{"url":"https://x"}`), Output: []byte(`{"status":503}`), Error: "answered 503", StartedAt: base,
		Duration: 2 * time.Millisecond}
	write(t, s.SaveRun, store.RunSave{Run: newRun(a, "run_1"), Steps: []store.RunStep{first}})
	second := first
	second.Status, second.Attempts, second.Output, second.Error, second.StartedAt = "succeeded", 2, []byte(`{"status":200}`), "",
		base.Add(time.Second)
	wait := store.RunStep{Seq: 2, StepID: "pause", Kind: "delay", Status: "waiting", Attempts: 1, StartedAt: base.Add(2 * time.Second)}
	run, err := s.GetRun(ctx, a, "run_1")
	require.NoError(t, err)
	write(t, s.SaveRun, store.RunSave{Run: run, Rev: 1, Steps: []store.RunStep{second, wait}})
	// The wait ends: its attempt is written again, not added.
	woke := wait
	woke.Status, woke.Duration = "succeeded", time.Hour
	write(t, s.SaveRun, store.RunSave{Run: run, Rev: 2, Steps: []store.RunStep{woke}})

	for _, st := range []*store.RunStep{&first, &second, &woke} {
		st.RunID, st.TenantID = "run_1", a
	}
	read(t, []store.RunStep{first, second, woke}, "by seq and attempt")(s.ListRunAttempts(ctx, a, "run_1"))
	steps, err := s.ListRunSteps(ctx, a, "run_1")
	require.NoError(t, err)
	require.Equal(t, []store.RunStep{second, woke}, steps, "the log has the last attempt of each step")
	other, err := s.ListRunAttempts(ctx, b, "run_1")
	require.NoError(t, err)
	require.Empty(t, other, "another tenant's run has none")

	// They go with their run.
	run, err = s.GetRun(ctx, a, "run_1")
	require.NoError(t, err)
	run.Status, run.UpdatedAt = store.RunSucceeded, base.Add(-48*time.Hour)
	write(t, s.SaveRun, store.RunSave{Run: run, Rev: run.Rev})
	read(t, 1)(s.PruneRuns(ctx, base.Add(-time.Hour), 10))
	gone, err := s.ListRunAttempts(ctx, a, "run_1")
	require.NoError(t, err)
	require.Empty(t, gone)
}

// Keyed waits are found by key and value, and only while waiting.
func testWaitKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	waiting := func(tenantID, id, value string) store.Run {
		r := saveWaiting(t, s, tenantID, id, "shipment.*", "event.data.order_id", value)
		r.State = nil
		return r
	}
	w1 := waiting(a, "run_1", "o1")
	w2 := waiting(a, "run_2", "o2")
	w3 := waiting(a, "run_3", "o1")
	waiting(b, "run_b", "o1")
	read(t, []store.Run{w1, w3}, "by key and value, oldest first, without state")(s.WaitingRunsFor(ctx, a, "event.data.order_id", "o1"))
	read(t, []store.Run{w2})(s.WaitingRunsFor(ctx, a, "event.data.order_id", "o2"))
	none, err := s.WaitingRunsFor(ctx, a, "event.data.id", "o1")
	require.NoError(t, err)
	require.Empty(t, none, "another key")
	list, err := s.WaitingRuns(ctx, a)
	require.NoError(t, err)
	require.ElementsMatch(t, []store.Run{w1, w2, w3}, list, "WaitingRuns carries the keys")

	// Resumed: the run no longer waits, whatever its columns say.
	w1.Status = store.RunRunning
	write(t, s.SaveRun, store.RunSave{Run: w1, Rev: 1})
	read(t, []store.Run{w3})(s.WaitingRunsFor(ctx, a, "event.data.order_id", "o1"))
	got, err := s.GetRun(ctx, a, "run_3")
	require.NoError(t, err)
	require.Equal(t, "o1", got.WaitValue)
}

// Buffered events are listed by key and value since a time, are kept once
// per event, and are pruned with the event log's retention.
func testWaitBuffer(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	buf := func(tenantID, value, id string, at time.Time) store.BufferedEvent {
		e := store.BufferedEvent{TenantID: tenantID, Key: "event.data.order_id", Value: value, EventID: id,
			EventType: "shipment.confirmed", CreatedAt: at}
		write(t, s.BufferEvent, e)
		return e
	}
	old := buf(a, "o1", "evt_1", base.Add(-time.Hour))
	e2 := buf(a, "o1", "evt_2", base)
	buf(a, "o2", "evt_3", base)
	buf(b, "o1", "evt_4", base)
	write(t, s.BufferEvent, e2) // again: no second row

	read(t, []store.BufferedEvent{old, e2}, "oldest first")(s.BufferedEvents(ctx, a, "event.data.order_id", "o1", base.Add(-2*time.Hour)))
	read(t, []store.BufferedEvent{e2}, "since")(s.BufferedEvents(ctx, a, "event.data.order_id", "o1", base))
	none, err := s.BufferedEvents(ctx, a, "event.data.id", "o1", base.Add(-2*time.Hour))
	require.NoError(t, err)
	require.Empty(t, none, "another key")

	for i := range store.MaxBuffered + 5 {
		buf(a, "many", fmt.Sprintf("evt_m%03d", i), base.Add(time.Duration(i)*time.Millisecond))
	}
	many, err := s.BufferedEvents(ctx, a, "event.data.order_id", "many", base.Add(-time.Hour))
	require.NoError(t, err)
	require.Len(t, many, store.MaxBuffered, "at most MaxBuffered")
	require.Equal(t, "evt_m000", many[0].EventID)

	// Pruned with the event log: those accepted before the cutoff go.
	n, err := s.PruneRuns(ctx, base.Add(-time.Minute), 1000)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	read(t, []store.BufferedEvent{e2})(s.BufferedEvents(ctx, a, "event.data.order_id", "o1", base.Add(-2*time.Hour)))
}

// A run's listens are listed while it runs or waits, and no longer once
// it ended.
func testRunListens(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	listens := []store.RunListen{{Idx: 0, Pattern: "order.cancelled", Key: "event.data.id", Value: "o1"}, {Idx: 1, Pattern: "order.voided"}}
	r1 := newRun(a, "run_1")
	write(t, s.SaveRun, store.RunSave{Run: r1, Listens: listens})
	write(t, s.SaveRun, store.RunSave{Run: newRun(a, "run_2")})
	write(t, s.SaveRun, store.RunSave{Run: newRun(b, "run_b"), Listens: listens[:1]})
	want := []store.RunListen{
		{RunID: "run_1", TenantID: a, Idx: 0, Pattern: "order.cancelled", Key: "event.data.id", Value: "o1", EventID: "evt_run_1"},
		{RunID: "run_1", TenantID: a, Idx: 1, Pattern: "order.voided", EventID: "evt_run_1"},
	}
	read(t, want)(s.ListeningRuns(ctx, a))
	r1.Status = store.RunWaiting
	write(t, s.SaveRun, store.RunSave{Run: r1, Rev: 1})
	read(t, want, "waiting runs listen too")(s.ListeningRuns(ctx, a))
	r1.Status = store.RunCancelled
	write(t, s.SaveRun, store.RunSave{Run: r1, Rev: 2})
	none, err := s.ListeningRuns(ctx, a)
	require.NoError(t, err)
	require.Empty(t, none, "an ended run listens no more")
}

// testSaveRunResult saves runs with the result of the attempt that made
// the save: the task completes with the save; a result whose lease is no
// longer held, or a save that fails, writes neither.
func testSaveRunResult(t *testing.T, s store.Store) {
	ctx := context.Background()
	tid, ep := acme(t, s)
	ne := newEvent(tid, "order.created", "", base, ep.ID)
	ne.Tasks[0].LeaseFor, ne.Tasks[0].LeaseOwner = time.Minute, "node-a"
	other := newEvent(tid, "order.created", "", base, ep.ID)
	other.Tasks[0].LeaseFor, other.Tasks[0].LeaseOwner = time.Minute, "node-a"
	accept(t, s, ne, other)
	result := func(taskID, id string) *store.TaskResult {
		return &store.TaskResult{TaskID: taskID, Status: store.StatusSucceeded, Attempt: store.Attempt{ID: id, TaskID: taskID,
			TenantID: tid, Number: 1, StartedAt: base, Duration: time.Millisecond, Outcome: "step_succeeded", Kind: store.AttemptWorkflow}}
	}
	attemptIDs := func(taskID string) []string {
		t.Helper()
		as, err := s.ListAttempts(ctx, tid, taskID)
		require.NoError(t, err)
		var ids []string
		for _, a := range as {
			ids = append(ids, a.ID)
		}
		return ids
	}
	r := newRun(tid, "run_r")
	task := ne.Tasks[0].ID
	write(t, s.SaveRun, store.RunSave{Run: r, Result: result(task, "atm_r1")})
	got, err := s.GetTask(ctx, tid, task)
	require.NoError(t, err)
	require.Equal(t, store.StatusSucceeded, got.Status)
	require.Equal(t, 1, got.Attempts)
	require.True(t, got.LeaseUntil.IsZero(), "the lease ends with the result")
	require.Equal(t, []string{"atm_r1"}, attemptIDs(task))

	r.Status = store.RunSucceeded
	require.ErrorIs(t, s.SaveRun(ctx, store.RunSave{Run: r, Rev: 1, Result: result(task, "atm_r2")}), store.ErrStale,
		"the task's result is written already")
	run, err := s.GetRun(ctx, tid, r.ID)
	require.NoError(t, err)
	require.Equal(t, 1, run.Rev, "a save with a stale result writes nothing")
	require.Equal(t, store.RunRunning, run.Status)
	require.Equal(t, []string{"atm_r1"}, attemptIDs(task))

	free := other.Tasks[0].ID
	require.ErrorIs(t, s.SaveRun(ctx, store.RunSave{Run: r, Rev: 5, Result: result(free, "atm_o1")}), store.ErrConflict)
	got, err = s.GetTask(ctx, tid, free)
	require.NoError(t, err)
	require.Equal(t, store.StatusPending, got.Status, "a save that fails completes no task")
	require.Zero(t, got.Attempts)
	require.Empty(t, attemptIDs(free))
}
