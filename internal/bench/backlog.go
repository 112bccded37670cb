package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/clock"
)

const (
	// backlogBatch is how many events M1 sends per POST /v1/events/batch,
	// the route's limit.
	backlogBatch = 1000
	// backlogSenders is how many batches M1 sends at once.
	backlogSenders = 4
	// backlogNote pads M1's events to about 250 bytes of data, as the
	// memory figure in docs/benchmarks.md was first measured.
	backlogNote = 220
	// backlogSettle is how long M1 leaves the server with its backlog
	// after the last batch before reading its peak RSS: long enough for
	// the engine's poller (every second) to load its window of it.
	backlogSettle = 2 * time.Second
	// MemoryTargetPending is the backlog of the memory target.
	MemoryTargetPending = 1_000_000
)

// createDeadEndpoint creates M1's endpoint, subscribed to eventType at a
// loopback port no one listens on: every attempt fails, its circuit
// opens, and the deliveries stay pending.
func (r *runner) createDeadEndpoint(ctx context.Context, api *client.Client, sp spec, eventType string, undo *[]func(context.Context) error) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	ep, err := api.CreateEndpoint(ctx, client.EndpointCreate{
		URL: "http://" + addr + "/dead", EventTypes: []string{eventType},
		Description: "hookline bench " + sp.name + " (dead)",
	})
	if err != nil {
		return fmt.Errorf("create endpoint (the server must allow deliveries to 127.0.0.1): %w", err)
	}
	*undo = append(*undo, func(ctx context.Context) error { return api.DeleteEndpoint(ctx, ep.ID) })
	return nil
}

// publishBacklog sends res.Events events of eventType in batches through
// api, records the accept figures in res, and leaves the server
// backlogSettle with them. Its deliveries are all pending.
func (r *runner) publishBacklog(ctx context.Context, api *client.Client, sp spec, eventType string, res *Scenario) error {
	r.logf("%s %s: publishing %d events in batches of %d to a dead endpoint", sp.name, sp.title, res.Events, backlogBatch)
	pad := make([]byte, backlogNote)
	for i := range pad {
		pad[i] = 'x'
	}
	var next, accepted atomic.Int64
	var mu sync.Mutex
	var errs int
	var firstErr error
	stop := r.progress(sp.name, func() string { return fmt.Sprintf("accepted %d/%d", accepted.Load(), res.Events) })
	start := time.Now()
	var wg sync.WaitGroup
	for range backlogSenders {
		wg.Go(func() {
			for ctx.Err() == nil {
				from := int(next.Add(backlogBatch)) - backlogBatch
				if from >= res.Events {
					return
				}
				var batch client.EventBatch
				for seq := from; seq < min(from+backlogBatch, res.Events); seq++ {
					data := `{"seq":` + strconv.Itoa(seq) + `,"note":"` + string(pad) + `"}`
					batch.Events = append(batch.Events, client.EventCreate{Type: eventType, Data: []byte(data)})
				}
				out, err := api.SendEvents(ctx, batch)
				n, failed := 0, len(batch.Events)
				if err == nil {
					for _, item := range out.Results {
						if item.ID != "" && item.Error == nil {
							n++
						}
					}
					failed -= n
					if failed > 0 {
						err = fmt.Errorf("%d events of a batch refused", failed)
					}
				}
				accepted.Add(int64(n))
				if failed > 0 {
					mu.Lock()
					errs += failed
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	stop()
	res.PublishSeconds = time.Since(start).Seconds()
	res.Accepted, res.PublishErrors = int(accepted.Load()), errs
	res.AcceptedPerSec = float64(res.Accepted) / res.PublishSeconds
	if errs > 0 {
		r.logf("%s: %d publish errors; the first: %v", sp.name, errs, firstErr)
	}
	r.logf("%s: accepted %d events in %.1fs (%.0f/s); holding the backlog %s", sp.name, res.Accepted, res.PublishSeconds, res.AcceptedPerSec, backlogSettle)
	res.Groups = []Group{{Name: "dead", Endpoints: 1, Expected: res.Accepted, Pending: res.Accepted}}
	if !clock.Sleep(ctx, backlogSettle) {
		return ctx.Err()
	}
	return nil
}
