package engine_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hookline/hookline/internal/engine"
	"github.com/hookline/hookline/internal/event"
	"github.com/hookline/hookline/internal/store"
)

// memCluster keeps membership, bucket leases and announcements in memory,
// as PostgreSQL keeps them in its tables, on the clock of the bubble it
// runs in: the coordinator of nodes sharing one SQLite store.
type memCluster struct {
	store store.Store // whose task leases a reaped node loses

	mu        sync.Mutex
	nodes     map[string]store.Node
	owners    map[int]store.Ownership
	listeners map[chan string]bool
}

var _ store.Coordinator = (*memCluster)(nil)

func newMemCluster(s store.Store) *memCluster {
	return &memCluster{store: s, nodes: map[string]store.Node{}, owners: map[int]store.Ownership{},
		listeners: map[chan string]bool{}}
}

func (c *memCluster) Heartbeat(_ context.Context, n store.Node, ttl time.Duration) ([]store.Node, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	n.HeartbeatAt = now
	c.nodes[n.ID] = n
	var out []store.Node
	for _, x := range c.nodes {
		if now.Sub(x.HeartbeatAt) < ttl {
			out = append(out, x)
		}
	}
	return out, nil
}

func (c *memCluster) Reap(ctx context.Context, ttl time.Duration) ([]string, int, error) {
	c.mu.Lock()
	now := time.Now()
	var gone []string
	for id, x := range c.nodes {
		if now.Sub(x.HeartbeatAt) >= ttl {
			gone = append(gone, id)
			delete(c.nodes, id)
		}
	}
	for b, o := range c.owners {
		if slices.Contains(gone, o.NodeID) {
			delete(c.owners, b)
		}
	}
	c.mu.Unlock()
	released := 0
	for _, id := range gone {
		n, err := c.store.ReleaseLeases(ctx, id)
		if err != nil {
			return nil, 0, err
		}
		released += n
	}
	return gone, released, nil
}

func (c *memCluster) Leave(_ context.Context, nodeID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.nodes, nodeID)
	return nil
}

func (c *memCluster) Acquire(_ context.Context, nodeID string, buckets []int, lease time.Duration) ([]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for _, b := range buckets {
		if o, ok := c.owners[b]; !ok || o.NodeID == nodeID || !o.LeaseUntil.After(now) {
			c.owners[b] = store.Ownership{Bucket: b, NodeID: nodeID, LeaseUntil: now.Add(lease)}
		}
	}
	var held []int
	for b, o := range c.owners {
		if o.NodeID == nodeID && o.LeaseUntil.After(now) {
			held = append(held, b)
		}
	}
	slices.Sort(held)
	return held, nil
}

func (c *memCluster) Release(_ context.Context, nodeID string, buckets []int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range buckets {
		if c.owners[b].NodeID == nodeID {
			delete(c.owners, b)
		}
	}
	return nil
}

func (c *memCluster) Owners(context.Context) ([]store.Ownership, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []store.Ownership
	for _, o := range c.owners {
		out = append(out, o)
	}
	return out, nil
}

// Notify hands msg to every listener; like NOTIFY, one that is far
// behind may miss some (the engine's heartbeat and poll make up for it).
func (c *memCluster) Notify(_ context.Context, msg string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ch := range c.listeners {
		select {
		case ch <- msg:
		default:
		}
	}
	return nil
}

func (c *memCluster) Listen(ctx context.Context, fn func(string)) error {
	ch := make(chan string, 1024)
	c.mu.Lock()
	c.listeners[ch] = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.listeners, ch)
		c.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg := <-ch:
			fn(msg)
		}
	}
}

// bucketStore claims only the tasks of the buckets asked for, as the
// PostgreSQL store does and the SQLite one (single-node) does not, by
// excluding the destinations of the other buckets.
type bucketStore struct {
	store.Store
	dests []string
}

func (s bucketStore) ClaimTasks(ctx context.Context, c store.Claim) ([]store.Task, error) {
	if c.Buckets != nil {
		c.Exclude = slices.Clone(c.Exclude)
		for _, d := range s.dests {
			if !slices.Contains(c.Buckets, store.Bucket(d)) {
				c.Exclude = append(c.Exclude, d)
			}
		}
	}
	return s.Store.ClaimTasks(ctx, c)
}

// clusterReceiver is the destinations of a cluster test: it records what
// a cluster must guarantee (no task in flight twice at once, a
// destination's max_in_flight across nodes, first arrivals in order).
type clusterReceiver struct {
	mu       sync.Mutex
	running  map[string]int // by task id
	overlaps int
	inFlight map[string]int // by destination
	peak     map[string]int
	arrivals map[string][]string // destination → task ids, first arrival each
	seen     map[string]bool
	ranOn    map[string]map[string]bool // destination → nodes that ran its attempts
}

// nodeExecutor is the executor of one node.
type nodeExecutor struct {
	*clusterReceiver
	node string
}

func (x nodeExecutor) Execute(ctx context.Context, t *store.Task) engine.Outcome {
	return x.execute(ctx, t, x.node)
}

const (
	dstLimited = "dst_limited"
	dstOrdered = "dst_in_order"
	dstPlain   = "dst_plain"
)

// Route sends every event to the limited and the plain destination, and
// those of type "tenth" to the ordered one too.
func (rc *clusterReceiver) Route(_ context.Context, ev *event.Event) ([]engine.Target, error) {
	ts := []engine.Target{{Kind: testKind, DestinationID: dstLimited}, {Kind: testKind, DestinationID: dstPlain}}
	if ev.Type == "tenth" {
		ts = append(ts, engine.Target{Kind: testKind, DestinationID: dstOrdered})
	}
	return ts, nil
}

func (rc *clusterReceiver) Limits(_ context.Context, t *store.Task) engine.Limits {
	switch t.DestinationID {
	case dstLimited:
		return engine.Limits{MaxInFlight: 3}
	case dstOrdered:
		return engine.Limits{Ordered: true}
	}
	return engine.Limits{}
}

// execute takes 10 ms, so that attempts overlap in time, and succeeds.
func (rc *clusterReceiver) execute(ctx context.Context, t *store.Task, node string) engine.Outcome {
	d := t.DestinationID
	rc.mu.Lock()
	if rc.ranOn[d] == nil {
		rc.ranOn[d] = map[string]bool{}
	}
	rc.ranOn[d][node] = true
	rc.running[t.ID]++
	if rc.running[t.ID] > 1 {
		rc.overlaps++
	}
	rc.inFlight[d]++
	rc.peak[d] = max(rc.peak[d], rc.inFlight[d])
	if !rc.seen[t.ID] {
		rc.seen[t.ID] = true
		rc.arrivals[d] = append(rc.arrivals[d], t.ID)
	}
	rc.mu.Unlock()
	select {
	case <-time.After(10 * time.Millisecond):
	case <-ctx.Done():
	}
	rc.mu.Lock()
	rc.running[t.ID]--
	rc.inFlight[d]--
	rc.mu.Unlock()
	return engine.Outcome{}
}

// TestClusterOfThreeNodes runs three engines sharing one store, kills one
// mid-way and checks every task succeeds, none runs on two nodes at once,
// max_in_flight holds across nodes and the ordered destination receives
// its tasks in accept order; on virtual time, with the default heartbeat,
// bucket lease and task lease.
func TestClusterOfThreeNodes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		db := openStore(t)
		s := bucketStore{Store: db, dests: []string{dstLimited, dstOrdered, dstPlain}}
		coord := newMemCluster(db)
		rc := &clusterReceiver{running: map[string]int{}, inFlight: map[string]int{}, peak: map[string]int{},
			arrivals: map[string][]string{}, seen: map[string]bool{}, ranOn: map[string]map[string]bool{}}
		// Buckets go to nodes by index in the sorted ids: node-b, killed,
		// dispatches the limited and the ordered destination first.
		for _, d := range []string{dstLimited, dstOrdered} {
			require.Equal(t, 1, store.Bucket(d)%3, "%s is node-b's", d)
		}
		start := time.Now()
		var nodes []*engine.Engine
		for _, id := range []string{"node-a", "node-b", "node-c"} {
			e, err := engine.New(engine.Config{Store: s, Executors: map[string]engine.Executor{testKind: nodeExecutor{rc, id}},
				Routers: []engine.Router{rc}, Rand: func() float64 { return 0.5 }, PollInterval: testPoll,
				Cluster: &engine.ClusterConfig{Coordinator: coord, NodeID: id}})
			require.NoError(t, err)
			require.NoError(t, e.Start(t.Context()))
			t.Cleanup(func() { require.NoError(t, e.Stop(context.Background())) })
			nodes = append(nodes, e)
		}
		// Wait for every node to hold its share of the buckets.
		for balanced := false; !balanced; {
			require.Less(t, time.Since(start), 5*engine.DefaultHeartbeat, "the buckets were spread over the nodes")
			time.Sleep(engine.DefaultHeartbeat / 4)
			synctest.Wait()
			owners, err := coord.Owners(t.Context())
			require.NoError(t, err)
			held := map[string]int{}
			for _, o := range owners {
				held[o.NodeID]++
			}
			balanced = len(owners) == store.NumBuckets && held["node-a"] > 0 && held["node-b"] > 0 && held["node-c"] > 0
		}

		const total, batch = 1000, 50
		var published []string
		var ordered []string // event ids of the ordered destination, in accept order
		killed := false
		for i := 0; i < total; i += batch {
			via := nodes[(i/batch)%3]
			if killed && via == nodes[1] {
				via = nodes[0]
			}
			evs := make([]event.Event, batch)
			for j := range evs {
				typ := "all"
				if (i+j)%10 == 0 {
					typ = "tenth"
				}
				evs[j] = newEvent(typ)
				published = append(published, evs[j].ID)
				if typ == "tenth" {
					ordered = append(ordered, evs[j].ID)
				}
			}
			_, err := via.Publish(t.Context(), evs)
			require.NoError(t, err)
			time.Sleep(100 * time.Millisecond) // deliveries overlap the publishes
			if i == total/2 {
				nodes[1].Kill() // a crash, mid-way
				killed = true
			}
		}
		// The killed node is found dead within a bucket lease and a
		// heartbeat; everything is delivered well within a minute after.
		time.Sleep(time.Minute)
		synctest.Wait()

		byEvent := map[string]string{} // ordered destination: event id → task id
		tasks, unfinished := 0, 0
		for _, id := range published {
			ts, err := db.ListTasks(t.Context(), testTenant, store.TaskQuery{EventID: id})
			require.NoError(t, err)
			for _, task := range ts {
				tasks++
				if task.Status != store.StatusSucceeded {
					unfinished++
				}
				if task.DestinationID == dstOrdered {
					byEvent[task.EventID] = task.ID
				}
			}
		}
		require.Equal(t, 2*total+total/10, tasks)
		require.Zero(t, unfinished, "every task succeeded")
		rc.mu.Lock()
		defer rc.mu.Unlock()
		for _, d := range []string{dstLimited, dstOrdered} {
			require.True(t, rc.ranOn[d]["node-b"], "%s ran on node-b before the kill", d)
			require.Len(t, rc.ranOn[d], 2, "%s moved to one other node after the kill", d)
		}
		require.Zero(t, rc.overlaps, "no task was in flight twice at once")
		require.Equal(t, 3, rc.peak[dstLimited], "max_in_flight holds across nodes, and is used")
		require.Equal(t, 1, rc.peak[dstOrdered], "an ordered destination has one attempt in flight")
		want := make([]string, len(ordered))
		for i, id := range ordered {
			want[i] = byEvent[id]
		}
		require.Equal(t, want, rc.arrivals[dstOrdered], "the ordered destination received its tasks in accept order")
	})
}
