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

// runWorkflows runs the workflow group, each test on a store of its own.
func runWorkflows(t *testing.T, open Open) {
	tests := map[string]func(*testing.T, store.Store){
		"Versions":       testWorkflowVersions,
		"EnableDelete":   testWorkflowEnableDelete,
		"Isolation":      testWorkflowIsolation,
		"SaveRun":        testSaveRun,
		"ConcurrentSave": testSaveRunConcurrent,
		"RunTasks":       testSaveRunTasks,
		"ListRuns":       testListRuns,
		"WaitingRuns":    testWaitingRuns,
		"PruneRuns":      testPruneRuns,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}

func workflow(t *testing.T, s store.Store, tenantID, name string, version int) store.Workflow {
	t.Helper()
	w := store.Workflow{TenantID: tenantID, Name: name, Version: version,
		Spec: fmt.Appendf(nil, `{"on":"order.created","steps":[{"id":"s%d"}]}`, version), Enabled: true,
		CreatedAt: base.Add(time.Duration(version) * time.Minute)}
	require.NoError(t, s.CreateWorkflow(context.Background(), w))
	return w
}

// newRun is a running run of workflow "onboard" v1, not yet saved.
func newRun(tenantID, id string) store.Run {
	return store.Run{ID: id, TenantID: tenantID, Workflow: "onboard", Version: 1, Status: store.RunRunning, EventID: "evt_" + id,
		State: []byte(`{"step":"s1","vars":{"a":1}}`), CreatedAt: base, UpdatedAt: base}
}

func saveRun(t *testing.T, s store.Store, sv store.RunSave) {
	t.Helper()
	require.NoError(t, s.SaveRun(context.Background(), sv))
}

func testWorkflowVersions(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	v1 := workflow(t, s, a, "onboard", 1)
	require.ErrorIs(t, s.CreateWorkflow(ctx, v1), store.ErrConflict)
	v2 := workflow(t, s, a, "onboard", 2)
	other := workflow(t, s, a, "billing", 1)

	got, err := s.GetWorkflow(ctx, a, "onboard", 1)
	require.NoError(t, err)
	require.Equal(t, v1, got)
	got, err = s.GetWorkflow(ctx, a, "onboard", 0)
	require.NoError(t, err)
	require.Equal(t, v2, got, "version 0 is the latest")
	_, err = s.GetWorkflow(ctx, a, "onboard", 3)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.GetWorkflow(ctx, a, "missing", 0)
	require.ErrorIs(t, err, store.ErrNotFound)

	v10 := workflow(t, s, a, "onboard", 10)
	list, err := s.ListWorkflows(ctx, a)
	require.NoError(t, err)
	require.Equal(t, []store.Workflow{other, v10}, list, "latest version of each, by name; versions compare as numbers")
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
	workflow(t, s, a, "onboard", 1)
	workflow(t, s, a, "onboard", 2)
	billing := workflow(t, s, a, "billing", 1)

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

	saveRun(t, s, store.RunSave{Run: newRun(a, "run_1")})
	require.NoError(t, s.DeleteWorkflow(ctx, a, "onboard"))
	_, err = s.GetWorkflow(ctx, a, "onboard", 0)
	require.ErrorIs(t, err, store.ErrNotFound)
	versions, err = s.ListWorkflowVersions(ctx, a, "onboard")
	require.NoError(t, err)
	require.Empty(t, versions, "every version goes")
	require.ErrorIs(t, s.DeleteWorkflow(ctx, a, "onboard"), store.ErrNotFound)
	list, err := s.ListWorkflows(ctx, a)
	require.NoError(t, err)
	require.Equal(t, []store.Workflow{billing}, list)
	_, err = s.GetRun(ctx, a, "run_1")
	require.NoError(t, err, "runs outlive their workflow")

	// The name can start again.
	again := workflow(t, s, a, "onboard", 1)
	got, err = s.GetWorkflow(ctx, a, "onboard", 0)
	require.NoError(t, err)
	require.Equal(t, again, got)
}

func testWorkflowIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	workflow(t, s, a, "onboard", 1)
	workflow(t, s, a, "onboard", 2)
	wb := workflow(t, s, b, "onboard", 1)

	got, err := s.GetWorkflow(ctx, b, "onboard", 0)
	require.NoError(t, err)
	require.Equal(t, wb, got, "names and versions are per tenant")
	_, err = s.GetWorkflow(ctx, b, "onboard", 2)
	require.ErrorIs(t, err, store.ErrNotFound)
	list, err := s.ListWorkflows(ctx, b)
	require.NoError(t, err)
	require.Equal(t, []store.Workflow{wb}, list)
	require.NoError(t, s.SetWorkflowEnabled(ctx, b, "onboard", false))
	got, err = s.GetWorkflow(ctx, a, "onboard", 2)
	require.NoError(t, err)
	require.True(t, got.Enabled, "another tenant's switch leaves it alone")
	workflow(t, s, a, "only_a", 1)
	require.ErrorIs(t, s.SetWorkflowEnabled(ctx, b, "only_a", false), store.ErrNotFound)
	require.ErrorIs(t, s.DeleteWorkflow(ctx, b, "only_a"), store.ErrNotFound)
	require.NoError(t, s.DeleteWorkflow(ctx, b, "onboard"))
	versions, err := s.ListWorkflowVersions(ctx, a, "onboard")
	require.NoError(t, err)
	require.Len(t, versions, 2)

	saveRun(t, s, store.RunSave{Run: newRun(a, "run_a"), Steps: []store.RunStep{{Seq: 1, StepID: "s1", Kind: "http",
		Status: "running", Attempts: 1, StartedAt: base}}})
	_, err = s.GetRun(ctx, b, "run_a")
	require.ErrorIs(t, err, store.ErrNotFound)
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
	saveRun(t, s, store.RunSave{Run: r, Steps: []store.RunStep{step1}})
	want := r
	want.Rev = 1
	got, err := s.GetRun(ctx, a, "run_1")
	require.NoError(t, err)
	require.Equal(t, want, got, "created at revision 1")
	require.ErrorIs(t, s.SaveRun(ctx, store.RunSave{Run: r}), store.ErrConflict, "the run exists")
	_, err = s.GetRun(ctx, a, "missing")
	require.ErrorIs(t, err, store.ErrNotFound)

	// A retry of step 1 updates its entry; step 2 starts waiting.
	step1.Status, step1.Attempts, step1.Output, step1.Duration = "succeeded", 2, []byte(`{"status":200}`), 1500*time.Microsecond
	step2 := store.RunStep{Seq: 2, StepID: "s2", Kind: "wait_for", Status: "waiting", Attempts: 1, StartedAt: base.Add(time.Second),
		Error: "not yet"}
	upd := got
	upd.Status, upd.State, upd.WaitEvent, upd.UpdatedAt = store.RunWaiting, []byte(`{"step":"s2"}`), "payment.*", base.Add(time.Minute)
	upd.Workflow, upd.Version, upd.EventID, upd.CreatedAt = "renamed", 9, "evt_other", base.Add(time.Hour) // fixed at creation
	saveRun(t, s, store.RunSave{Run: upd, Rev: 1, Steps: []store.RunStep{step1, step2}})
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
	saveRun(t, s, store.RunSave{Run: done, Rev: 2})
	got, err = s.GetRun(ctx, a, "run_1")
	require.NoError(t, err)
	done.Rev = 3
	require.Equal(t, done, got, "nil state reads back nil")
}

func testSaveRunConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	saveRun(t, s, store.RunSave{Run: newRun(a, "run_1")})
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

func testSaveRunTasks(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	ne := newEvent(a, "order.created", "", base)
	_, err := s.AcceptEvents(ctx, []store.NewEvent{ne})
	require.NoError(t, err)
	task := func(id string, at time.Time) store.Task {
		return store.Task{ID: id, TenantID: a, EventID: ne.Event.ID, EventType: ne.Event.Type, Kind: "workflow",
			DestinationID: "run_1", Status: store.StatusPending, NextAt: at, CreatedAt: base, UpdatedAt: base}
	}
	r := newRun(a, "run_1")
	r.EventID = ne.Event.ID
	next := task("dlv_step", base)
	saveRun(t, s, store.RunSave{Run: r, Tasks: []store.Task{next, task("dlv_timeout", base.Add(time.Hour))}})

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
	_, err = s.GetTask(ctx, a, "dlv_lost")
	require.ErrorIs(t, err, store.ErrNotFound)
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
		saveRun(t, s, store.RunSave{Run: r})
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

	var seen []string
	cursor := ""
	for {
		page, err := s.ListRuns(ctx, a, store.RunQuery{Page: store.Page{Limit: 3, Cursor: cursor}})
		require.NoError(t, err)
		seen = append(seen, ids(page)...)
		if len(page) < 3 {
			break
		}
		cursor = page[len(page)-1].ID
	}
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

func testWaitingRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	b := tenant(t, s, "b")
	waiting := func(tenantID, id, pattern string) store.Run {
		r := newRun(tenantID, id)
		r.Status, r.WaitEvent = store.RunWaiting, pattern
		saveRun(t, s, store.RunSave{Run: r})
		r.Rev = 1
		return r
	}
	w1 := waiting(a, "run_1", "payment.*")
	waiting(a, "run_2", "") // a delay: waits for time, not an event
	saveRun(t, s, store.RunSave{Run: newRun(a, "run_3")})
	w4 := waiting(a, "run_4", "refund.created")
	wb := waiting(b, "run_b", "payment.*")

	// Waiting runs come without their state.
	w1.State, w4.State, wb.State = nil, nil, nil
	list, err := s.WaitingRuns(ctx, a)
	require.NoError(t, err)
	require.ElementsMatch(t, []store.Run{w1, w4}, list)
	list, err = s.WaitingRuns(ctx, b)
	require.NoError(t, err)
	require.Equal(t, []store.Run{wb}, list)

	// Resumed: no longer waiting.
	w1.Status, w1.WaitEvent = store.RunRunning, ""
	saveRun(t, s, store.RunSave{Run: w1, Rev: 1})
	list, err = s.WaitingRuns(ctx, a)
	require.NoError(t, err)
	require.Equal(t, []store.Run{w4}, list)
}

func testPruneRuns(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := tenant(t, s, "a")
	mk := func(id, status string, updated time.Time) {
		r := newRun(a, id)
		r.Status, r.UpdatedAt = status, updated
		saveRun(t, s, store.RunSave{Run: r, Steps: []store.RunStep{{Seq: 1, StepID: "s1", Kind: "set", Status: "succeeded", StartedAt: base}}})
	}
	old, recent := base.Add(-48*time.Hour), base
	mk("run_old_ok", store.RunSucceeded, old)
	mk("run_old_failed", store.RunFailed, old.Add(time.Minute))
	mk("run_old_cancelled", store.RunCancelled, old.Add(2*time.Minute))
	mk("run_old_waiting", store.RunWaiting, old)
	mk("run_old_running", store.RunRunning, old)
	mk("run_new_ok", store.RunSucceeded, recent)

	n, err := s.PruneRuns(ctx, base.Add(-time.Hour), 2)
	require.NoError(t, err)
	require.Equal(t, 2, n, "at most limit")
	n, err = s.PruneRuns(ctx, base.Add(-time.Hour), 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	for _, id := range []string{"run_old_ok", "run_old_failed", "run_old_cancelled"} {
		_, err := s.GetRun(ctx, a, id)
		require.ErrorIs(t, err, store.ErrNotFound, id)
		steps, err := s.ListRunSteps(ctx, a, id)
		require.NoError(t, err)
		require.Empty(t, steps, "steps go with their run")
	}
	for _, id := range []string{"run_old_waiting", "run_old_running", "run_new_ok"} {
		_, err := s.GetRun(ctx, a, id)
		require.NoError(t, err, "%s is kept", id)
	}
}
