package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/client"
)

// slowTimeout is the minimum endpoint timeout of the slow endpoint, so
// that its deliveries succeed rather than time out.
const slowTimeout = 15 * time.Second

// slowWatchRounds is how many slow delays S3 keeps watching the slow
// endpoint after the healthy ones are done.
const slowWatchRounds = 2

// endpointFor returns the endpoint of behaviour k at url for eventType.
func (r *runner) endpointFor(k behaviour, url, eventType, scenario string) client.EndpointCreate {
	ep := client.EndpointCreate{
		URL: url, EventTypes: []string{eventType},
		Description: "hookline bench " + scenario + " (" + string(k) + ")",
	}
	switch k {
	case behaviourSlow:
		ep.Timeout = max(slowTimeout, 2*r.cfg.SlowDelay).String()
	case behaviourOutage:
		ep.RetrySchedule = r.cfg.RetrySchedule
	}
	return ep
}

// scenario runs one scenario on a fresh server (or the configured one)
// and a fresh receiver.
func (r *runner) scenario(ctx context.Context, sp spec) (res Scenario, err error) {
	res = Scenario{Name: sp.name, Title: sp.title, Events: r.cfg.events(sp), Rate: r.cfg.rate(sp), Groups: []Group{}}
	if sp.crash && r.cfg.Server != "" {
		res.Skipped = "needs to kill the server, which --server does not allow"
		r.logf("%s %s: skipped: %s", sp.name, sp.title, res.Skipped)
		return res, nil
	}
	if sp.mirror && r.cfg.Mirror == "" {
		res.Skipped = "needs a PostgreSQL database for the mirror table (--mirror DSN)"
		r.logf("%s %s: skipped: %s", sp.name, sp.title, res.Skipped)
		return res, nil
	}
	kinds := sp.kinds()
	rcv, err := startReceiver(kinds, r.cfg.SlowDelay)
	if err != nil {
		return res, err
	}
	defer rcv.close()
	tgt, err := r.openTarget(ctx, sp.name, filepath.Join(r.root, sp.name))
	if err != nil {
		return res, err
	}
	defer func() {
		// Answer the slow endpoint's requests in flight first, so that
		// the server's graceful stop need not wait for them.
		rcv.release()
		tgt.close(ctx, r)
		res.PeakRSSBytes = tgt.peakRSS
	}()

	var dials atomic.Int64
	hc := &http.Client{Transport: newTransport(r.cfg.Publishers, &dials), Timeout: publishTimeout}
	defer hc.CloseIdleConnections()
	eventType := "bench." + r.runID + "." + strings.ToLower(sp.name)
	api := client.New(tgt.url(), tgt.key, client.WithHTTPClient(hc), client.WithUserAgent("hookline-bench"))
	if sp.mirror {
		// The table is in a database of the user's, not in the data dir.
		defer r.dropMirrorTable(ctx, sp)
	}
	cleanup, err := r.setup(ctx, api, rcv, sp, eventType)
	defer cleanup()
	if err != nil {
		return res, err
	}
	if sp.backlog {
		tgt.startCPU()
		self := startCPU(os.Getpid())
		err = r.publishBacklog(ctx, api, sp, eventType, &res)
		res.ServerCPU, res.BenchCPU = tgt.stopCPU(), self.stop()
		return res, err
	}

	pub := &publisher{
		send: publishTo(hc, tgt.urls(), tgt.key), shape: newEventShape(eventType, r.cfg.EventSize),
		events: res.Events, workers: r.cfg.Publishers, rate: res.Rate,
	}
	// CPU is measured from the first publish until the waited-for
	// deliveries are done.
	tgt.startCPU()
	self := startCPU(os.Getpid())
	p, err := r.publish(ctx, sp, pub, tgt, rcv, &res)
	res.Dials = dials.Load()
	ids := make([]string, 0, len(p.accepted))
	for id := range p.accepted {
		ids = append(ids, id)
	}
	if err == nil {
		// After a failed crash restart there is no server to wait for.
		err = r.await(ctx, sp.name, rcv, kinds, ids, &res)
	}
	if err == nil && !res.TimedOut && sp.mirror {
		err = r.awaitMirror(ctx, api, sp, p.firstAccept, &res)
	}
	res.ServerCPU, res.BenchCPU = tgt.stopCPU(), self.stop()
	if err == nil && !res.TimedOut {
		err = r.watchSlow(ctx, sp.name, rcv, kinds, ids)
	}
	res.Groups = groups(kinds, rcv, p)
	return res, err
}

// setup creates what scenario sp drives on the server: one endpoint per
// receiver endpoint but the services, subscribed to eventType (the chained
// ones to the events the published ones cause), and Y1's collection or
// W1's workflow. cleanup deletes them from a --server; call it also after
// an error.
func (r *runner) setup(ctx context.Context, api *client.Client, rcv *receiver, sp spec, eventType string) (cleanup func(), err error) {
	var undo []func(context.Context) error
	cleanup = func() {
		if r.cfg.Server == "" {
			return // the server and its data dir go away
		}
		// A shared server keeps nothing of the run; deleting the
		// endpoints also ends the slow endpoint's backlog.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		for _, u := range slices.Backward(undo) {
			if err := u(ctx); err != nil {
				r.logf("%s: clean up: %v", sp.name, err)
			}
		}
	}
	chainedType := ""
	switch {
	case sp.backlog:
		err = r.createDeadEndpoint(ctx, api, sp, eventType, &undo)
	case sp.sync:
		chainedType, err = r.createSync(ctx, api, sp, eventType, &undo)
	case sp.workflow:
		chainedType, err = r.createWorkflow(ctx, api, rcv, sp, eventType, &undo)
	}
	if err != nil {
		return cleanup, err
	}
	for i, k := range sp.kinds() {
		types := eventType
		switch k {
		case behaviourService:
			continue
		case behaviourChained:
			types = chainedType
		}
		ep, err := api.CreateEndpoint(ctx, r.endpointFor(k, rcv.url(i), types, sp.name))
		if err != nil {
			return cleanup, fmt.Errorf("create endpoint (the server must allow deliveries to 127.0.0.1): %w", err)
		}
		undo = append(undo, func(ctx context.Context) error { return api.DeleteEndpoint(ctx, ep.ID) })
	}
	return cleanup, nil
}

// publish starts S4's outage and arms S5's crash, runs the publishers and
// records their figures in res.
func (r *runner) publish(ctx context.Context, sp spec, pub *publisher, tgt *target, rcv *receiver, res *Scenario) (published, error) {
	var crashed func() error
	if sp.crash {
		res.Crash = &Crash{}
		crashed = r.armCrash(ctx, sp.name, pub, tgt, res.Crash)
	}
	for i, k := range sp.kinds() {
		if k == behaviourOutage {
			rcv.setOutage(i, time.Now().Add(r.cfg.Outage))
		}
	}
	pace := "as fast as answered"
	if pub.rate > 0 {
		pace = fmt.Sprintf("at %s/s", num(pub.rate))
	}
	r.logf("%s %s: publishing %d events of %d bytes to %d endpoints with %d publishers, %s",
		sp.name, sp.title, res.Events, pub.shape.size, len(sp.kinds()), r.cfg.Publishers, pace)
	stopProgress := r.progress(sp.name, func() string {
		return fmt.Sprintf("accepted %d/%d, delivered %d", pub.accepted.Load(), res.Events, rcv.delivered.Load())
	})
	p := pub.run(ctx)
	stopProgress()
	var err error
	if crashed != nil {
		err = crashed()
	}
	res.Accepted, res.PublishErrors, res.PublishRetries = len(p.accepted), p.errors, p.retries
	res.PublishSeconds = p.wall.Seconds()
	res.PublishLatency = summarize(p.latency)
	if res.PublishSeconds > 0 {
		res.AcceptedPerSec = float64(res.Accepted) / res.PublishSeconds
	}
	if p.errors > 0 {
		r.logf("%s: %d publish errors; the first: %v", sp.name, p.errors, p.firstErr)
	}
	r.logf("%s: accepted %d events in %.1fs (%.0f/s), publish p50 %s p99 %s", sp.name, res.Accepted, res.PublishSeconds,
		res.AcceptedPerSec, msStr(res.PublishLatency.P50MS), msStr(res.PublishLatency.P99MS))
	return p, err
}

// await waits until every endpoint but the slow one has every accepted
// event in ids, or the timeout.
func (r *runner) await(ctx context.Context, name string, rcv *receiver, kinds []behaviour, ids []string, res *Scenario) error {
	var waited []int
	for i, k := range kinds {
		if k.waited() {
			waited = append(waited, i)
		}
	}
	r.logf("%s: waiting for %d deliveries", name, len(ids)*len(waited))
	done, err := rcv.waitDelivered(ctx, waited, ids, r.cfg.Timeout, r.cfg.ProgressInterval, func(missing int) {
		r.logf("%s: waiting for %d deliveries", name, missing)
	})
	if err != nil {
		return err
	}
	if !done {
		res.TimedOut = true
		r.logf("%s: timed out after %s", name, r.cfg.Timeout)
	}
	return nil
}

// watchSlow watches the slow endpoint, if there is one, for
// slowWatchRounds of its delays.
func (r *runner) watchSlow(ctx context.Context, name string, rcv *receiver, kinds []behaviour, ids []string) error {
	var watched []int
	for i, k := range kinds {
		if k == behaviourSlow {
			watched = append(watched, i)
		}
	}
	if len(watched) == 0 {
		return nil
	}
	// The slow endpoint cannot finish (its backlog takes far longer than
	// the timeout); watch it long enough for its first deliveries.
	window := slowWatchRounds * r.cfg.SlowDelay
	r.logf("%s: waited-for endpoints done; watching the slow endpoint for %s", name, window)
	_, err := rcv.waitDelivered(ctx, watched, ids, window, r.cfg.ProgressInterval, func(missing int) {
		r.logf("%s: slow endpoint: %d deliveries pending", name, missing)
	})
	return err
}

// groups sums up what the receiver got, one group per behaviour in the
// order the endpoints were created.
func groups(kinds []behaviour, rcv *receiver, p published) []Group {
	byKind := map[behaviour][]map[string]tally{}
	var order []behaviour
	for i, k := range kinds {
		if k == behaviourService {
			continue // receives no deliveries
		}
		if byKind[k] == nil {
			order = append(order, k)
		}
		byKind[k] = append(byKind[k], rcv.snapshot(i))
	}
	out := make([]Group, 0, len(order))
	for _, k := range order {
		out = append(out, account(groupInput{
			name: string(k), accepted: p.accepted, firstAccept: p.firstAccept, logs: byKind[k], waited: k.waited(),
		}))
	}
	return out
}

// armCrash makes pub's publishers survive S5's crash: once half the events
// are accepted the server is killed and restarted, and publishers whose
// requests failed meanwhile repeat them after the restart. Like S1's, the
// events have no idempotency key: a request the kill cut after its commit
// is accepted again as a new event, and the first one's deliveries count
// as unacked. The returned function waits for the crash to be over and
// returns its error; call it after publishing.
func (r *runner) armCrash(ctx context.Context, name string, pub *publisher, tgt *target, out *Crash) func() error {
	half := make(chan struct{})
	threshold := int64(max(pub.events/2, 1))
	pub.onAccepted = func(n int64) {
		if n == threshold {
			close(half)
		}
	}
	restarted := make(chan struct{})
	var restartOK atomic.Bool
	pub.resume = func(ctx context.Context) bool {
		select {
		case <-restarted:
			return restartOK.Load()
		case <-ctx.Done():
			return false
		}
	}
	published := make(chan struct{})
	result := make(chan error, 1)
	go func() {
		defer close(restarted)
		select {
		case <-half:
		case <-published:
			result <- errors.New("publishing ended before half the events were accepted: no crash")
			return
		}
		out.AcceptedBeforeKill = int(pub.accepted.Load())
		killed := time.Now()
		r.logf("%s: kill -9 after %d accepted events", name, out.AcceptedBeforeKill)
		err := tgt.crash(ctx)
		out.DownSeconds = time.Since(killed).Seconds()
		if err == nil {
			r.logf("%s: restarted in %.2fs", name, out.DownSeconds)
		}
		restartOK.Store(err == nil)
		result <- err
	}()
	return func() error {
		close(published)
		return <-result
	}
}

// progress writes a progress line with status every interval until the
// returned function is called.
func (r *runner) progress(name string, status func() string) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(r.cfg.ProgressInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.logf("%s: %s", name, status())
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
