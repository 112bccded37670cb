package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/client"
	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/store"
	"github.com/hookline/hookline/internal/testkit"
)

// The tests of this file kill and stop real processes under load and
// time how long the work of the process that went away waits. Their
// deadlines are the behaviour Hookline promises (docs/delivery.md,
// "Operations: failure modes"), from the default configuration: a
// 2 s cluster heartbeat, so a node killed without a word is found silent
// after 5 heartbeats. The measured times are logged (go test -v) and
// reported in docs/benchmarks.md.

// arrival is one delivery request as the receiver got it.
type arrival struct {
	delivery, event, endpoint string
	at                        time.Time
}

// failoverReceiver holds every request while holding is set (until it is
// released or its sender goes away), and otherwise answers 204 after
// delay. It records every arrival and which requests were answered.
type failoverReceiver struct {
	*httptest.Server
	delay    time.Duration
	mu       sync.Mutex
	holding  bool
	release  chan struct{}
	arrivals []arrival
	held     map[string]int // endpoint → requests held now
	answered map[string]int // delivery id → 2xx answers
	cut      int            // requests whose sender went away unanswered
}

func newFailoverReceiver(t *testing.T, holding bool, delay time.Duration) *failoverReceiver {
	rc := &failoverReceiver{delay: delay, holding: holding, release: make(chan struct{}),
		held: map[string]int{}, answered: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read to the end, so the server watches the connection and ends
		// r.Context() when the sender goes away.
		_, _ = io.Copy(io.Discard, r.Body)
		a := arrival{delivery: r.Header.Get("Hookline-Delivery-Id"), event: r.Header.Get("webhook-id"),
			endpoint: strings.TrimPrefix(r.URL.Path, "/"), at: time.Now()}
		rc.mu.Lock()
		rc.arrivals = append(rc.arrivals, a)
		holding, release := rc.holding, rc.release
		if holding {
			rc.held[a.endpoint]++
		}
		rc.mu.Unlock()
		var delay <-chan time.Time
		if !holding {
			delay = time.After(rc.delay)
		}
		select {
		case <-delay:
		case <-release:
		case <-r.Context().Done():
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if holding {
			rc.held[a.endpoint]--
		}
		if r.Context().Err() != nil {
			rc.cut++
			return
		}
		rc.answered[a.delivery]++
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(func() {
		rc.answer()
		rc.Close()
	})
	return rc
}

// answer releases every held request and answers the next ones at once.
func (rc *failoverReceiver) answer() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.holding {
		rc.holding = false
		close(rc.release)
	}
}

func (rc *failoverReceiver) heldAt(endpoints []string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, ep := range endpoints {
		n += rc.held[ep]
	}
	return n
}

// firstAfter is the first arrival after t that matches keep.
func (rc *failoverReceiver) firstAfter(t time.Time, keep func(arrival) bool) (time.Time, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, a := range rc.arrivals {
		if a.at.After(t) && keep(a) {
			return a.at, true
		}
	}
	return time.Time{}, false
}

// maxGap is the longest time without an arrival matching keep from the
// last such arrival before from (from itself if none) to the last one.
func (rc *failoverReceiver) maxGap(from time.Time, keep func(arrival) bool) time.Duration {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var gap time.Duration
	last := from
	for _, a := range rc.arrivals {
		switch {
		case !keep(a):
		case !a.at.After(from):
			last = a.at
		default:
			gap = max(gap, a.at.Sub(last))
			last = a.at
		}
	}
	return gap
}

// answeredAll reports whether every delivery in ids was answered 2xx.
func (rc *failoverReceiver) answeredAll(ids []string) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return !slices.ContainsFunc(ids, func(id string) bool { return rc.answered[id] == 0 })
}

// tally counts the deliveries answered, those received more than once,
// and the requests cut off.
func (rc *failoverReceiver) tally() (answered, twice, cut int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	got := map[string]int{}
	for _, a := range rc.arrivals {
		got[a.delivery]++
	}
	for _, n := range got {
		if n > 1 {
			twice++
		}
	}
	return len(rc.answered), twice, rc.cut
}

// cluster starts n PostgreSQL nodes n1…nN on dsn with the default
// heartbeat and waits until each owns buckets.
func cluster(t *testing.T, bin, dsn string, n int) []*serveProc {
	t.Helper()
	var nodes []*serveProc
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("n%d", i)
		nodes = append(nodes, startServe(t, bin, id, "--database", dsn, "--node-id", id, "--data-dir", filepath.Join(t.TempDir(), id)))
	}
	// Wait for the final plan (bucket b to the node at b mod n of the
	// sorted ids), not just for every node to own some buckets: a test
	// that reads the owners while buckets still move would pin endpoints
	// on the wrong node.
	ids := make([]string, 0, n)
	for _, p := range nodes {
		ids = append(ids, p.id)
	}
	slices.Sort(ids)
	require.Eventually(t, func() bool {
		owners := bucketOwners(t, nodes[0])
		for b, owner := range owners {
			if owner != ids[b%n] {
				return false
			}
		}
		return true
	}, 30*time.Second, 50*time.Millisecond, "the buckets are spread over every node")
	return nodes
}

// bucketOwners returns the node owning each bucket, from GET /v1/cluster.
func bucketOwners(t *testing.T, p *serveProc) []string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, p.url()+"/v1/cluster", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+serveKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var st struct {
		Nodes []struct {
			ID      string `json:"id"`
			Buckets []int  `json:"buckets"`
		} `json:"nodes"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	owners := make([]string, store.NumBuckets)
	for _, n := range st.Nodes {
		for _, b := range n.Buckets {
			owners[b] = n.ID
		}
	}
	return owners
}

// endpointsByOwner creates n endpoints at rc (paths ep0…) and returns
// their paths by the node that dispatches them.
func endpointsByOwner(t *testing.T, c *client.Client, rc *failoverReceiver, owners []string, n int) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for i := range n {
		path := fmt.Sprintf("ep%d", i)
		ep, err := c.CreateEndpoint(context.Background(), client.EndpointCreate{URL: rc.URL + "/" + path})
		require.NoError(t, err)
		owner := owners[store.Bucket(ep.ID)]
		out[owner] = append(out[owner], path)
	}
	return out
}

// publishN publishes n events through p in batches and returns their ids.
func publishN(t *testing.T, c *client.Client, n int) {
	t.Helper()
	for sent := 0; sent < n; {
		k := min(500, n-sent)
		evs := make([]client.EventCreate, k)
		for i := range evs {
			evs[i] = client.EventCreate{Type: "order.created", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, sent+i))}
		}
		res, err := c.SendEvents(context.Background(), client.EventBatch{Events: evs})
		require.NoError(t, err)
		for _, r := range res.Results {
			require.Nil(t, r.Error)
		}
		sent += k
	}
}

// leasedTo lists the unfinished tasks under a live lease of owner.
func leasedTo(t *testing.T, dsn, owner string) []string {
	t.Helper()
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer db.Close(ctx)
	rows, err := db.Query(ctx, `SELECT id FROM tasks WHERE lease_owner = $1 AND lease_until > now() AND status IN ('pending', 'retrying')`, owner)
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return ids
}

// pickVictim is the node, other than the first (the test talks to it),
// that dispatches the most endpoints.
func pickVictim(t *testing.T, nodes []*serveProc, byOwner map[string][]string) *serveProc {
	t.Helper()
	victim := nodes[1]
	for _, p := range nodes[2:] {
		if len(byOwner[p.id]) > len(byOwner[victim.id]) {
			victim = p
		}
	}
	require.NotEmpty(t, byOwner[victim.id], "the node to stop dispatches endpoints")
	return victim
}

// TestKillDashNineLosesNothing runs the real binary, SIGKILLs it while
// deliveries hang in flight and more wait in the queue, starts it again on
// the same data dir and checks every accepted event is delivered.
func TestKillDashNineLosesNothing(t *testing.T) {
	t.Parallel()
	bin := buildHookline(t)

	var healthy atomic.Bool
	var inFlight atomic.Int32
	var mu sync.Mutex
	seen := map[string]int{}
	release := make(chan struct{})
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		mu.Unlock()
		if !healthy.Load() {
			inFlight.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	t.Cleanup(func() { close(release) })

	srv := startServe(t, bin, "crash", "--data-dir", filepath.Join(t.TempDir(), "data"))
	c := srv.client()
	ctx := context.Background()
	_, err := c.CreateEndpoint(ctx, client.EndpointCreate{URL: rc.URL})
	require.NoError(t, err)
	const n = 200
	ids := make([]string, 0, n)
	for i := range n {
		ev, err := c.SendEvent(ctx, client.EventCreate{Type: "order.created", Data: json.RawMessage(`{"i":` + strconv.Itoa(i) + `}`)})
		require.NoError(t, err)
		ids = append(ids, ev.ID)
	}
	require.Eventually(t, func() bool { return inFlight.Load() >= 5 }, 10*time.Second, 5*time.Millisecond)

	srv.signal(t, os.Kill)
	healthy.Store(true)
	srv.restart(t)

	require.Eventually(t, func() bool {
		page, err := c.ListDeliveries(ctx, client.DeliveryListOptions{Status: client.DeliverySucceeded, ListOptions: client.ListOptions{Limit: 1000}})
		return err == nil && len(page.Data) == n
	}, 30*time.Second, 20*time.Millisecond, "every accepted event delivered after the restart")
	mu.Lock()
	defer mu.Unlock()
	for _, id := range ids {
		require.GreaterOrEqual(t, seen[id], 1, "event %s reached the receiver", id)
	}
}

// TestKillOneOfThreeNodes SIGKILLs one of three PostgreSQL nodes while
// every delivery hangs at the receiver: the deliveries it had claimed
// (in flight and queued) resume on the survivors within 15 s (found
// silent after 5 heartbeats of 2 s, then released at once, not after
// their 1-minute leases). Nothing is lost, and only deliveries cut off in
// flight by the kill arrive twice.
func TestKillOneOfThreeNodes(t *testing.T) {
	t.Parallel()
	bin := buildHookline(t)
	dsn := testkit.PostgresSchema(t)
	rc := newFailoverReceiver(t, true, 0)
	nodes := cluster(t, bin, dsn, 3)
	c := nodes[0].client()
	byOwner := endpointsByOwner(t, c, rc, bucketOwners(t, nodes[0]), 12)
	victim := pickVictim(t, nodes, byOwner)
	const events = 50
	publishN(t, c, events)
	// Every endpoint of the victim has max_in_flight (10) deliveries
	// hanging, as many as its workers can run at once (64: a victim with
	// 7 of the 12 endpoints runs 64, not 70); the rest of its 50 each
	// wait in its queues, claimed.
	busy := min(10*len(byOwner[victim.id]), engine.DefaultWorkers)
	require.Eventually(t, func() bool { return rc.heldAt(byOwner[victim.id]) == busy },
		30*time.Second, 20*time.Millisecond, "the victim's endpoints are busy")
	claimed := leasedTo(t, dsn, victim.id)
	require.Len(t, claimed, events*len(byOwner[victim.id]), "the victim holds every delivery of its endpoints")

	victim.signal(t, syscall.SIGKILL)
	killed := time.Now()
	// The requests the victim had in flight are cut off; then the
	// receiver answers again.
	require.Eventually(t, func() bool { return rc.heldAt(byOwner[victim.id]) == 0 }, 10*time.Second, 5*time.Millisecond)
	rc.answer()
	resumed, ok := time.Time{}, false
	require.Eventually(t, func() bool {
		resumed, ok = rc.firstAfter(killed, func(a arrival) bool { return slices.Contains(claimed, a.delivery) })
		return ok
	}, 15*time.Second, 20*time.Millisecond, "the dead node's claimed deliveries resume within 15 s of the kill")
	require.Eventually(t, func() bool { return rc.answeredAll(claimed) }, 30*time.Second, 20*time.Millisecond)
	allDone := time.Now()

	ids := allDeliveries(t, dsn)
	require.Len(t, ids, events*12)
	require.Eventually(t, func() bool { return rc.answeredAll(ids) }, 30*time.Second, 20*time.Millisecond, "nothing is lost")
	answered, twice, cut := rc.tally()
	require.Equal(t, len(ids), answered)
	require.LessOrEqual(t, twice, cut, "only deliveries cut off in flight by the kill arrive twice")
	t.Logf("kill -9 of %s holding %d deliveries (%d in flight): first resumed %s after the kill, all %s after; %d delivered, %d twice (%d cut off)",
		victim.id, len(claimed), cut, resumed.Sub(killed).Round(10*time.Millisecond), allDone.Sub(killed).Round(10*time.Millisecond),
		answered, twice, cut)
}

// allDeliveries lists every task id of the schema.
func allDeliveries(t *testing.T, dsn string) []string {
	t.Helper()
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer db.Close(ctx)
	rows, err := db.Query(ctx, `SELECT id FROM tasks`)
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return ids
}

// TestSigtermOfOneOfThreeNodes stops one of three PostgreSQL nodes
// gracefully while its endpoints have a backlog: it leaves the cluster,
// hands its buckets and every lease over as it exits, and its endpoints
// get deliveries from the others within 2 s of the signal. Nothing is lost
// or sent twice.
func TestSigtermOfOneOfThreeNodes(t *testing.T) {
	t.Parallel()
	bin := buildHookline(t)
	dsn := testkit.PostgresSchema(t)
	rc := newFailoverReceiver(t, false, 20*time.Millisecond)
	nodes := cluster(t, bin, dsn, 3)
	c := nodes[0].client()
	byOwner := endpointsByOwner(t, c, rc, bucketOwners(t, nodes[0]), 12)
	victim := pickVictim(t, nodes, byOwner)
	mine := func(a arrival) bool { return slices.Contains(byOwner[victim.id], a.endpoint) }
	const events = 400
	publishN(t, c, events)
	require.Eventually(t, func() bool {
		_, ok := rc.firstAfter(time.Time{}, mine)
		return ok
	}, 30*time.Second, 20*time.Millisecond, "the victim delivers")
	require.NotEmpty(t, leasedTo(t, dsn, victim.id), "the victim holds deliveries when it is stopped")

	stopped := time.Now()
	victim.signal(t, syscall.SIGTERM)
	exited := time.Now()
	require.Empty(t, leasedTo(t, dsn, victim.id), "no lease left under the stopped node")
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer db.Close(ctx)
	var members, buckets int
	require.NoError(t, db.QueryRow(ctx, `SELECT (SELECT count(*) FROM nodes WHERE id = $1), (SELECT count(*) FROM buckets WHERE node_id = $1)`,
		victim.id).Scan(&members, &buckets))
	require.Zero(t, members, "the stopped node left the cluster")
	require.Zero(t, buckets, "and gave its buckets up")

	var resumed time.Time
	require.Eventually(t, func() bool {
		var ok bool
		resumed, ok = rc.firstAfter(exited, mine)
		return ok
	}, 2*time.Second-time.Since(stopped), 10*time.Millisecond, "the stopped node's endpoints get deliveries from the others within 2 s")

	ids := allDeliveries(t, dsn)
	require.Len(t, ids, events*12)
	require.Eventually(t, func() bool { return rc.answeredAll(ids) }, 60*time.Second, 20*time.Millisecond, "nothing is lost")
	done := time.Now()
	answered, twice, cut := rc.tally()
	require.Zero(t, twice, "nothing is sent twice")
	require.Zero(t, cut)
	gap := rc.maxGap(stopped, mine)
	require.Less(t, gap, 2*time.Second, "the stopped node's endpoints went no 2 s without a delivery")
	t.Logf("SIGTERM of %s: exited %s after the signal; its endpoints had deliveries from the others %s after the signal (after the exit: %s), "+
		"the longest pause on them %s; all %d delivered %s after the signal, none twice",
		victim.id, exited.Sub(stopped).Round(10*time.Millisecond), resumed.Sub(stopped).Round(10*time.Millisecond),
		resumed.Sub(exited).Round(10*time.Millisecond), gap.Round(10*time.Millisecond), answered, done.Sub(stopped).Round(10*time.Millisecond))
}

// TestRestartOfTheOnlyNode SIGKILLs the only node while deliveries hang
// and starts it again on the same data dir (SQLite), or with no node_id
// set on the same PostgreSQL database and data dir, whose kept node id
// tells it the leases it finds were its own: the claimed deliveries
// resume as soon as it is ready, not when their leases (1 min) or its old
// name's membership (10 s) would expire.
func TestRestartOfTheOnlyNode(t *testing.T) {
	t.Parallel()
	bin := buildHookline(t)
	onStores(t, func(t *testing.T, db string, args []string) {
		rc := newFailoverReceiver(t, true, 0)
		p := startServe(t, bin, db, args...)
		c := p.client()
		ctx := context.Background()
		_, err := c.CreateEndpoint(ctx, client.EndpointCreate{URL: rc.URL + "/ep"})
		require.NoError(t, err)
		const events = 50
		publishN(t, c, events)
		require.Eventually(t, func() bool { return rc.heldAt([]string{"ep"}) == 10 }, 30*time.Second, 20*time.Millisecond)

		p.signal(t, syscall.SIGKILL)
		killed := time.Now()
		require.Eventually(t, func() bool { return rc.heldAt([]string{"ep"}) == 0 }, 10*time.Second, 5*time.Millisecond)
		rc.answer()
		again := startServe(t, bin, db, args...)
		ready := time.Now()
		c = again.client()
		var resumed time.Time
		require.Eventually(t, func() bool {
			var ok bool
			resumed, ok = rc.firstAfter(killed, func(arrival) bool { return true })
			return ok
		}, 30*time.Second, 10*time.Millisecond)
		require.Eventually(t, func() bool {
			page, err := c.ListDeliveries(ctx, client.DeliveryListOptions{Status: client.DeliverySucceeded, ListOptions: client.ListOptions{Limit: 1000}})
			return err == nil && len(page.Data) == events
		}, 5*time.Second, 10*time.Millisecond, "every delivery done within 5 s of the restart: the node took its leases back at once")
		done := time.Now()
		answered, twice, cut := rc.tally()
		require.Equal(t, events, answered, "nothing is lost")
		require.LessOrEqual(t, twice, cut, "only deliveries cut off in flight arrive twice")
		t.Logf("%s: kill -9 and restart: ready %s after the kill, first delivery %s after ready (%s after the kill), all %d %s after ready; %d twice (%d cut off)",
			db, ready.Sub(killed).Round(10*time.Millisecond), resumed.Sub(ready).Round(10*time.Millisecond),
			resumed.Sub(killed).Round(10*time.Millisecond), answered, done.Sub(ready).Round(10*time.Millisecond), twice, cut)
	})
}

// TestFrozenNodeCannotOverwrite freezes (SIGSTOP) one of two PostgreSQL
// nodes while its deliveries hang at the receiver, which then answers
// them 500 into the frozen process. The other node takes the frozen one
// for dead, delivers its work and records success. When the frozen node
// resumes, it reads the 500s and tries to record them as failures under
// leases that are no longer its own: the lease tokens refuse them, every
// delivery stays succeeded with the one successful attempt, and nothing is
// sent a third time.
func TestFrozenNodeCannotOverwrite(t *testing.T) {
	t.Parallel()
	bin := buildHookline(t)
	dsn := testkit.PostgresSchema(t)
	var mu sync.Mutex
	victimPaths := map[string]bool{}
	frozen := make(chan struct{})
	held, got := map[string]bool{}, map[string]int{}
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		path := strings.TrimPrefix(r.URL.Path, "/")
		mu.Lock()
		got[r.Header.Get("Hookline-Delivery-Id")]++
		hold := victimPaths[path]
		select {
		case <-frozen:
			hold = false // from now on it is the other node asking
		default:
		}
		if hold {
			held[r.Header.Get("Hookline-Delivery-Id")] = true
		}
		mu.Unlock()
		if hold {
			<-frozen
			w.WriteHeader(http.StatusInternalServerError) // into the frozen process
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)

	nodes := cluster(t, bin, dsn, 2)
	victim := nodes[1]
	t.Cleanup(func() { _ = victim.cmd.Process.Signal(syscall.SIGCONT) })
	c := nodes[0].client()
	ctx := context.Background()
	owners := bucketOwners(t, nodes[0])
	var victimIDs []string
	for i := 0; len(victimIDs) < 2; i++ {
		require.Less(t, i, 64, "endpoints for the victim")
		path := fmt.Sprintf("ep%d", i)
		mu.Lock()
		victimPaths[path] = true // set before any delivery can reach it
		mu.Unlock()
		ep, err := c.CreateEndpoint(ctx, client.EndpointCreate{URL: rc.URL + "/" + path})
		require.NoError(t, err)
		if owners[store.Bucket(ep.ID)] == victim.id {
			victimIDs = append(victimIDs, ep.ID)
		} else {
			mu.Lock()
			delete(victimPaths, path)
			mu.Unlock()
		}
	}
	const events = 30
	publishN(t, c, events)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(held) == 10*len(victimIDs)
	}, 30*time.Second, 20*time.Millisecond, "the victim's deliveries hang at the receiver")
	mu.Lock()
	inFlight := maps.Clone(held)
	mu.Unlock()

	require.NoError(t, victim.cmd.Process.Signal(syscall.SIGSTOP))
	frozeAt := time.Now()
	close(frozen)
	db, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer db.Close(ctx)
	count := func(q string) int {
		var n int
		require.NoError(t, db.QueryRow(ctx, q, victimIDs).Scan(&n))
		return n
	}
	require.Eventually(t, func() bool {
		return count(`SELECT count(*) FROM tasks WHERE destination_id = ANY($1) AND status = 'succeeded'`) == events*len(victimIDs)
	}, 30*time.Second, 50*time.Millisecond, "the other node delivers the frozen node's work")
	takenOver := time.Since(frozeAt)

	require.NoError(t, victim.cmd.Process.Signal(syscall.SIGCONT))
	require.Eventually(t, func() bool {
		return labelledValue(t, victim.url(), `hookline_stale_leases_total{op="complete"}`) >= float64(len(inFlight))
	}, 30*time.Second, 50*time.Millisecond, "the resumed node's late results are refused; logs: %s", victim.logs)
	require.Equal(t, events*len(victimIDs), count(`SELECT count(*) FROM tasks WHERE destination_id = ANY($1) AND status = 'succeeded'`),
		"every delivery stays succeeded")
	require.Zero(t, count(`SELECT count(*) FROM attempts a JOIN tasks t ON t.id = a.task_id WHERE t.destination_id = ANY($1) AND a.outcome <> 'success'`),
		"no late failure was recorded")
	require.Equal(t, events*len(victimIDs), count(`SELECT count(*) FROM attempts a JOIN tasks t ON t.id = a.task_id WHERE t.destination_id = ANY($1)`),
		"one attempt per delivery: the successful one")
	mu.Lock()
	defer mu.Unlock()
	for id := range inFlight {
		require.Equal(t, 2, got[id], "delivery %s: the frozen node's try and the other node's, no third", id)
	}
	t.Logf("SIGSTOP of %s with %d deliveries in flight: its work delivered by %s %s after the freeze; after SIGCONT its %d late results were refused",
		victim.id, len(inFlight), nodes[0].id, takenOver.Round(10*time.Millisecond), len(inFlight))
}

// labelledValue reads one metric sample, given with its labels, from a
// server's /metrics; -1 when it is missing.
func labelledValue(t *testing.T, base, sample string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), sample+" "); ok {
			var f float64
			_, err := fmt.Sscan(v, &f)
			require.NoError(t, err)
			return f
		}
	}
	return -1
}
