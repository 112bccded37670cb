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
	var batches []client.EventBatch
	for i := 0; i < b.N; i += 500 {
		var batch client.EventBatch
		for j := i; j < min(i+500, b.N); j++ {
			data, _ := json.Marshal(map[string]any{"id": fmt.Sprint("o", j), "qty": j})
			batch.Events = append(batch.Events, client.EventCreate{Type: "order.created", Data: data})
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
		running, err := st.ListRuns(ctx, tenant, store.RunQuery{Status: store.RunRunning, Page: store.Page{Limit: 1}})
		if err != nil {
			b.Fatal(err)
		}
		return len(done) > 0 && len(pending) == 0 && len(running) == 0
	})
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/secs, "runs/s")
	b.ReportMetric(float64(3*b.N)/secs, "steps/s")
}
