package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/store"
)

// BenchmarkWorkflow measures runs/s and steps/s of a 3-step workflow (an
// http call to a local service, a set, an emit), from POST
// /v1/events/batch until every run succeeded, on SQLite (fsync'd). Run
// with:
//
//	go test ./internal/app -run '^$' -bench Workflow -benchtime 2000x
func BenchmarkWorkflow(b *testing.B) {
	a, c, _ := benchApp(b, nil)
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"reservation":"res_1"}`))
	}))
	defer svc.Close()
	ctx := context.Background()
	spec := client.WorkflowSpec{Name: "bench", On: client.WorkflowTrigger{Events: []string{"order.created"}}, Steps: []client.Step{
		{ID: "reserve", HTTP: &client.HTTPStep{Method: "POST", URL: svc.URL + "/reserve", Body: "{{ toJSON(event.data) }}"}},
		{ID: "total", Set: map[string]string{"total": "event.data.qty * 2"}},
		{ID: "confirm", Emit: &client.EmitStep{Type: "order.confirmed", Data: map[string]any{"reservation": "{{ steps.reserve.output.body.reservation }}"}}},
	}}
	if _, err := c.SaveWorkflow(ctx, spec); err != nil {
		b.Fatal(err)
	}
	benchRuns(b, a, c, "order.created", func(j int) any { return map[string]any{"id": fmt.Sprint("o", j), "qty": j} })
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "runs/s")
	b.ReportMetric(float64(3*b.N)/secs, "steps/s")
}

// BenchmarkWorkflowParallel measures a parallel fan-out: each run's first
// step runs 8 branches, each an http call to a local service as a child
// run, and joins them; a set follows. From POST /v1/events/batch until
// every run succeeded, on SQLite (fsync'd). Run with:
//
//	go test ./internal/app -run '^$' -bench WorkflowParallel -benchtime 200x
func BenchmarkWorkflowParallel(b *testing.B) {
	const branches = 8
	a, c, _ := benchApp(b, nil)
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	defer svc.Close()
	ctx := context.Background()
	fan := &client.ParallelStep{}
	for k := range branches {
		fan.Branches = append(fan.Branches, client.Branch{Steps: []client.Step{
			{ID: fmt.Sprint("call", k), HTTP: &client.HTTPStep{Method: "POST", URL: fmt.Sprintf("%s/b%d", svc.URL, k), Body: "{{ toJSON(event.data) }}"}},
		}})
	}
	spec := client.WorkflowSpec{Name: "bench-fan", On: client.WorkflowTrigger{Events: []string{"order.created"}}, Steps: []client.Step{
		{ID: "fan", Parallel: fan},
		{ID: "done", Set: map[string]string{"n": "len(steps.fan.output.branches)"}},
	}}
	if _, err := c.SaveWorkflow(ctx, spec); err != nil {
		b.Fatal(err)
	}
	benchRuns(b, a, c, "order.created", func(j int) any { return map[string]any{"id": j} })
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "runs/s")
	b.ReportMetric(float64(branches*b.N)/secs, "branches/s")
}

// benchRuns sends b.N events of type typ (data(j) the j-th's data) in
// batches of 500, timing from the first, and waits until no run or task
// is left to do.
func benchRuns(b *testing.B, a *app.App, c *client.Client, typ string, data func(j int) any) {
	ctx := context.Background()
	var batches []client.EventBatch
	for i := 0; i < b.N; i += 500 {
		var batch client.EventBatch
		for j := i; j < min(i+500, b.N); j++ {
			raw, _ := json.Marshal(data(j))
			batch.Events = append(batch.Events, client.EventCreate{Type: typ, Data: raw})
		}
		batches = append(batches, batch)
	}
	st := a.Store()
	tenant := ""
	b.ResetTimer()
	for _, batch := range batches {
		if _, err := c.SendEvents(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	pollUntil(5*time.Millisecond, func() bool {
		if tenant == "" {
			ts, err := st.ListTenants(ctx)
			if err != nil {
				b.Fatal(err)
			}
			tenant = ts[0].ID
		}
		done, err := st.ListRuns(ctx, tenant, store.RunQuery{Status: store.RunSucceeded, Page: store.Page{Limit: 1}})
		if err != nil {
			b.Fatal(err)
		}
		pending, err := st.ListTasks(ctx, tenant, store.TaskQuery{Status: store.StatusPending, Page: store.Page{Limit: 1}})
		if err != nil {
			b.Fatal(err)
		}
		var busy []store.Run
		for _, status := range []string{store.RunRunning, store.RunWaiting} {
			runs, err := st.ListRuns(ctx, tenant, store.RunQuery{Status: status, Page: store.Page{Limit: 1}})
			if err != nil {
				b.Fatal(err)
			}
			busy = append(busy, runs...)
		}
		return len(done) > 0 && len(pending) == 0 && len(busy) == 0
	})
}
