package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// behaviour is how one receiver endpoint answers.
type behaviour string

// Endpoint behaviours; they name the report's groups.
const (
	// behaviourOK answers 204 at once.
	behaviourOK behaviour = "ok"
	// behaviourSlow answers 204 after the receiver's slow delay.
	behaviourSlow behaviour = "slow"
	// behaviourOutage answers 500 until its deadline, then 204.
	behaviourOutage behaviour = "outage"
	// behaviourChained answers 204 at once to deliveries of events that a
	// published event caused (a collection's changed event, a workflow's
	// emitted one), and tallies each under the causing event's id, which
	// the delivered event's data holds as event_id.
	behaviourChained behaviour = "chained"
	// behaviourService is the HTTP API a workflow calls: it answers
	// serviceAnswer at once and tallies nothing.
	behaviourService behaviour = "service"
)

// serviceAnswer is behaviourService's answer.
const serviceAnswer = `{"reservation":"res_1"}`

// maxChainedBody bounds the body the receiver reads to find an event_id.
const maxChainedBody = 1 << 20

// waited reports whether a scenario waits for every delivery to an
// endpoint of behaviour k (not the slow one, which cannot finish, nor a
// service, which receives no deliveries).
func (k behaviour) waited() bool { return k != behaviourSlow && k != behaviourService }

// causeID returns data.event_id of a delivered event's body.
func causeID(body io.Reader) (string, error) {
	var ev struct {
		Data struct {
			EventID string `json:"event_id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(body, maxChainedBody)).Decode(&ev); err != nil {
		return "", fmt.Errorf("read delivered event: %w", err)
	}
	if ev.Data.EventID == "" {
		return "", errors.New("delivered event has no data.event_id")
	}
	return ev.Data.EventID, nil
}

// receiverShutdownTimeout bounds how long close waits for handlers.
const receiverShutdownTimeout = 5 * time.Second

// receiver is the webhook receiver of one scenario, on 127.0.0.1. Each
// endpoint is a path /e/{n} and records, per webhook-id, when requests
// arrived and how they were answered.
type receiver struct {
	srv       *http.Server
	ln        net.Listener
	serveErr  chan error
	slowDelay time.Duration
	// stop ends the waits of slow handlers when the receiver closes.
	stop     chan struct{}
	stopOnce sync.Once
	eps      []*endpointLog // fixed before the first request
	// delivered counts first 2xx arrivals over every endpoint (progress).
	delivered atomic.Int64
}

// endpointLog is what one receiver endpoint saw.
type endpointLog struct {
	kind behaviour
	// until is the end of an outage, in Unix nanoseconds.
	until   atomic.Int64
	mu      sync.Mutex
	tallies map[string]*tally
}

// startReceiver listens on a random loopback port with one endpoint per
// entry of kinds.
func startReceiver(kinds []behaviour, slowDelay time.Duration) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start receiver: %w", err)
	}
	r := &receiver{ln: ln, slowDelay: slowDelay, stop: make(chan struct{}), serveErr: make(chan error, 1)}
	for _, k := range kinds {
		r.eps = append(r.eps, &endpointLog{kind: k, tallies: make(map[string]*tally)})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /e/{n}", r.handle)
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	go func() { r.serveErr <- r.srv.Serve(ln) }()
	return r, nil
}

// url returns the URL of endpoint i.
func (r *receiver) url(i int) string {
	return "http://" + r.ln.Addr().String() + "/e/" + strconv.Itoa(i)
}

// setOutage makes endpoint i answer 500 until until.
func (r *receiver) setOutage(i int, until time.Time) {
	r.eps[i].until.Store(until.UnixNano())
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	n, err := strconv.Atoi(req.PathValue("n"))
	if err != nil || n < 0 || n >= len(r.eps) {
		http.NotFound(w, req)
		return
	}
	ep := r.eps[n]
	id := req.Header.Get("webhook-id")
	if ep.kind == behaviourChained {
		var err error
		if id, err = causeID(req.Body); err != nil {
			id = ""
		}
	}
	// Drain the body so the server's connection is reused.
	_, _ = io.Copy(io.Discard, req.Body)
	if ep.kind == behaviourService {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, serviceAnswer)
		return
	}
	if id == "" {
		http.Error(w, "missing webhook-id (or data.event_id of a chained event)", http.StatusBadRequest)
		return
	}
	ok := true
	switch ep.kind {
	case behaviourSlow:
		t := time.NewTimer(r.slowDelay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.stop:
			return
		case <-req.Context().Done():
			return
		}
	case behaviourOutage:
		ok = at.UnixNano() >= ep.until.Load()
	}
	ep.mu.Lock()
	t := ep.tallies[id]
	if t == nil {
		t = &tally{}
		ep.tallies[id] = t
	}
	first := ok && t.ok == 0
	t.add(at, ok)
	ep.mu.Unlock()
	if first {
		r.delivered.Add(1)
	}
	if !ok {
		http.Error(w, "outage", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// snapshot returns a copy of endpoint i's tallies.
func (r *receiver) snapshot(i int) map[string]tally {
	ep := r.eps[i]
	ep.mu.Lock()
	defer ep.mu.Unlock()
	out := make(map[string]tally, len(ep.tallies))
	for id, t := range ep.tallies {
		out[id] = *t
	}
	return out
}

// missing returns the ids of ids that endpoint i has not answered 2xx yet.
func (r *receiver) missing(i int, ids []string) []string {
	ep := r.eps[i]
	ep.mu.Lock()
	defer ep.mu.Unlock()
	left := ids[:0:0]
	for _, id := range ids {
		if t := ep.tallies[id]; t == nil || t.ok == 0 {
			left = append(left, id)
		}
	}
	return left
}

// waitDelivered waits until each endpoint in eps has answered 2xx to every
// id, ctx ends, or timeout passes; it reports whether every delivery
// arrived. tick is called with the number of deliveries still missing
// every interval when it changed, and every quietTicks intervals when not.
func (r *receiver) waitDelivered(ctx context.Context, eps []int, ids []string, timeout, interval time.Duration, tick func(missing int)) (bool, error) {
	left := make(map[int][]string, len(eps))
	for _, i := range eps {
		left[i] = ids
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	poll := time.NewTicker(pollInterval)
	defer poll.Stop()
	report := time.NewTicker(interval)
	defer report.Stop()
	reported, quiet := -1, 0
	var seen int64 = -1
	missing := 0
	for {
		// Rescan only when something arrived: scans hold the endpoints'
		// locks and take CPU from the server under test.
		if n := r.delivered.Load(); n != seen {
			seen, missing = n, 0
			for i, l := range left {
				left[i] = r.missing(i, l)
				missing += len(left[i])
			}
		}
		if missing == 0 {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-deadline.C:
			return false, nil
		case <-report.C:
			if quiet++; missing != reported || quiet >= quietTicks {
				tick(missing)
				reported, quiet = missing, 0
			}
		case <-poll.C:
		}
	}
}

// pollInterval is how often waitDelivered checks the tallies. Latency and
// rates are measured from arrival times, so it only bounds how long a
// scenario lingers after its last delivery, which the average CPU use of
// the server counts as idle time.
const pollInterval = 50 * time.Millisecond

// quietTicks is how many progress intervals pass without a line while
// nothing changes.
const quietTicks = 10

// release ends the waits of slow handlers without recording them.
func (r *receiver) release() {
	r.stopOnce.Do(func() { close(r.stop) })
}

// close stops the receiver, ending the waits of slow handlers.
func (r *receiver) close() error {
	r.release()
	ctx, cancel := context.WithTimeout(context.Background(), receiverShutdownTimeout)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	if serveErr := <-r.serveErr; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("stop receiver: %w", err)
	}
	return nil
}
