package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
)

// TestKillDashNineInsideForeach SIGKILLs the real binary while one
// iteration of a foreach step is in flight (its siblings done), starts it
// again on the same data dir (SQLite) or database (PostgreSQL), and checks
// the run completes: the interrupted iteration's call runs again, every
// other call once, the outputs in the items' order.
func TestKillDashNineInsideForeach(t *testing.T) {
	t.Parallel()
	bin := buildHookline(t)
	onStores(t, func(t *testing.T, db string, args []string) {
		var mu sync.Mutex
		calls := map[string]int{}
		held := make(chan struct{}, 1)
		release := make(chan struct{})
		svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			calls[r.URL.Path]++
			n := calls[r.URL.Path]
			mu.Unlock()
			if r.URL.Path == "/reserve/b" && n == 1 {
				held <- struct{}{}
				select {
				case <-release:
				case <-r.Context().Done():
				}
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"ok": true}`)
		}))
		t.Cleanup(svc.Close)
		t.Cleanup(func() { close(release) })

		p := startServe(t, bin, db, args...)
		c := p.client()
		ctx := context.Background()
		_, err := c.SaveWorkflow(ctx, client.WorkflowSpec{Name: "reserve-all", On: client.WorkflowTrigger{Events: []string{"stock.requested"}},
			Steps: []client.Step{
				{ID: "each_sku", Foreach: &client.ForeachStep{Items: "event.data.skus", Concurrency: 2, Steps: []client.Step{
					{ID: "hold", HTTP: &client.HTTPStep{Method: "POST", URL: svc.URL + "/reserve/{{ item }}"}, Timeout: "1m"},
					{ID: "held", Set: map[string]string{"sku": "item"}},
				}}},
				{ID: "confirm", HTTP: &client.HTTPStep{Method: "POST", URL: svc.URL + "/confirm"}},
			}})
		require.NoError(t, err)
		_, err = c.SendEvent(ctx, client.EventCreate{Type: "stock.requested", Data: json.RawMessage(`{"skus": ["a", "b", "c"]}`)})
		require.NoError(t, err)
		<-held
		top := func() (client.Run, []client.Run) {
			var run client.Run
			page, err := c.ListRuns(ctx, client.RunListOptions{Workflow: "reserve-all"})
			require.NoError(t, err)
			for _, r := range page.Data {
				if r.ParentID == "" {
					run = r
				}
			}
			kids, err := c.ListRuns(ctx, client.RunListOptions{ParentRunID: run.ID})
			require.NoError(t, err)
			return run, kids.Data
		}
		require.Eventually(t, func() bool {
			_, kids := top()
			done := 0
			for _, k := range kids {
				if k.Status == "succeeded" {
					done++
				}
			}
			return done == 2 // a, then c in its place; b hangs
		}, 30*time.Second, 20*time.Millisecond)

		p.signal(t, syscall.SIGKILL)
		p.restart(t)
		require.Eventually(t, func() bool {
			run, _ := top()
			return run.Status == "succeeded"
		}, 30*time.Second, 20*time.Millisecond, "the run completes after the restart; logs: %s", p.logs)
		mu.Lock()
		require.Equal(t, map[string]int{"/reserve/a": 1, "/reserve/b": 2, "/reserve/c": 1, "/confirm": 1}, calls)
		mu.Unlock()
		run, _ := top()
		full, err := c.GetRun(ctx, run.ID)
		require.NoError(t, err)
		require.JSONEq(t, `{"count": 3, "outputs": [{"sku": "a"}, {"sku": "b"}, {"sku": "c"}]}`, string(full.Steps[0].Output))
	})
}
